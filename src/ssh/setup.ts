import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { writeFileAtomic } from '../agents/devhome.js';
import type { AgentPaths } from '../agents/layout.js';
import type { SshConfig } from '../config/sections.js';
import { DevkitError } from '../errors.js';
import { git } from '../git/git.js';
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

/**
 * Agent K's SSH identity in its HOME: an ed25519 key made once and kept
 * (0600), the devkit block of .ssh/config (Host alias -> HostName, port,
 * ProxyCommand through the egress proxy, this key only), and core.sshCommand
 * in the HOME's .gitconfig. Run again, it changes nothing.
 */
export async function setUpSsh(agent: AgentPaths, ssh: SshConfig, repo: string): Promise<SshSetupResult> {
  const sshDir = path.join(agent.devhome, '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  chmodSync(sshDir, 0o700);
  const keyFile = path.join(sshDir, 'id_ed25519');
  const keyCreated = !existsSync(keyFile);
  if (keyCreated) {
    const made = await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `devkit ${agent.name}@${repo}`, '-f', keyFile], { reject: false, stdin: 'ignore' }).catch(() => null);
    if (made === null || made.exitCode !== 0) throw new DevkitError(`ssh-keygen could not make ${keyFile}${made === null ? ': is openssh-client installed?' : `: ${made.stderr}`}`);
  }
  chmodSync(keyFile, 0o600);

  const configFile = path.join(sshDir, 'config');
  const block = renderText('ssh/config.hbs', { index: agent.index, ...ssh });
  const current = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
  const next = BLOCK.test(current) ? current.replace(BLOCK, block) : `${block}${current === '' ? '' : `\n${current}`}`;
  const configChanged = next !== current;
  if (configChanged) writeFileAtomic(configFile, next, 0o600);

  const gitconfig = path.join(agent.devhome, '.gitconfig');
  const currentCommand = existsSync(gitconfig) ? (await git(['config', '--file', gitconfig, '--default', '', '--get', 'core.sshCommand'], { cwd: agent.devhome })).trim() : '';
  if (currentCommand !== SSH_COMMAND) {
    await git(['config', '--file', gitconfig, 'core.sshCommand', SSH_COMMAND], { cwd: agent.devhome });
  }
  return {
    index: agent.index,
    keyCreated,
    configChanged: configChanged || currentCommand !== SSH_COMMAND,
    publicKey: readFileSync(`${keyFile}.pub`, 'utf8').trim(),
    privateKeyFile: keyFile,
  };
}
