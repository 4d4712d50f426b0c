// Shell completions for bash, zsh and fish, written from the commands' own
// option tables (the commander Commands their parseArgs is given), so a new
// option or command completes with no edit here.
import type { Command } from 'commander';

export interface OptionSpec {
  /** '-c', '--count': either may be missing */
  short?: string;
  long?: string;
  /** whether a value follows the flag */
  value: boolean;
  choices?: string[];
  /** what the value is, from its name in the flags ('-r <file>'): completed as such */
  kind?: 'file' | 'interface';
  description: string;
}

export interface CommandSpec {
  name: string;
  aliases: string[];
  summary: string;
  options: OptionSpec[];
  /** `sockit echo server|client`: the words and each one's options */
  modes: { name: string; options: OptionSpec[] }[];
}

/** A Command's options as completions see them, help option included. */
export function optionSpecs(cmd: Command): OptionSpec[] {
  return cmd
    .createHelp()
    .visibleOptions(cmd)
    .map((o) => ({
      short: o.short,
      long: o.long,
      value: o.required || o.optional,
      choices: o.argChoices,
      kind: kindOf(/[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1]),
      description: o.description.split('\n')[0]!,
    }));
}

function kindOf(name: string | undefined): OptionSpec['kind'] {
  if (name === undefined) return undefined;
  if (/file|path|dir/i.test(name)) return 'file';
  if (/interface|iface|device|^dev$/i.test(name)) return 'interface';
  return undefined;
}

/** The command's tables: one is the command itself; more are its modes (`sockit echo server`). */
export function commandSpec(entry: { name: string; aliases?: string[]; summary: string }, tables: Command[]): CommandSpec {
  const spec: CommandSpec = { name: entry.name, aliases: entry.aliases ?? [], summary: entry.summary, options: [], modes: [] };
  for (const t of tables) {
    const words = t.name().split(' '); // 'sockit echo server'
    if (words.length > 2) spec.modes.push({ name: words.at(-1)!, options: optionSpecs(t) });
    else spec.options.push(...optionSpecs(t));
  }
  return spec;
}

const flags = (opts: OptionSpec[]) => opts.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
const sq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

// ---------- bash ----------

function bashCase(pattern: string, opts: OptionSpec[], words: string[]): string {
  const takes = opts.filter((o) => o.value);
  const prev = takes.map((o) => {
    const list = flags([o]).join('|');
    const reply = o.choices
      ? `$(compgen -W ${sq(o.choices.join(' '))} -- "$cur")`
      : o.kind === 'file'
        ? '$(compgen -f -- "$cur")'
        : o.kind === 'interface'
          ? '$(compgen -W "$(ls /sys/class/net)" -- "$cur")'
          : '';
    return `      ${list}) COMPREPLY=(${reply}); return ;;`;
  });
  return [
    `    ${pattern})`,
    ...(prev.length ? ['      case $prev in', ...prev.map((l) => `  ${l}`), '      esac'] : []),
    `      opts=${sq(flags(opts).join(' '))}`,
    words.length ? `      words=${sq(words.join(' '))}` : '      words=',
    '      ;;',
  ].join('\n');
}

export function bash(specs: CommandSpec[], top: string[]): string {
  const cases: string[] = [];
  for (const c of specs) {
    const names = [c.name, ...c.aliases];
    const pattern = (mode: string) => names.map((n) => `${n}:${mode}`).join('|');
    if (c.modes.length) {
      cases.push(
        bashCase(
          pattern(''),
          c.options,
          c.modes.map((m) => m.name),
        ),
      );
      for (const m of c.modes) cases.push(bashCase(pattern(m.name), m.options, []));
    } else {
      cases.push(bashCase(pattern('*'), c.options, []));
    }
  }
  const all = specs.flatMap((c) => [c.name, ...c.aliases]);
  return `# sockit completion for bash: source this file, or put it in
# ~/.local/share/bash-completion/completions/sockit
_sockit() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local opts words mode=
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${sq([...all, 'help', ...top].join(' '))} -- "$cur"))
    return
  fi
  local cmd=\${COMP_WORDS[1]}
  if [ "$cmd" = help ]; then
    [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W ${sq(all.join(' '))} -- "$cur"))
    return
  fi
  [ "$COMP_CWORD" -gt 2 ] && mode=\${COMP_WORDS[2]}
  case $cmd:$mode in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ -n "$words" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -A hostname -- "$cur"))
  fi
}
complete -o default -F _sockit sockit
`;
}

// ---------- zsh ----------

const zq = (s: string) => s.replace(/[[\]:\\]/g, '\\$&').replaceAll("'", "'\\''");

