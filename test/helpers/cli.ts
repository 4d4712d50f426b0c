// Run the built sockit CLI as a user would: `node bin/sockit <args>`, on this
// host or inside a lab namespace. Tests of commands go through here.
import { spawn } from 'node:child_process';
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
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
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
