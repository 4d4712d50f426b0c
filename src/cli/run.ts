// Errors to exit codes and to the one line on stderr, for every command:
// `sockit <cmd>: <message>`, a stack trace only with SOCKIT_DEBUG=1.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeOf, messageOf } from '../stack/errors.js';

export const debug = process.env.SOCKIT_DEBUG === '1';

/** The package version (package.json, two levels above dist/cli/), read as a file: no require() made for it. */
export function sockitVersion(): string {
  return (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The fix for a missing addon, for where this copy of sockit lives (dist/cli/ is two levels below it). */
function addonFix(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const parent = dirname(root);
  if (basename(parent) !== 'node_modules') return `run \`npm install\` in ${root}`;
  // <prefix>/lib/node_modules/sockit is a global install
  return basename(dirname(parent)) === 'lib' ? 'run `npm rebuild -g sockit`' : `run \`npm rebuild sockit\` in ${dirname(parent)}`;
}

/**
 * A missing addon's error with the fix; any other error as it is. The addon
 * may fail to load with the command's module or later, once a command has
 * parsed its options and loads the core (so that its -h works without it).
 */
function withAddonFix(e: unknown): unknown {
  if ((e as NodeJS.ErrnoException).code !== 'ERR_SOCKIT_NO_ADDON') return e;
  return new Error(`${(e as Error).message}: ${addonFix()}`, { cause: e });
}

/** Print the error that ended a command as its one line; returns its exit code. */
export function reportError(cmd: string, err: unknown): number {
  const e = withAddonFix(err);
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`); // where it was thrown
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
