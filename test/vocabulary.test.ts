// Every command's --json, checked against the one vocabulary of sockit(1)
// (JSON OUTPUT) mechanically: a `type` on every record, snake_case keys,
// *_ms durations, addresses as strings, ports as numbers, family 4/6/"unix",
// and a last `summary` whose exit_code is the process's exit status.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, sockit, startSockit } from './helpers/cli.js';
import { runnable } from './helpers/readable.js';
import { vocabularyProblems } from './helpers/vocabulary.js';

type Rec = Record<string, unknown>;
const records = (out: string): Rec[] =>
  out
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Rec);
const types = (out: string) => records(out).map((r) => r.type);

/** A sockit server with --json, its port from the `listening` record (or sock's text line). */
async function server(args: string[]): Promise<{ s: Running; port: number }> {
  const s = startSockit(args);
  const l = await s.json<{ local: { port: number } }>('listening');
  return { s, port: l.local.port };
}

/** test/fixtures/ntp-responder.py answering well on loopback: its port, and the function that stops it. */
function ntpResponder(): Promise<{ port: number; stop: () => void }> {
  const child = spawn('python3', [fileURLToPath(new URL('./fixtures/ntp-responder.py', import.meta.url)), 'good'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => {
      const m = /^port (\d+)/.exec(d.toString());
      if (m) resolve({ port: Number(m[1]), stop: () => child.kill() });
      else reject(new Error(`responder said ${d}`));
    });
    child.once('error', reject);
  });
}

/** tcpdump -w of one ping -c1 on loopback (request and reply): a real capture for dump to read. */
async function loopbackCapture(file: string): Promise<void> {
  const td = spawn('tcpdump', ['-i', 'lo', '-U', '-w', file, '-c', '2', 'icmp and host 127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => td.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    td.stderr.on('data', (d: Buffer) => {
      if (/listening on/.test(d.toString())) resolve();
    });
    td.once('error', reject);
  });
  await new Promise<void>((resolve) => spawn('ping', ['-c1', '127.0.0.1'], { stdio: 'ignore' }).on('close', () => resolve()));
  expect(await exited).toBe(0);
}

/** SIGTERM a server and give back what it printed, once it has exited. */
async function stopped(s: Running): Promise<{ code: number | null; stdout: string }> {
  s.kill('SIGTERM');
  const { code } = await s.exited;
  return { code, stdout: s.stdout };
}

