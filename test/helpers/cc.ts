// Compile a small C program with the system's cc, for tests that compare
// sockit with what the C API says. Binaries live in one temporary directory
// per test process, removed on exit.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;

function workDir(): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'sockit-cc-'));
    chmodSync(dir, 0o755); // lab processes running as nobody may exec from here
    const d = dir;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

/** Compile `source` (or a file) to an executable; returns its path. Throws with cc's diagnostics. */
export function compileC(name: string, source: string): string {
  const d = workDir();
  const src = join(d, `${name}.c`);
  const bin = join(d, name);
  writeFileSync(src, source);
  try {
    execFileSync('cc', ['-std=gnu11', '-O0', '-o', bin, src], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`cc ${name}.c failed:\n${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
  }
  return bin;
}

/** Run a compiled program to completion and return its stdout (throws on a non-zero exit). */
export function runC(bin: string, args: string[] = []): string {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
