// Run the built sockit CLI as a user would: `node bin/sockit <args>`, on this
// host or inside a lab namespace. Tests of commands go through here.
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { Lab, LabNode, User } from '../lab/index.js';
import { runnable } from './readable.js';

export const sockitBin = fileURLToPath(new URL('../../bin/sockit', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A host run's result, with stdout also as bytes (for binary output). */
export interface CliBytesResult extends CliResult {
  stdoutBytes: Buffer;
}

export interface CliOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** sockit on this host (loopback tests). NO_COLOR is set unless env overrides it. */
export function sockit(args: string[], opts: CliOptions = {}): Promise<CliBytesResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sockitBin, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString(), stderr, stdoutBytes });
    });
    child.stdin.on('error', () => {
      /* it may exit without reading */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** sockit inside a lab namespace, as root or as nobody (then from a copy nobody can read). */
export async function sockitIn(lab: Lab, node: LabNode, args: string[], opts: CliOptions & { user?: User } = {}): Promise<CliResult> {
  const r = await lab.exec(node, [process.execPath, runnable('bin/sockit', opts.user), ...args], {
    user: opts.user,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 30_000,
    env: { NO_COLOR: '1', ...opts.env },
  });
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running sockit (a server) and what it has printed so far. */
export class Running {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** resolves when the process has exited */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private waiters: (() => void)[] = [];

  private readonly out: Buffer[] = [];

  constructor(child: ChildProcess) {
    this.child = child;
    const utf8 = new StringDecoder('utf8');
    child.stdout!.on('data', (d: Buffer) => {
      this.out.push(d);
      this.stdout += utf8.write(d);
      this.wake();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.wake();
    });
    child.stdin?.on('error', () => {
      /* gone */
    });
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.wake();
        resolve({ code, signal });
      }),
    );
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything printed on stdout so far, as bytes (for binary output). */
  get stdoutBytes(): Buffer {
    return Buffer.concat(this.out);
  }

  /** The first stdout line (or stderr's) that matches, waiting for it (rejects if the process exits first or after ms). */
  async line(match: RegExp | ((line: string) => boolean), ms = 20_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
    const test = typeof match === 'function' ? match : (l: string) => match.test(l);
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this[stream].split('\n').slice(0, -1).find(test);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`sockit exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${String(match)}:\n${this.stdout}${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line matching ${String(match)} within ${ms} ms:\n${this.stdout}${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The first JSON line of the given type (run the server with --json). */
  async json<T = Record<string, unknown>>(type: string, ms?: number): Promise<T> {
    const l = await this.line((s) => s.startsWith('{') && (JSON.parse(s) as { type?: string }).type === type, ms);
    return JSON.parse(l) as T;
  }

  /** Every JSON line printed so far. */
  events(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGKILL if still running, and wait for the exit. */
  async stop(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/** Start sockit on this host and keep it running (stdin stays open unless input is given). */
export function startSockit(args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Running {
  const child = spawn(process.execPath, [sockitBin, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined) child.stdin.end(opts.input);
  return new Running(child);
}

/**
 * Start sockit in a lab namespace and keep it running (killed with the lab),
 * as root or as nobody (then from a copy nobody can read). Its stdin is
 * /dev/null unless `stdin: 'pipe'` asks for a pipe to write to.
 */
export function startSockitIn(lab: Lab, node: LabNode, args: string[], opts: { stdin?: 'pipe' | 'ignore'; user?: User } = {}): Running {
  const stdio = [opts.stdin ?? 'ignore', 'pipe', 'pipe'] as const;
  return new Running(
    lab.spawn(node, [process.execPath, runnable('bin/sockit', opts.user), ...args], { user: opts.user, env: { NO_COLOR: '1' }, stdio: [...stdio] }),
  );
}
