// What the tests run as nobody execute, copied where nobody can read it. The
// checkout may be readable by root only (under /root, a 0700 directory): a
// process that has dropped to nobody could not read bin/sockit, dist/ or the
// addon there. One copy per test process, removed when it exits.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root, with its trailing slash. */
export const checkout = fileURLToPath(new URL('../..', import.meta.url));

/** Paths of the launcher, the built tree and the fixtures, as in the checkout. */
const PARTS = ['package.json', 'bin', 'dist', 'test/fixtures'];

let root: string | undefined;

/** The root of a world-readable copy of the runnable checkout (bin/, dist/, build/*\/sockit.node, test/fixtures/). */
export function readableCheckout(): string {
  if (root) return root;
  const dir = mkdtempSync(join(tmpdir(), 'sockit-nobody-'));
  chmodSync(dir, 0o755);
  for (const part of PARTS) cpSync(join(checkout, part), join(dir, part), { recursive: true });
  for (const kind of ['Release', 'Debug']) {
    const addon = join(checkout, 'build', kind, 'sockit.node');
    if (!existsSync(addon)) continue;
    mkdirSync(join(dir, 'build', kind), { recursive: true });
    cpSync(addon, join(dir, 'build', kind, 'sockit.node'));
  }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  root = dir;
  return dir;
}

/** A file of the checkout, from the readable copy when the run is nobody's. */
export function runnable(rel: string, user?: 'root' | 'nobody'): string {
  return join(user === 'nobody' ? readableCheckout() : checkout, rel);
}
