// Child-process and namespace plumbing for the lab (no lab state here).
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { native } from '../../src/stack/native/index.js';

const CLONE_NEWNET = 0x40000000;
export const NETNS_DIR = '/run/netns';

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** true when the process was killed because timeoutMs passed */
  timedOut: boolean;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * Run argv to completion, collecting output. Never rejects for a non-zero
 * exit; on timeout the whole process group is SIGKILLed.
 */
export function run(argv: readonly string[], opts: RunOptions = {}, track?: (c: ChildProcess) => void): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      // own process group, so a timeout also kills whatever the command forked
      detached: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd,
    });
    track?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {
        /* the command may exit without reading */
      });
      child.stdin!.end(opts.input);
    }
  });
}

/** run() that throws with the command's stderr unless it exits 0. */
export async function check(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const input = typeof opts.input === 'string' ? `\n--- input ---\n${opts.input}` : '';
    throw new Error(`${argv.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim() || r.stdout.trim()}${input}`);
  }
  return r.stdout;
}

export function spawnTracked(argv: readonly string[], opts: { env?: Record<string, string>; cwd?: string; stdio?: StdioOptions } = {}): ChildProcess {
  return spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    cwd: opts.cwd,
  });
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
  try {
    child.kill(signal);
  } catch {
    /* already gone */
  }
}

/**
 * Run fn with the calling thread in the network namespace bound at
 * /run/netns/<name>; always switch back. setns(2) is per thread, so only
 * this (the JS main) thread moves, and sockets created inside keep their
 * namespace afterwards.
 */
export function withinNetns<T>(name: string, fn: () => T): T {
  const home = openSync('/proc/thread-self/ns/net', 'r');
  let target: number | undefined;
  try {
    target = openSync(`${NETNS_DIR}/${name}`, 'r');
    native.setns(target, CLONE_NEWNET);
    let result: T;
    try {
      result = fn();
    } finally {
      native.setns(home, CLONE_NEWNET);
    }
    if (result instanceof Promise || (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function')) {
      throw new TypeError('within() runs a synchronous function: the namespace is already switched back when a promise settles');
    }
    return result;
  } finally {
    if (target !== undefined) closeSync(target);
    closeSync(home);
  }
}

export interface Sysctl {
  key: string; // dotted, as sysctl(8) spells it
  value: string;
  optional?: boolean; // skip silently when this kernel lacks it
}

/** Write sysctls of a namespace from this process (no fork/exec: /proc/sys/net follows the thread's netns). */
export function writeSysctls(ns: string, entries: readonly Sysctl[]): void {
  withinNetns(ns, () => {
    for (const e of entries) {
      try {
        writeFileSync(`/proc/sys/${e.key.replaceAll('.', '/')}`, e.value);
      } catch (err) {
        if (e.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new Error(`sysctl ${e.key}=${JSON.stringify(e.value)} in netns ${ns}: ${(err as Error).message}`);
      }
    }
  });
}

/** Namespace inode of each named netns that still exists. */
function nsInodes(names: readonly string[]): Map<number, string> {
  const byIno = new Map<number, string>();
  for (const name of names) {
    try {
      byIno.set(statSync(`${NETNS_DIR}/${name}`).ino, name);
    } catch {
      /* gone */
    }
  }
  return byIno;
}

/** Pids of processes living in any of the named namespaces (what `ip netns pids` does, for many at once). */
export function netnsPids(names: readonly string[]): number[] {
  const byIno = nsInodes(names);
  if (byIno.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let link: string;
    try {
      link = readlinkSync(`/proc/${entry}/ns/net`);
    } catch {
      continue;
    }
    const m = /^net:\[(\d+)\]$/.exec(link);
    if (m && byIno.has(Number(m[1]))) pids.push(pid);
  }
  return pids;
}

export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Kill everything inside the namespaces and delete them, synchronously (for 'exit' handlers and sweeps). */
export function deleteNetnsSync(names: readonly string[]): void {
  if (names.length === 0) return;
  killPids(netnsPids(names));
  removeEtcNetns(names);
  spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'ignore'] });
}

export async function deleteNetns(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  killPids(netnsPids(names));
  removeEtcNetns(names);
  // -force: keep going past a namespace somebody already removed
  await run(['ip', '-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join('') });
}

/** `ip netns exec NS` bind-mounts files from /etc/netns/NS/ over /etc (ip-netns(8)): per-namespace hosts files. */
export const ETC_NETNS_DIR = '/etc/netns';

function removeEtcNetns(names: readonly string[]): void {
  for (const n of names) rmSync(`${ETC_NETNS_DIR}/${n}`, { recursive: true, force: true });
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
