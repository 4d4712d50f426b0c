// Run the built sockit CLI as a user would: `node bin/sockit <args>`, on this
// host or inside a lab namespace. Tests of commands go through here.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lab, LabNode, User } from '../lab/index.js';

export const sockitBin = fileURLToPath(new URL('../../bin/sockit', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** how stdout is decoded: 'latin1' keeps binary output byte for byte (Buffer.from(out, 'latin1')) */
  encoding?: BufferEncoding;
}

/** sockit on this host (loopback tests). NO_COLOR is set unless env overrides it. */
export function sockit(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sockitBin, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding(opts.encoding ?? 'utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** sockit inside a lab namespace, as root or as nobody. */
export async function sockitIn(lab: Lab, node: LabNode, args: string[], opts: CliOptions & { user?: User } = {}): Promise<CliResult> {
  const r = await lab.exec(node, [process.execPath, sockitBin, ...args], {
    user: opts.user,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 30_000,
    env: { NO_COLOR: '1', ...opts.env },
  });
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A sockit left running (a server): its output so far, waits on it, its end. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in the stream's output (rejects after `ms`, or when the process ends first). */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has ended. */
  done: Promise<CliResult>;
}

function running(child: ChildProcess, timeoutMs: number, encoding: BufferEncoding = 'utf8'): Running {
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const poke = () => { for (const l of listeners) l(); };
  child.stdout?.setEncoding(encoding).on('data', (d: string) => { stdout += d; poke(); });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d; poke(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
      poke();
    });
  });
  const waitFor = (stream: 'stdout' | 'stderr', re: RegExp, ms = 10_000) => new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const m = (stream === 'stdout' ? stdout : stderr).match(re);
      if (m) return finish(() => resolve(m));
      if (child.exitCode !== null || child.signalCode !== null) {
        finish(() => reject(new Error(`sockit ended (${child.exitCode ?? child.signalCode}) before ${re} on ${stream}:\n${stdout}\n${stderr}`)));
      }
    };
    const t = setTimeout(() => finish(() => reject(new Error(`no ${re} on ${stream} after ${ms} ms:\n${stdout}\n${stderr}`))), ms);
    const finish = (f: () => void) => { clearTimeout(t); listeners.delete(check); f(); };
    listeners.add(check);
    check();
  });
  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, done };
}

/** Start sockit on this host and leave it running; stdin is a pipe the test writes to or ends. */
export function startSockit(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; encoding?: BufferEncoding } = {}): Running {
  const child = spawn(process.execPath, [sockitBin, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return running(child, opts.timeoutMs ?? 30_000, opts.encoding);
}

/** Start sockit in a lab namespace (killed with the lab at the latest). */
export function startSockitIn(lab: Lab, node: LabNode, args: string[], opts: { timeoutMs?: number } = {}): Running {
  const child = lab.spawn(node, [process.execPath, sockitBin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { NO_COLOR: '1' } });
  return running(child, opts.timeoutMs ?? 30_000);
}
