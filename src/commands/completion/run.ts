import type { Command } from 'commander';
import type { CommandContext } from '../../cli/context.js';
import { UsageError } from '../../errors.js';

function optionsOf(command: Command): string[] {
  return [
    ...command.options.flatMap((option) => [option.short, option.long].filter((flag): flag is string => flag !== undefined)),
    '--help',
  ];
}

/** A case arm: the words to offer after `path`, as a bash case label and a word list. */
function arms(command: Command, path: string[]): Array<[string, string[]]> {
  const children = command.commands.filter((child) => child.name() !== 'help');
  const here: [string, string[]] = [path.join(' '), [...children.map((child) => child.name()), ...optionsOf(command)]];
  return [here, ...children.flatMap((child) => arms(child, [...path, child.name()]))];
}

/**
 * A bash completion function built from the command tree, so it never drifts
 * from the commands: commands, subcommands and options by position, and
 * profiles (dev-all and the workspace's agent overlays) after -p.
 */
function bashScript(program: Command): string {
  const all = arms(program, []);
  const cases = all.map(([path, words]) => `    "${path}") offer="${words.join(' ')}" ;;`).join('\n');
  const known = all.map(([path]) => path).join('|');
  // zsh runs this through bashcompinit, where `path` is its PATH array and `words` its command line: neither is used as a name here.
  return `# devkit completion for bash: eval "$(devkit completion bash)"
_devkit() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} command_path="" offer="" i next
  local known="|${known}|"
  if [ "$prev" = "-p" ] || [ "$prev" = "--profile" ]; then
    COMPREPLY=( $(compgen -W "dev-all $(cd overlays 2>/dev/null && ls -d agent* 2>/dev/null)" -- "$cur") )
    return
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -p|--profile) ((i++)) ;;
      -*) ;;
      *) # a word that extends a command path; anything else is an argument
        next="\${command_path:+$command_path }\${COMP_WORDS[i]}"
        case "$known" in *"|$next|"*) command_path=$next ;; esac ;;
    esac
  done
  case "$command_path" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$offer" -- "$cur") )
}
complete -F _devkit devkit
`;
}

export function completionScript(program: Command, shell: string): string {
  if (shell === 'bash') return bashScript(program);
  if (shell === 'zsh') {
    const header = '# devkit completion for zsh: eval "$(devkit completion zsh)"\n';
    return `${header}autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(program)}`;
  }
  throw new UsageError(`no completion for shell ${JSON.stringify(shell)}: use bash or zsh`);
}

export async function run(flags: { shell: string; program: Command }, context: CommandContext): Promise<number> {
  context.io.out(completionScript(flags.program, flags.shell).trimEnd());
  return 0;
}
