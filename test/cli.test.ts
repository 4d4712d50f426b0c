// The sockit program itself, as a new user meets it: help, bare `sockit`,
// a checkout or install whose addon was never built, and standard output
// that cannot be written (a full disk, a closed descriptor, a reader gone).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sockit, sockitBin } from './helpers/cli.js';

const checkout = fileURLToPath(new URL('..', import.meta.url));
const STACK = /\n\s+at /;

interface ShResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A bash script with $SOCKIT as the sockit to run (for the redirections a user types). */
function sh(script: string, env: Record<string, string> = {}, args: string[] = []): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'sh', ...args], {
      env: { ...process.env, NO_COLOR: '1', SOCKIT: sockitBin, NODE: process.execPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('sockit help and bare sockit', () => {
  it('`sockit help` is `sockit --help`, on stdout, exit 0', async () => {
    const help = await sockit(['help']);
    const dashdash = await sockit(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toBe(dashdash.stdout);
    expect(help.stdout).toMatch(/^Usage: sockit <command> \[options\]\n/);
    for (const c of [
      'ping',
      'fping',
      'traceroute',
      'sock',
      'sockopt',
      'connect',
      'echo',
      'daytime',
      'lookup',
      'ifaces',
      'sntp',
      'dump',
      'ss',
      'netstat',
      'capture',
      'exporter',
      'links',
      'completion',
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(help.stdout).toMatch(/^Run `sockit help <command>`/m);
  });

  it.each(['ping', 'fping', 'traceroute', 'connect', 'sockopt', 'daytime'])("`sockit help %s` is the command's own help, exit 0", async (c) => {
    const help = await sockit(['help', c]);
    const own = await sockit([c, '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toBe(own.stdout);
    expect(help.stdout).toMatch(new RegExp(`^Usage: sockit ${c} `));
  });

  it('`sockit help bogus`: one line on stderr, exit 2', async () => {
    const r = await sockit(['help', 'bogus']);
    expect(r).toEqual(expect.objectContaining({ code: 2, stdout: '', stderr: "sockit: unknown command 'bogus' (see sockit --help)\n" }));
  });

  it('an unknown command: one line on stderr, exit 2', async () => {
    const r = await sockit(['pong']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: "sockit: unknown command 'pong' (see sockit --help)\n" });
  });

  it('bare `sockit`: the usage on stderr, nothing on stdout, exit 2', async () => {
    const r = await sockit([]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^Usage: sockit <command> \[options\]\n/);
    expect(r.stderr).toMatch(/^ {2}ping\b/m);
  });

  it('--version and -V print the package version', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default as { version: string };
    for (const flag of ['--version', '-V']) expect(await sockit([flag])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('sockit without its native addon (never built: --ignore-scripts, a failed build)', () => {
  let tmp: string;
  /** lay out a copy of this checkout without build/ at dir; returns its bin/sockit */
  function layOut(dir: string): string {
    mkdirSync(dir, { recursive: true });
    for (const d of ['bin', 'dist', 'package.json']) cpSync(join(checkout, d), join(dir, d), { recursive: true });
    symlinkSync(join(checkout, 'node_modules'), join(dir, 'node_modules'));
    return join(dir, 'bin', 'sockit');
  }
  let local: string;
  let global: string;
  let dependency: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sockit-noaddon-'));
    local = layOut(join(tmp, 'checkout'));
    global = layOut(join(tmp, 'prefix', 'lib', 'node_modules', 'sockit'));
    dependency = layOut(join(tmp, 'project', 'node_modules', 'sockit'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const run = (bin: string, args: string[], env: Record<string, string> = {}) => sh('exec "$NODE" "$BIN" "$@"', { BIN: bin, ...env }, args);

  it('--help, --version and help still work', async () => {
    const ours = await sockit(['--help']);
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await run(local, args);
      expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '', stdout: ours.stdout });
    }
    expect(await run(local, ['--version'])).toMatchObject({ code: 0, stderr: '', stdout: (await sockit(['--version'])).stdout });
  });

  it.each([
    [['connect', '-h']],
    [['help', 'connect']],
    [['echo', 'client', '-h']],
    [['echo', 'server', '--help']],
    [['daytime', 'client', '-h']],
    [['daytime', 'server', '-h']],
    [['echo', '-h']],
  ])("%j: the command's help, the same as with the addon, exit 0", async (args) => {
    const r = await run(local, args);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: (await sockit(args)).stdout });
    expect(r.stdout).toMatch(/^Usage: sockit /);
  });

  it('usage errors are found before the addon is needed', async () => {
    const r = await run(local, ['daytime', 'client', '-u', '-t', '0', '127.0.0.1']);
    expect(r).toMatchObject({ code: 2, stderr: (await sockit(['daytime', 'client', '-u', '-t', '0', '127.0.0.1'])).stderr });
  });

  it('a command in a checkout: one line with the fix (`npm install` there), exit 2, no stack trace', async () => {
    const dir = join(tmp, 'checkout');
    for (const c of [
      ['ping', '-c1', '127.0.0.1'],
      ['connect', '127.0.0.1', '7'],
      ['echo', 'client', '127.0.0.1'],
      ['daytime', 'server', '-p', '0'],
    ]) {
      const r = await run(local, c);
      expect(r, c.join(' ')).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `sockit ${c[0]}: the native addon is not built (no ${dir}/build/Release/sockit.node): run \`npm install\` in ${dir}\n`,
      });
    }
  });

  it('a global install: the fix is `npm rebuild -g sockit`', async () => {
    const dir = join(tmp, 'prefix', 'lib', 'node_modules', 'sockit');
    const r = await run(global, ['ping', '127.0.0.1']);
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `sockit ping: the native addon is not built (no ${dir}/build/Release/sockit.node): run \`npm rebuild -g sockit\`\n`,
    });
  });

  it('a dependency of a project: the fix is `npm rebuild sockit` in the project', async () => {
    const r = await run(dependency, ['traceroute', '127.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^sockit traceroute: the native addon is not built \\(no .*\\): run \`npm rebuild sockit\` in ${join(tmp, 'project')}\\n$`),
    );
  });

  it('--json: the one line on stderr, and the summary with exit_code on stdout', async () => {
    const r = await run(local, ['connect', '--json', '127.0.0.1', '7']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('{"type":"summary","exit_code":2}\n');
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('SOCKIT_DEBUG=1 adds the stack trace, then the same line', async () => {
    const plain = await run(local, ['ping', '127.0.0.1']);
    expect(plain.stderr).not.toMatch(STACK);
    const r = await run(local, ['ping', '127.0.0.1'], { SOCKIT_DEBUG: '1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: the native addon is not built/);
    expect(r.stderr).toMatch(STACK);
    expect(r.stderr.endsWith(plain.stderr)).toBe(true);
  });
});

describe('standard output that cannot be written', () => {
  it('iputils ping >/dev/full: "ping: write error", exit 1 (the anchor)', async () => {
    const r = await sh('ping -c1 127.0.0.1 >/dev/full');
    expect(r).toMatchObject({ code: 1, stderr: 'ping: write error\n' });
  });

  it.each([
    ['ping', '-c1 127.0.0.1'],
    ['traceroute', '-n -m 2 127.0.0.1'],
    ['sockopt', '--table'],
    ['connect', '--json 127.0.0.1 1'],
    ['daytime', 'client --help'],
    // the listings write(2) to descriptor 1 themselves (stdoutSink), in 64 KiB buffers
    ['ss', '-tan'],
    ['ss', '-ta'],
    ['netstat', '-tan'],
    ['netstat', '-ta'],
  ])('sockit %s %s >/dev/full: one line, exit 1', async (cmd, args) => {
    const r = await sh(`"$NODE" "$SOCKIT" ${cmd} ${args} >/dev/full`);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `sockit ${cmd}: write error: No space left on device\n` });
  });

  it.each([['--help'], ['help'], ['--version']])('sockit %s >/dev/full: one line, exit 1', async (args) => {
    const r = await sh(`"$NODE" "$SOCKIT" ${args} >/dev/full`);
    expect(r).toMatchObject({ code: 1, stderr: 'sockit: write error: No space left on device\n' });
  });

  it("sockit help ping >/dev/full: the command's line, exit 1", async () => {
    const r = await sh('"$NODE" "$SOCKIT" help ping >/dev/full');
    expect(r).toMatchObject({ code: 1, stderr: 'sockit ping: write error: No space left on device\n' });
  });

  it('>&- (stdout closed): "write error: Bad file descriptor", exit 1, as iputils exits 1', async () => {
    expect(await sh('ping -c1 127.0.0.1 >&-')).toMatchObject({ code: 1 });
    for (const [cmd, args] of [
      ['ping', '-c1 127.0.0.1'],
      ['connect', '--json 127.0.0.1 1'],
      ['sockopt', '--table'],
      ['ss', '-tan'],
      ['netstat', '-tan'],
    ] as const) {
      const r = await sh(`"$NODE" "$SOCKIT" ${cmd} ${args} >&-`);
      expect(r, cmd).toMatchObject({ code: 1, stderr: `sockit ${cmd}: write error: Bad file descriptor\n` });
    }
  });

  it("/dev/null handed over read-write by a program (Python's DEVNULL, Node's 'ignore') is not a closed stdout: exit 0", async () => {
    const py = await sh(
      `python3 -c 'import subprocess, sys; sys.exit(subprocess.run([sys.argv[1], sys.argv[2], "ping", "-c1", "127.0.0.1"], stdout=subprocess.DEVNULL).returncode)' "$NODE" "$SOCKIT"`,
    );
    expect(py).toMatchObject({ code: 0, stderr: '' });
    const node = await sh(
      `"$NODE" -e 'const r = require("child_process").spawnSync(process.argv[1], [process.argv[2], "ping", "-c1", "127.0.0.1"], { stdio: ["ignore", "ignore", "pipe"] }); process.stderr.write(r.stderr); process.exit(r.status)' "$NODE" "$SOCKIT"`,
    );
    expect(node).toMatchObject({ code: 0, stderr: '' });
  });

  it('| head -1 (the reader goes away, EPIPE): the first line, nothing on stderr, the status so far', async () => {
    const anchor = await sh('ping -c3 -i 0.2 127.0.0.1 | head -1');
    const r = await sh('"$NODE" "$SOCKIT" ping -c3 -i 0.2 127.0.0.1 | head -1; exit ${PIPESTATUS[0]}');
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: anchor.stdout });
    const t = await sh('"$NODE" "$SOCKIT" sockopt --table | head -1; exit ${PIPESTATUS[0]}');
    expect(t).toMatchObject({ code: 0, stderr: '' });
    expect(t.stdout.split('\n')).toHaveLength(2);
  });

  it('no stack trace in any of these unless SOCKIT_DEBUG=1 asks for one', async () => {
    const full = await sh('"$NODE" "$SOCKIT" ping -c1 127.0.0.1 >/dev/full');
    expect(full.stderr).not.toMatch(STACK);
    const usage = await sh('"$NODE" "$SOCKIT" connect no-such-host.invalid 7');
    expect(usage).toMatchObject({ code: 2, stderr: 'sockit connect: no-such-host.invalid: Name or service not known\n' });
    const debug = await sh('"$NODE" "$SOCKIT" connect no-such-host.invalid 7', { SOCKIT_DEBUG: '1' });
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(STACK);
    expect(debug.stderr.endsWith(usage.stderr)).toBe(true);
  });
});

describe("the launcher's code cache", () => {
  let cache: string;
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), 'sockit-cache-'));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  const entries = () => readdirSync(join(cache, 'sockit')).filter((f) => f.endsWith('.v8cache'));

  it("the first run writes the bundle's V8 code cache, later runs use it as it is; a damaged one is replaced, the output the same", async () => {
    const env = { XDG_CACHE_HOME: cache };
    const first = await sh('"$NODE" "$SOCKIT" ping -c1 -q 127.0.0.1', env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const [file] = entries().filter((f) => f.startsWith('ping.cjs-'));
    expect(file).toMatch(new RegExp(`^ping\\.cjs-${process.version.replace(/\./g, '\\.')}-\\d+-\\d+\\.v8cache$`));
    const path = join(cache, 'sockit', file!);
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(10_000); // the functions the run compiled, not only the top level
    const written = statSync(path).mtimeMs;
    const second = await sh('"$NODE" "$SOCKIT" ping -c1 -q 127.0.0.1', env);
    expect(second.code).toBe(0);
    expect(statSync(path).mtimeMs).toBe(written); // accepted: not written again
    writeFileSync(path, 'not a code cache');
    const damaged = await sh('"$NODE" "$SOCKIT" ping -c1 -q 127.0.0.1', env);
    expect(damaged).toMatchObject({ code: 0, stderr: '' });
    expect(damaged.stdout.split('\n')[0]).toBe(first.stdout.split('\n')[0]);
    expect(statSync(path).size).toBeGreaterThan(10_000); // rejected, so written anew
    const plain = await sh('"$NODE" "$SOCKIT" ping -c1 -q 127.0.0.1', { ...env, SOCKIT_NO_CODE_CACHE: '1' });
    expect(plain).toMatchObject({ code: 0, stderr: '' });
  });

  it("ss's and netstat's listings, which set V8's flags while a long one runs (src/cli/tiering.ts: TurboFan's inlining and OSR off, WebAssembly on Liftoff), leave a cache the next run accepts", async () => {
    // more sockets than one sock_diag datagram holds (about 260), so that the listing is a long one
    const server = net.createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const clients = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const c = net.connect(port, '127.0.0.1', () => resolve(c));
          }),
      ),
    );
    try {
      const env = { XDG_CACHE_HOME: cache };
      // ss -ta: fast.ts (service names), inlining off; ss -tan: lines.ts's module, on Liftoff; netstat -tan: its fast.ts, inlining
      // off; ss -tanp and netstat -tanp: off before the owner scan
      for (const [cmd, args] of [
        ['ss', '-ta'],
        ['ss', '-tan'],
        ['netstat', '-tan'],
        ['ss', '-tanp'],
        ['netstat', '-tanp'],
      ]) {
        for (const f of entries().filter((f) => f.startsWith(`${cmd}.cjs-`))) rmSync(join(cache, 'sockit', f));
        const first = await sh(`"$NODE" "$SOCKIT" ${cmd} ${args}`, env);
        expect(first).toMatchObject({ code: 0, stderr: '' });
        expect(first.stdout.split('\n').filter((l) => l.includes(`127.0.0.1:${port}`)).length).toBeGreaterThanOrEqual(400);
        const [file] = entries().filter((f) => f.startsWith(`${cmd}.cjs-`));
        const path = join(cache, 'sockit', file!);
        const written = statSync(path).mtimeMs;
        const second = await sh(`"$NODE" "$SOCKIT" ${cmd} ${args}`, env);
        expect(second.code).toBe(0);
        // made under the flags Node started with (put back): not rejected, so not written again
        expect(statSync(path).mtimeMs).toBe(written);
      }
    } finally {
      for (const c of clients) c.destroy();
      server.close();
    }
  });

  it("a new cache removes the week-old caches of the bundle's earlier builds under this Node, and nothing else", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockit-prune-'));
    try {
      mkdirSync(join(dir, 'sockit'));
      const v = process.version;
      const put = (name: string, daysOld: number) => {
        const f = join(dir, 'sockit', name);
        writeFileSync(f, 'old');
        const t = new Date(Date.now() - daysOld * 24 * 3600 * 1000);
        utimesSync(f, t, t);
        return f;
      };
      const stale = put(`ping.cjs-${v}-1234-5678.v8cache`, 8);
      const recent = put(`ping.cjs-${v}-1234-9999.v8cache`, 1);
      const otherNode = put('ping.cjs-v1.2.3-1234-5678.v8cache', 30);
      const otherBundle = put(`ss.cjs-${v}-1234-5678.v8cache`, 30);
      const flagged = put(`ping.cjs-${v}--jitless-1234-5678.v8cache`, 30);
      const r = await sh('"$NODE" "$SOCKIT" ping -c1 -q 127.0.0.1', { XDG_CACHE_HOME: dir });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(existsSync(stale)).toBe(false);
      for (const f of [recent, otherNode, otherBundle, flagged]) expect(existsSync(f), f).toBe(true);
      const mine = readdirSync(join(dir, 'sockit')).filter(
        (f) => f.startsWith(`ping.cjs-${v}-`) && /^\d+-\d+\.v8cache$/.test(f.slice(`ping.cjs-${v}-`.length)),
      );
      expect(mine).toHaveLength(2); // the new one and the recent one
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cache folder that cannot be written is no error', async () => {
    const r = await sh('"$NODE" "$SOCKIT" ping -c1 -q 127.0.0.1', { XDG_CACHE_HOME: '/dev/null/nowhere' });
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});
