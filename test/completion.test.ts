import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DEVKIT_BIN, devkit, expectRefused, tempDir } from './support/sandbox.js';

/** What bash's completion offers for a command line, with the script devkit printed loaded. */
async function complete(line: string): Promise<string[]> {
  const script = `eval "$(${DEVKIT_BIN} completion bash)"
COMP_WORDS=($LINE); [ "\${LINE: -1}" = " " ] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _devkit; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await execa('bash', ['-c', script], { env: { LINE: line }, cwd: tempDir('completion') });
  return result.stdout.split('\n').filter(Boolean);
}

/**
 * What zsh offers for a command line with the zsh script loaded: zsh's
 * bashcompinit calls the function the way _bash_complete does (COMP_WORDS
 * from zsh's words, COMP_CWORD = CURRENT - 1, through its compgen -F), and
 * zsh's compadd then keeps the words that start with the current one.
 */
async function zshComplete(line: string, cwd: string): Promise<string[]> {
  const script = `eval "$(${DEVKIT_BIN} completion zsh)"
local -a words; words=( \${(z)LINE} ); [[ $LINE == *' ' ]] && words+=( '' )
local CURRENT=\${#words}
local -a COMP_WORDS; local COMP_CWORD
COMP_WORDS=( "\${words[@]}" ); (( COMP_CWORD = CURRENT - 1 ))
local -a offered; offered=( \${(f)"$(compgen -F _devkit -- "\${words[CURRENT]}")"} )
print -rl -- \${(M)offered:#\${words[CURRENT]}*}`;
  const result = await execa('zsh', ['-f', '-c', `() { ${script} }`], { env: { LINE: line, PATH: process.env.PATH ?? '' }, cwd });
  return result.stdout.split('\n').filter(Boolean);
}

describe('devkit completion', () => {
  it('bash completes commands, subcommands, options after arguments, and profiles', async () => {
    expect(await complete('devkit wor')).toEqual(['worktrees']);
    expect(await complete('devkit worktrees re')).toEqual(['remove']);
    expect(await complete('devkit worktrees remove 2 --')).toEqual(['--force', '--delete-branch', '--json', '--help']);
    expect(await complete('devkit -p ')).toEqual(['dev-all']);
    expect(await complete('devkit -p agent2 exec')).toEqual(['exec-cd']);
    expect(await complete('devkit policy allow x --a')).toEqual(['--agent']);
  });

  it('zsh completes the same, run by zsh through bashcompinit as its completion system calls it', async () => {
    const cwd = tempDir('completion');
    for (const agent of ['agent2', 'agent3']) mkdirSync(path.join(cwd, 'overlays', agent), { recursive: true });
    expect(await zshComplete('devkit wor', cwd)).toEqual(['worktrees']);
    expect(await zshComplete('devkit worktrees remove 2 --', cwd)).toEqual(['--force', '--delete-branch', '--json', '--help']);
    // The profiles come from the workspace's overlays: ls must still be found inside the completion function.
    expect(await zshComplete('devkit -p ', cwd)).toEqual(['dev-all', 'agent2', 'agent3']);
    expect(await zshComplete('devkit -p agent2 exec', cwd)).toEqual(['exec-cd']);
  });

  it('an unknown shell: exit 2, one line', async () => {
    const result = await devkit(['completion', 'fish'], { cwd: tempDir('completion') });
    expectRefused(result, /^devkit: no completion for shell "fish": use bash or zsh$/);
  });
});
