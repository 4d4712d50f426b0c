// Compile a small C program with the system's cc, for tests that compare
// sockit with what the C API says. Binaries are cached by content hash in
// one directory under the system temp dir, so reruns reuse them and nothing
// piles up; a new binary is renamed into place, so parallel test files agree.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = join(tmpdir(), `sockit-cc-${process.getuid?.() ?? 0}`);

/** Compile `source` to an executable; returns its path. Throws with cc's diagnostics. */
export function compileC(name: string, source: string): string {
  const bin = join(dir, `${name}-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // lab processes running as nobody may exec from here
  const tmp = `${bin}.${process.pid}`;
  writeFileSync(`${tmp}.c`, source);
  try {
    execFileSync('cc', ['-std=gnu11', '-O0', '-o', tmp, `${tmp}.c`], { stdio: ['ignore', 'pipe', 'pipe'] });
    renameSync(tmp, bin);
  } catch (e) {
    throw new Error(`cc ${name}.c failed:\n${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
  } finally {
    rmSync(`${tmp}.c`, { force: true });
    rmSync(tmp, { force: true });
  }
  return bin;
}

/** Run a compiled program to completion and return its stdout (throws on a non-zero exit). */
export function runC(bin: string, args: string[] = []): string {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
