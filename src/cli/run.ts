// Errors to exit codes and to the one line on stderr, for every command:
// `sockit <cmd>: <message>`, a stack trace only with SOCKIT_DEBUG=1.
import { createRequire } from 'node:module';
import { exitCodeOf, messageOf } from '../stack/errors.js';

export const debug = process.env.SOCKIT_DEBUG === '1';

/** The package version (package.json, two levels above dist/cli/). */
export function sockitVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

/** Print the error that ended a command as its one line; returns its exit code. */
export function reportError(cmd: string, e: unknown): number {
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.stderr.write(`sockit${cmd ? ` ${cmd}` : ''}: ${messageOf(e)}\n`);
  return exitCodeOf(e);
}

/** Run a command's main: its exit code, or the error it ended with, reported. */
export async function runMain(cmd: string, main: () => Promise<number>): Promise<number> {
  try {
    return await main();
  } catch (e) {
    return reportError(cmd, e);
  }
}
