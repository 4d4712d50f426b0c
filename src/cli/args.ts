// Argument parsing every command shares: a commander Command that fails as
// one usage line (exit 2), and the value parsers for its options.
import { Command, CommanderError } from 'commander';
import { UsageError } from '../stack/errors.js';

/**
 * A commander Command for `sockit <name>`: parse errors become UsageError
 * (one line, exit 2) instead of commander's own exit; -h and --help show
 * the help, and the usage line starts with `sockit`.
 */
export function makeCommand(name: string, { shortHelp = true } = {}): Command {
  const cmd = new Command(`sockit ${name}`);
  cmd
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true)
    .helpOption(shortHelp ? '-h, --help' : '--help', 'display help for command');
  return cmd;
}

let tables: Command[] | null = null;

/**
 * The option tables of a command, for completions: runs it with every
 * parseArgs given its Command (recorded, not parsed) returning false, as
 * after --help, so the command returns before doing anything.
 */
export async function optionTables(run: () => Promise<unknown>): Promise<Command[]> {
  tables = [];
  try {
    await run();
    return tables;
  } finally {
    tables = null;
  }
}

/** Whether optionTables is running a command (a command with modes then runs each). */
export function readingTables(): boolean {
  return tables !== null;
}

/** Parse argv with a command from makeCommand; returns false when help/version was shown. */
export function parseArgs(cmd: Command, argv: string[]): boolean {
  if (tables) {
    tables.push(cmd);
    return false;
  }
  try {
    cmd.parse(argv, { from: 'user' });
    return true;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return false;
      throw new UsageError(e.message.replace(/^error: /, '').split('\n')[0]!);
    }
    throw e;
  }
}

/**
 * -4 / -6 as an address family (0: either). Giving both is a usage error,
 * worded as the command's anchor tool words it.
 */
export function familyFlag(o: { '4'?: boolean; '6'?: boolean }, conflict: string): 0 | 4 | 6 {
  if (o['4'] && o['6']) throw new UsageError(conflict);
  return o['4'] ? 4 : o['6'] ? 6 : 0;
}

/**
 * Integer option parser for commander: rejects '3x', '-1' when min > -1, and
 * so on. `max` may be given as text when it is beyond a double (LONG_MAX).
 */
export function intArg(what: string, min: number, max: number | string) {
  return (v: string): number => {
    if (!/^[-+]?\d+$/.test(v.trim())) throw new UsageError(`invalid ${what}: '${v}'`);
    const n = Number(v);
    if (n < min || n > Number(max)) throw new UsageError(`invalid ${what}: '${v}': out of range: ${min} <= value <= ${max}`);
    return n;
  };
}

/** Seconds option parser for commander ("5", "0.5"), returned in ms. */
export function secondsArg(what: string, min: number, max: number) {
  return (v: string): number => {
    if (!/^\+?(\d+\.?\d*|\.\d+)$/.test(v.trim())) throw new UsageError(`invalid ${what}: '${v}'`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`invalid ${what}: '${v}': out of range: ${min} <= value <= ${max}`);
    return Math.round(n * 1000);
  };
}