describe("every command's --json keeps the vocabulary", () => {
  let listener: net.Server;
  let port: number;
  beforeAll(async () => {
    listener = net.createServer((c) => c.on('error', () => {}).pipe(c)).listen(0, '127.0.0.1');
    await new Promise((r) => listener.once('listening', r));
    ({ port } = listener.address() as net.AddressInfo);
  });
  afterAll(() => {
    listener?.close();
  });

  it('ping -c1 127.0.0.1', async () => {
    const r = await sockit(['ping', '--json', '-c1', '127.0.0.1']);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(types(r.stdout)).toContain('reply');
  });

  it('fping -c 2 -p 50 127.0.0.1 ::1, and with an unknown name', async () => {
    const r = await sockit(['fping', '--json', '-c', '2', '-p', '50', '127.0.0.1', '::1']);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(types(r.stdout).filter((t) => t === 'reply').length).toBe(4);
    expect(types(r.stdout).filter((t) => t === 'host').length).toBe(2);
    const unknown = await sockit(['fping', '--json', '127.0.0.1', 'no-such-host.invalid']);
    expect(unknown.code).toBe(2);
    expect(vocabularyProblems(unknown.stdout, unknown.code)).toEqual([]);
    expect(records(unknown.stdout).find((x) => x.type === 'error')).toMatchObject({ kind: 'resolve', host: 'no-such-host.invalid' });
    // bad arguments: fping's exit 3, and still a summary
    const bad = await sockit(['fping', '--json', '-c', '0', '127.0.0.1']);
    expect(bad.code).toBe(3);
    expect(vocabularyProblems(bad.stdout, bad.code)).toEqual([]);
  });

  it('traceroute -n -m 2 127.0.0.1', async () => {
    const r = await sockit(['traceroute', '-n', '-m', '2', '127.0.0.1', '--json']);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(types(r.stdout)).toContain('hop');
  });

  it("sock: a source client into a sink server (both sides' records)", async () => {
    const sink = startSockit(['sock', '-i', '-s', '--json', '127.0.0.1', '0']);
    const line = await sink.line(/listening/);
    const sinkPort = Number(/"port":(\d+)/.exec(line)?.[1] ?? /\.(\d+)\b/.exec(line)?.[1]);
    try {
      const source = await sockit(['sock', '-i', '--json', '-n', '3', '-w', '100', '127.0.0.1', String(sinkPort)]);
      expect(source.code).toBe(0);
      expect(vocabularyProblems(source.stdout, source.code)).toEqual([]);
      const { code } = await sink.exited;
      expect(code).toBe(0);
      expect(vocabularyProblems(sink.stdout, code)).toEqual([]);
      expect(records(sink.stdout).at(-1)).toMatchObject({ type: 'summary', bytes: 300 });
    } finally {
      await sink.stop();
    }
  });

  it('sock: a client of a local server (sockit-sock(1): its records on stderr, stdout carries the data)', async () => {
    const r = await sockit(['sock', '-h', '--json', '127.0.0.1', String(port)], { input: 'hello\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello\n');
    expect(vocabularyProblems(r.stderr, r.code)).toEqual([]);
  });

  it.each([
    [['sockopt', '--json']],
    [['sockopt', '--json', '--table']],
    [['sockopt', '--json', '--list']],
    [['sockopt', '--json', '--tcp', 'get', 'SO_RCVBUF', 'TCP_NODELAY']],
    [['sockopt', '--json', '--tcp', 'set', 'SO_RCVBUF=65536', 'TCP_NODELAY=1']],
  ])('%j', async (args) => {
    const r = await sockit(args);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(records(r.stdout).length).toBeGreaterThan(1);
  });

  it('sockopt --pid of a live process (an echo server)', async () => {
    const { s } = await server(['echo', 'server', '-p', '0', '-b', '127.0.0.1', '--json']);
    try {
      const r = await sockit(['sockopt', '--json', '--pid', String(s.pid)]);
      expect(r.code).toBe(0);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      expect(types(r.stdout)).toContain('socket');
    } finally {
      await s.stop();
    }
  });

  it('connect, connected and refused', async () => {
    const ok = await sockit(['connect', '--json', '-c', '2', '-i', '0', '127.0.0.1', String(port)]);
    expect(ok.code).toBe(0);
    expect(vocabularyProblems(ok.stdout, ok.code)).toEqual([]);
    expect(types(ok.stdout)).toEqual(['start', 'connection', 'connection', 'summary']);
    const refused = await sockit(['connect', '--json', '127.0.0.1', '1']);
    expect(refused.code).toBe(1);
    expect(vocabularyProblems(refused.stdout, refused.code)).toEqual([]);
    expect(types(refused.stdout)).toEqual(['start', 'error', 'summary']);
  });

  it.each([
    [['lookup', '--json', 'localhost', 'echo']],
    [['lookup', '--json', '-x', '127.0.0.1', '22']],
    [['lookup', '--json', '--services', 'smtp']],
    [['ifaces', '--json']],
    [['ifaces', '--json', '-a', '-l', 'inet6']],
    [['netstat', '--json', '-s']],
    [['netstat', '--json', '-s6']],
    [['netstat', '--json', '-ia']],
    [['netstat', '--json', '-r', '-4', '-6']],
  ])('%j', async (args) => {
    const r = await sockit(args);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(records(r.stdout).length).toBeGreaterThan(1);
  });

  it.each([[['ss', '--json', '-tan']], [['ss', '--json', '-ltpe']], [['netstat', '--json', '-tan']], [['netstat', '--json', '-lxp']]])(
    '%j with a listener of ours open',
    async (args) => {
      const r = await sockit(args);
      expect(r.code).toBe(0);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      expect(types(r.stdout)).toContain('summary');
    },
  );

  it('dump -r of a capture tcpdump wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockit-vocab-'));
    try {
      const file = join(dir, 'ping.pcap');
      await loopbackCapture(file);
      const r = await sockit(['dump', '--json', '-r', file]);
      expect(r.code).toBe(0);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      expect(types(r.stdout).filter((t) => t === 'packet')).toHaveLength(2);
      const missing = await sockit(['dump', '--json', '-r', join(dir, 'none.pcap')]);
      expect(missing.code).not.toBe(0);
      expect(vocabularyProblems(missing.stdout, missing.code)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('links --json into a directory of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockit-vocab-'));
    try {
      const r = await sockit(['links', '--json', dir, 'ping', 'tracert']);
      expect(r.code).toBe(0);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      expect(types(r.stdout)).toEqual(['link', 'link', 'summary']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)('capture --json on loopback (needs root), and capture without privilege', async () => {
    const run = sockit(['capture', '--json', '-i', 'lo', '-c', '2', 'icmp and host 127.0.0.1'], { timeoutMs: 20_000 });
    // the socket is open within a few hundred ms; ping until the capture has its two packets
    const pinger = setInterval(() => spawn('ping', ['-c1', '127.0.0.1'], { stdio: 'ignore' }), 300);
    const r = await run.finally(() => clearInterval(pinger));
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(types(r.stdout)).toEqual(['start', 'packet', 'packet', 'summary']);
    // as nobody: the failure is an error record and a summary with exit_code 2
    const denied = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--',
        process.execPath,
        runnable('bin/sockit', 'nobody'),
        'capture',
        '--json',
        '-i',
        'lo',
      ],
      { encoding: 'utf8' },
    );
    expect(denied.status).toBe(2);
    expect(vocabularyProblems(denied.stdout, denied.status)).toEqual([]);
    expect(types(denied.stdout).at(-1)).toBe('summary');
  });

  it('sntp against a responder on loopback, and against a silent port', async () => {
    const ntp = await ntpResponder();
    try {
      const r = await sockit(['sntp', '--json', '-c', '2', '-p', String(ntp.port), '127.0.0.1']);
      expect(r.code).toBe(0);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    } finally {
      ntp.stop();
    }
    const silent = await sockit(['sntp', '--json', '-t', '0.2', '-p', '9', '127.0.0.1']);
    expect(silent.code).toBe(1);
    expect(vocabularyProblems(silent.stdout, silent.code)).toEqual([]);
  });

  for (const proto of ['tcp', 'udp'] as const) {
    const u = proto === 'udp' ? ['-u'] : [];
    it(`echo client and server over ${proto.toUpperCase()}`, async () => {
      const { s, port: p } = await server(['echo', 'server', ...u, '-p', '0', '-b', '127.0.0.1', '--json']);
      try {
        const c = await sockit(['echo', 'client', ...u, '--json', '127.0.0.1', String(p)], { input: 'one\ntwo\n' });
        expect(c.code).toBe(0);
        expect(vocabularyProblems(c.stdout, c.code)).toEqual([]);
        expect(types(c.stdout)).toContain('reply');
        await s.json(proto === 'tcp' ? 'close' : 'datagram');
        const end = await stopped(s);
        expect(end.code).toBe(0);
        expect(vocabularyProblems(end.stdout, end.code)).toEqual([]);
      } finally {
        await s.stop();
      }
    });

    it(`daytime client and server over ${proto.toUpperCase()}`, async () => {
      const { s, port: p } = await server(['daytime', 'server', ...u, '-p', '0', '-b', '127.0.0.1', '--json']);
      try {
        const c = await sockit(['daytime', 'client', ...u, '--json', '127.0.0.1', String(p)]);
        expect(c.code).toBe(0);
        expect(vocabularyProblems(c.stdout, c.code)).toEqual([]);
        expect(types(c.stdout)).toContain('reply');
        const end = await stopped(s);
        expect(end.code).toBe(0);
        expect(vocabularyProblems(end.stdout, end.code)).toEqual([]);
      } finally {
        await s.stop();
      }
    });
  }

  it.each([
    [['ping', '--json', '-c1', 'no-such-host.invalid']],
    [['traceroute', '--json', 'no-such-host.invalid']],
    [['connect', '--json', 'no-such-host.invalid', '7']],
    [['echo', 'client', '--json', 'no-such-host.invalid']],
    [['daytime', 'client', '--json', '-u', 'no-such-host.invalid']],
    [['sock', '-i', '--json', 'no-such-host.invalid', '7']],
    [['sockopt', '--json', 'get', 'SO_NO_SUCH_OPTION']],
    [['sntp', '--json', 'no-such-host.invalid']],
  ])('a run that ends on an error: %j', async (args) => {
    const r = await sockit(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^sockit ${args[0]}: .+\\n$`));
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
  });
});