function zshSpecs(opts: OptionSpec[]): string[] {
  return opts.map((o) => {
    const fl = flags([o]);
    const name = fl.length > 1 ? `{${fl.join(',')}}` : fl[0]!;
    const excl = fl.length > 1 ? `'(${fl.join(' ')})'` : '';
    const action = o.choices ? `(${o.choices.join(' ')})` : o.kind === 'file' ? '_files' : o.kind === 'interface' ? '_net_interfaces' : ' ';
    const value = o.value ? `:${zq(o.long?.slice(2) ?? 'value')}:${action}` : '';
    return `${excl}${name}'[${zq(o.description)}]${value}'`;
  });
}

function zshArgs(opts: OptionSpec[], rest: string): string {
  return `_arguments -s ${[...zshSpecs(opts), rest].join(' \\\n        ')}`;
}

export function zsh(specs: CommandSpec[], top: string[]): string {
  const list = [...specs.flatMap((c) => [c.name, ...c.aliases].map((n) => `'${zq(n)}:${zq(c.summary)}'`)), "'help:display help for a command'"];
  const cases = specs.map((c) => {
    const names = [c.name, ...c.aliases].join('|');
    if (!c.modes.length) return `    (${names})\n      ${zshArgs(c.options, "'*:host:_hosts'")} ;;`;
    const modes = c.modes.map((m) => `        (${m.name}) ${zshArgs(m.options, "'*:host:_hosts'")} ;;`).join('\n');
    return `    (${names})\n      if (( CURRENT == 2 )); then\n        _values mode ${c.modes.map((m) => sq(m.name)).join(' ')}\n      else\n      shift words; (( CURRENT-- ))\n      case $words[1] in\n${modes}\n      esac\n      fi ;;`;
  });
  return `#compdef sockit
# sockit completion for zsh: put this file as _sockit in a directory of $fpath
# (before compinit runs), or source it after compinit
_sockit() {
  if (( CURRENT == 2 )); then
    local -a cmds
    cmds=(${list.join(' ')})
    _describe command cmds
    compadd -- ${top.join(' ')}
    return
  fi
  shift words; (( CURRENT-- ))
  case $words[1] in
    (help) (( CURRENT == 2 )) && compadd -- ${specs.flatMap((c) => [c.name, ...c.aliases]).join(' ')} ;;
${cases.join('\n')}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _sockit "$@"
else
  compdef _sockit sockit
fi
`;
}

// ---------- fish ----------

function fishOptions(cond: string, opts: OptionSpec[]): string[] {
  return opts.map((o) => {
    const parts = ['complete -c sockit', `-n ${sq(cond)}`];
    for (const f of flags([o])) parts.push(f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
    if (o.choices) parts.push(`-x -a ${sq(o.choices.join(' '))}`);
    else if (o.kind === 'file') parts.push('-r -F');
    else if (o.kind === 'interface') parts.push("-x -a '(__fish_print_interfaces)'");
    else if (o.value) parts.push('-x');
    parts.push(`-d ${sq(o.description)}`);
    return parts.join(' ');
  });
}

export function fish(specs: CommandSpec[], top: string[]): string {
  const all = specs.flatMap((c) => [c.name, ...c.aliases]);
  const lines = [
    '# sockit completion for fish: put this file as ~/.config/fish/completions/sockit.fish',
    'complete -c sockit -f',
    ...specs.flatMap((c) => [c.name, ...c.aliases].map((n) => `complete -c sockit -n __fish_use_subcommand -a ${n} -d ${sq(c.summary)}`)),
    `complete -c sockit -n __fish_use_subcommand -a help -d 'display help for a command'`,
    ...top.map((t) => `complete -c sockit -n __fish_use_subcommand -a ${sq(t)}`),
    `complete -c sockit -n '__fish_seen_subcommand_from help' -a ${sq(all.join(' '))}`,
  ];
  for (const c of specs) {
    const seen = `__fish_seen_subcommand_from ${[c.name, ...c.aliases].join(' ')}`;
    if (!c.modes.length) {
      lines.push(...fishOptions(seen, c.options), `complete -c sockit -n ${sq(seen)} -a '(__fish_print_hostnames)'`);
      continue;
    }
    const modes = c.modes.map((m) => m.name).join(' ');
    lines.push(`complete -c sockit -n ${sq(`${seen}; and not __fish_seen_subcommand_from ${modes}`)} -a ${sq(modes)}`);
    for (const m of c.modes) {
      const cond = `${seen}; and __fish_seen_subcommand_from ${m.name}`;
      lines.push(...fishOptions(cond, m.options), `complete -c sockit -n ${sq(cond)} -a '(__fish_print_hostnames)'`);
    }
  }
  return `${lines.join('\n')}\n`;
}
