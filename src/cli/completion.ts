// `vws completion bash`: a bash completion script written from the command tree itself, so it
// knows every command and option there is and cannot drift from them.

import type { Command, Option } from 'commander';
import { commandPath } from './values.ts';

interface Node {
  path: string;
  subs: string[];
  options: string[];
  /** Options that take a value: the word after them is not a command. */
  valued: string[];
  choices: Array<[string, string[]]>;
}

function nodes(cmd: Command, inherited: readonly Option[]): Node[] {
  const options = [...cmd.options, ...inherited];
  const flags = options.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const valued = options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const subs = cmd.commands.map((c) => c.name());
  const node: Node = {
    path: commandPath(cmd),
    subs: cmd.parent ? subs : [...subs, 'help'],
    options: [...flags, '--help'],
    valued,
    choices: options.filter((o) => o.argChoices).map((o) => [o.long!, o.argChoices!]),
  };
  const globals = cmd.parent ? inherited : cmd.options;
  return [node, ...cmd.commands.flatMap((c) => nodes(c, globals))];
}

const words = (list: string[]): string => `'${list.join(' ')}'`;

export function bashCompletion(program: Command): string {
  const tree = nodes(program, []);
  const cases = tree.map((n) => `    ${words([n.path])}) subs=${words(n.subs)}; opts=${words(n.options)}; valued=${words(n.valued)} ;;`);
  const choices = tree.flatMap((n) => n.choices.map(([flag, values]) => `    ${words([`${n.path} ${flag}`.trim()])}) echo ${words(values)} ;;`));
  return `# bash completion for vws: eval "$(vws completion bash)" in ~/.bashrc, or save it as
# /etc/bash_completion.d/vws. Written by ${program.version()} from its command tree.
_vws_node() {
  case "$1" in
${cases.join('\n')}
  esac
}
_vws_choices() {
  case "$1" in
${choices.join('\n')}
  esac
}
_vws() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path='' w i skip='' subs opts valued
  _vws_node ''
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ -n $skip ]]; then skip=''; continue; fi
    if [[ $w == -* ]]; then
      [[ " $valued " == *" $w "* ]] && skip=1
      continue
    fi
    if [[ " $subs " == *" $w "* ]]; then
      path=\${path:+$path }$w
      _vws_node "$path"
    fi
  done
  COMPREPLY=()
  if [[ -n $skip ]]; then
    # The value of an option: its choices if it has some, else bash's own (file names).
    local choices
    choices=$(_vws_choices "\${path:+$path }$prev")
    [[ -n $choices ]] && COMPREPLY=($(compgen -W "$choices" -- "$cur"))
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
}
complete -o default -F _vws vws
`;
}
