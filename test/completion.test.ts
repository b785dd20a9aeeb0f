import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DEVKIT_BIN, devkit, tempDir } from './support/sandbox.js';

/** What bash's completion offers for a command line, with the script devkit printed loaded. */
async function complete(line: string): Promise<string[]> {
  const script = `eval "$(${DEVKIT_BIN} completion bash)"
COMP_WORDS=($LINE); [ "\${LINE: -1}" = " " ] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _devkit; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await execa('bash', ['-c', script], { env: { LINE: line }, cwd: tempDir('completion') });
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

  it('zsh gets the same completion through bashcompinit', async () => {
    const zsh = await devkit(['completion', 'zsh'], { cwd: tempDir('completion') });
    expect(zsh.exitCode).toBe(0);
    expect(zsh.stdout).toMatch(/^autoload -U \+X bashcompinit && bashcompinit$/m);
    expect(zsh.stdout).toMatch(/^complete -F _devkit devkit$/m);
    expect(
      (
        await execa('bash', ['-n'], {
          input: zsh.stdout
            .split('\n')
            .filter((l) => !l.startsWith('autoload'))
            .join('\n'),
        })
      ).exitCode,
    ).toBe(0);
  });

  it('an unknown shell: exit 2, one line', async () => {
    const result = await devkit(['completion', 'fish'], { cwd: tempDir('completion') });
    expect(result).toMatchObject({ exitCode: 2, stdout: '', stderr: 'devkit: no completion for shell "fish": use bash or zsh' });
  });
});
