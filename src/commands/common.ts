// What every command shares: one-line usage errors with exit 2, JSON lines,
// colour only on a TTY (NO_COLOR honoured), and a commander set up to fail
// the same way.
import type { ChalkInstance } from 'chalk';
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { native } from '../stack/native/index.js';

/** Bad input: printed as `sockit <cmd>: <message>`, exit 2. */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
  }
}

export const debug = process.env.SOCKIT_DEBUG === '1';

/** The package version (package.json, two levels above dist/commands/). */
export function sockitVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

/**
 * Colour for a stream: only on a TTY, never with NO_COLOR set (no-color.org).
 * chalk loads here, on first use, so commands that print no colour never pay for it.
 */
export async function colour(stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  const on = Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
  const { Chalk } = await import('chalk');
  return new Chalk({ level: on ? 1 : 0 });
}

/**
 * -4 / -6 as an address family (0: either). Giving both is a usage error,
 * worded as the command's anchor tool words it.
 */
export function familyFlag(o: { '4'?: boolean; '6'?: boolean }, conflict: string): 0 | 4 | 6 {
  if (o['4'] && o['6']) throw new UsageError(conflict);
  return o['4'] ? 4 : o['6'] ? 6 : 0;
}

/** One JSON object per line. BigInts become numbers (ns values fit easily in doubles here). */
export function jsonLine(obj: object, out: NodeJS.WritableStream = process.stdout): void {
  out.write(JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)) + '\n');
}

/**
 * A commander Command for a sockit subcommand: parse errors become
 * UsageError (one line, exit 2) instead of commander's own exit.
 */
export function makeCommand(name: string): Command {
  const cmd = new Command(name);
  cmd
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true)
    .helpOption('--help', 'display help for command');
  return cmd;
}

/** Parse argv with a command from makeCommand; returns false when help/version was shown. */
export function parseArgs(cmd: Command, argv: string[]): boolean {
  try {
    cmd.parse(argv, { from: 'user' });
    return true;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return false;
      throw new UsageError(e.message.replace(/^error: /, '').split('\n')[0]);
    }
    throw e;
  }
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

/**
 * Run a command's main: exit code from its result; UsageError and other
 * failures as one line on stderr (a stack trace only with SOCKIT_DEBUG=1).
 */
export async function runMain(name: string, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (e) {
    return reportError(name, e);
  }
}

export function reportError(name: string, e: unknown): number {
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`sockit ${name}: ${msg}\n`);
  return e instanceof UsageError ? e.exitCode : 2;
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

/**
 * A system error as the book's err_sys prints it: "connect error: Connection
 * refused" (syscall, then strerror(3) of the errno).
 */
export function errSys(e: unknown, syscall?: string): string {
  return `${syscall ?? (e as NodeJS.ErrnoException)?.syscall ?? 'system'} error: ${strerrorOf(e)}`;
}

/** strerror(3) of a system error's errno (Node's and the core's are both negated), else its message. */
export function strerrorOf(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const errno = typeof err?.errno === 'number' ? Math.abs(err.errno) : 0;
  return errno ? native.strerror(errno) : (err?.message ?? String(e));
}

/**
 * Run `fn` on SIGINT and SIGTERM (each time one arrives) instead of
 * dying; returns the function that removes the handlers.
 */
export function onTerminate(fn: (signal: NodeJS.Signals) => void): () => void {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const s of signals) process.on(s, fn);
  return () => {
    for (const s of signals) process.off(s, fn);
  };
}

/**
 * Writes text in the order it was given, even when some of it waits for a
 * name lookup: plain strings go out at once while nothing is waiting.
 */
export class OrderedOutput {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  write(text: string | Promise<string>, stream: NodeJS.WritableStream = this.stream): void {
    if (typeof text === 'string' && this.pending === 0) {
      stream.write(text);
      return;
    }
    this.pending++;
    this.queue = this.queue.then(async () => {
      stream.write(await text);
      this.pending--;
    });
  }

  /** Resolves once everything given so far is written. */
  drain(): Promise<void> {
    return this.queue;
  }
}
