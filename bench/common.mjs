// Shared bits for the side-by-side benches: run a command, time it, print ratios.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export function requireBuilt() {
  if (!existsSync(new URL('../dist/stack/index.js', import.meta.url))) {
    console.error('bench: build first (npm install, or npm run build)');
    process.exit(2);
  }
}

export function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Compile bench/NAME.c with cc -O2 into dir: the binary's path, or null without cc or when it does not build (cc's errors shown). */
export function buildC(name, dir) {
  if (!have('cc')) return null;
  const bin = join(dir, name);
  return spawnSync('cc', ['-O2', '-o', bin, join(root, 'bench', `${name}.c`)], { stdio: 'inherit' }).status === 0 ? bin : null;
}

/** Run argv, return { ms, code, stdout, stderr }. */
export function timed(argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Run argv under bash's `time`: { ms, cpuMs, code, stdout, stderr }, where
 * cpuMs is the child's user + system time (getrusage via wait4, in us
 * precision): on a shared machine it moves much less than the wall clock.
 */
export function timedCpu(argv, opts = {}) {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="@@time %3R %3U %3S"; time "$@"', 'bash', ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...opts,
  });
  const err = r.stderr ?? '';
  const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(err);
  const stderr = m ? err.slice(0, m.index) : err;
  return {
    ms: m ? Number(m[1]) * 1000 : NaN,
    cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN,
    code: r.status,
    stdout: r.stdout ?? '',
    stderr,
  };
}

/** Environment for a child Node whose start-up is being timed: no NODE_EXTRA_CA_CERTS (a CA bundle parsed before any code runs, ~40 ms here; users do not have it). */
export function benchEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function row(label, ours, theirs, unit, higherIsBetter) {
  const ratio = ours / theirs;
  const verdict = higherIsBetter ? (ratio >= 1 ? 'sockit ahead' : 'anchor ahead') : ratio <= 1 ? 'sockit ahead' : 'anchor ahead';
  console.log(
    `${label.padEnd(34)} sockit ${fmt(ours).padStart(10)} ${unit.padEnd(6)} anchor ${fmt(theirs).padStart(10)} ${unit.padEnd(6)} ratio ${ratio.toFixed(2)}x (${verdict})`,
  );
}

function fmt(n) {
  return n >= 100 ? n.toFixed(0) : n.toFixed(3);
}
