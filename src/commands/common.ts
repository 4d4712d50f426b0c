// What every command shares, in one import: the error family
// (src/stack/errors.ts), argument parsing and running (src/cli/), JSON lines
// and ordered text (src/output/), colour only on a TTY (NO_COLOR honoured).
// Nothing here loads the native addon.
import type { ChalkInstance } from 'chalk';
import { describeSystemError, isSystemError, strerrorOf } from '../stack/errors.js';

export { Failure, PermissionError, ResolveError, UsageError, strerrorOf, isResolveError, isSystemError } from '../stack/errors.js';
export { familyFlag, intArg, makeCommand, optionTables, parseArgs, readingTables, secondsArg } from '../cli/args.js';
export { debug, reportError, runMain, sockitVersion } from '../cli/run.js';
export { atDeath, onTerminate, dieOf, signalStatus } from '../cli/signals.js';
export { jsonLine, OrderedOutput } from '../output/index.js';

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
 * A system error as the book's err_sys prints it: "connect error: Connection
 * refused" (syscall, then strerror(3) of the errno).
 */
export function errSys(e: unknown, syscall?: string): string {
  const what = `${syscall ?? (isSystemError(e) ? e.syscall : 'system')} error`;
  return isSystemError(e) ? describeSystemError(e, what) : `${what}: ${strerrorOf(e)}`;
}
