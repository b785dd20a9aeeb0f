import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SshConfig } from '../config/sections.js';
import { DevkitError, oneLine } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import type { AgentPaths } from '../fleet/layout.js';
import { ownerToSet } from '../fleet/owner.js';
import { chmodFileIn, createFileIn, openDirIn, openSafeDir, readTextIn, setDirOwner, writeFileIn, type SafeDir } from '../fs/safe.js';
import { Git } from '../git/git.js';
import { renderText } from '../templates.js';

export interface SshSetupResult {
  index: number;
  keyCreated: boolean;
  configChanged: boolean;
  publicKey: string;
  privateKeyFile: string;
}

const BLOCK = /# >>> devkit:[^\n]*\n[\s\S]*?# <<< devkit\n?/;

/** The SSH command git uses in every container profile: this HOME's own config, never the passwd home's. */
export const SSH_COMMAND = 'ssh -F "$HOME/.ssh/config"';

/** A scratch folder in devkit's state, removed after `body`: keys and configs are made there, never in a HOME. */
async function withScratch<T>(fleet: Fleet, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(fleet.state.tmpDir, 'ssh-'));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * ssh-keygen never asks anything: no passphrase (-P '' for reading, -N '' for
 * making), no terminal (a session of its own, no stdin). A key an agent
 * protected with a passphrase is an error, not a prompt on the user's
 * terminal while devkit holds the lock.
 */
function sshKeygen(args: readonly string[]) {
  return execa('ssh-keygen', args, { reject: false, stdin: 'ignore', detached: true });
}

/**
 * The public key devkit prints and writes: derived from the private key by
 * ssh-keygen (the agent's .pub file and the key's own comment are the agent's
 * words), its type and key only, with devkit's comment.
 */
function publicKeyLine(derived: string, agent: AgentPaths, repo: string): string {
  const found = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-[a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})(?: |$)/.exec(derived);
  if (found === null) throw new DevkitError(`${agent.name}'s key is not one ssh-keygen reads as an SSH key`);
  return `${found[1] ?? ''} ${found[2] ?? ''} devkit ${agent.name}@${repo}`;
}

/** The key pair: kept when there, else made with ssh-keygen in the scratch folder and put in place. */
async function ensureKey(fleet: Fleet, ssh: SafeDir, agent: AgentPaths, repo: string): Promise<{ created: boolean; publicKey: string }> {
  const owner = ownerToSet();
  const existing = readTextIn(ssh, 'id_ed25519', 64 * 1024);
  if (existing !== null) chmodFileIn(ssh, 'id_ed25519', 0o600);
  return withScratch(fleet, async (scratch) => {
    const keyFile = path.join(scratch, 'id_ed25519');
    if (existing === null) {
      const made = await sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', `devkit ${agent.name}@${repo}`, '-f', keyFile]).catch(
        () => null,
      );
      if (made === null || made.exitCode !== 0)
        throw new DevkitError(
          `ssh-keygen could not make a key for ${agent.name}${made === null ? ': is openssh-client installed?' : `: ${made.stderr}`}`,
        );
    } else {
      writeFileSync(keyFile, existing, { mode: 0o600 });
    }
    const derived = await sshKeygen(['-y', '-P', '', '-f', keyFile]);
    if (derived.exitCode !== 0) {
      throw new DevkitError(
        `${agent.name}'s key ${path.join(ssh.path, 'id_ed25519')} is unreadable to ssh-keygen without a passphrase ` +
          `(${oneLine(derived.stderr) || `exit ${derived.exitCode}`}): move it away and run devkit ssh-setup again to make a new one`,
      );
    }
    const publicKey = publicKeyLine(derived.stdout, agent, repo);
    if (existing === null && !createFileIn(ssh, 'id_ed25519', readFileSync(keyFile), { mode: 0o600, owner })) {
      throw new DevkitError(`${path.join(ssh.path, 'id_ed25519')} appeared while devkit made it: run devkit ssh-setup again`);
    }
    if (readTextIn(ssh, 'id_ed25519.pub', 64 * 1024) !== `${publicKey}\n`)
      writeFileIn(ssh, 'id_ed25519.pub', `${publicKey}\n`, { mode: 0o644, owner });
    return { created: existing === null, publicKey };
  });
}

/** core.sshCommand in the HOME's .gitconfig, edited by git on a scratch copy and put back; true when it changed. */
async function ensureSshCommand(fleet: Fleet, home: SafeDir): Promise<boolean> {
  const current = readTextIn(home, '.gitconfig', 1024 * 1024) ?? '';
  return withScratch(fleet, async (scratch) => {
    const file = path.join(scratch, 'gitconfig');
    writeFileSync(file, current);
    const git = new Git(fleet.git, scratch);
    const now = (await git.result(['config', '--file', file, '--get', 'core.sshCommand'])).stdout.trim();
    if (now === SSH_COMMAND) return false;
    await git.run(['config', '--file', file, 'core.sshCommand', SSH_COMMAND]);
    writeFileIn(home, '.gitconfig', readFileSync(file), { mode: 0o644, owner: ownerToSet() });
    return true;
  });
}

/**
 * Agent K's SSH identity in its HOME: an ed25519 key made once and kept
 * (0600), the devkit block of .ssh/config (Host alias -> HostName, port,
 * ProxyCommand through the egress proxy, this key only), and core.sshCommand
 * in the HOME's .gitconfig. Run again, it changes nothing. The HOME is the
 * agent's: every file is read and written through safe.ts, so a link planted
 * there is refused and named, never followed.
 */
export async function setUpSsh(fleet: Fleet, agent: AgentPaths, ssh: SshConfig): Promise<SshSetupResult> {
  const home = openSafeDir(fleet.config.root, agent.rel.devhome);
  if (home === null) throw new DevkitError(`${agent.name}'s HOME ${agent.devhome} is missing: run devkit worktrees init ${agent.index}`);
  try {
    const sshDir = openDirIn(home, '.ssh', { create: { mode: 0o700 } });
    if (sshDir === null) throw new DevkitError(`cannot make ${path.join(agent.devhome, '.ssh')}`);
    try {
      setDirOwner(sshDir, ownerToSet(), 0o700);
      const key = await ensureKey(fleet, sshDir, agent, fleet.config.repo);
      const block = renderText('ssh/config.hbs', { index: agent.index, ...ssh });
      const current = readTextIn(sshDir, 'config', 1024 * 1024) ?? '';
      const next = BLOCK.test(current) ? current.replace(BLOCK, block) : `${block}${current === '' ? '' : `\n${current}`}`;
      if (next !== current) writeFileIn(sshDir, 'config', next, { mode: 0o600, owner: ownerToSet() });
      const commandChanged = await ensureSshCommand(fleet, home);
      return {
        index: agent.index,
        keyCreated: key.created,
        configChanged: next !== current || commandChanged,
        publicKey: key.publicKey,
        privateKeyFile: path.join(agent.devhome, '.ssh', 'id_ed25519'),
      };
    } finally {
      sshDir.close();
    }
  } finally {
    home.close();
  }
}
