// sockit daytime: RFC 867 client against server, TCP and UDP, on loopback.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctime } from '../../src/commands/daytime.js';
import { type Running, sockit, startSockit } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

// "%.24s\r\n" of ctime(3): "Thu Nov 21 11:40:32 2026\r\n"
const DAYTIME = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3]\d \d\d:\d\d:\d\d \d{4}\r\n$/;

/** The reply read back as a time: within a minute of now (TZ is shared with the server). */
function near(text: string): boolean {
  const t = new Date(text.trim().replace(/^\w+ /, '')).getTime();
  return Math.abs(t - Date.now()) < 60_000;
}

describe('ctime', () => {
  it('pads the day of the month with a space and uses local time, as ctime(3)', () => {
    expect(ctime(new Date(2026, 0, 5, 7, 8, 9))).toBe('Mon Jan  5 07:08:09 2026');
    expect(ctime(new Date(1999, 11, 31, 23, 59, 59))).toBe('Fri Dec 31 23:59:59 1999');
  });
});

for (const proto of ['tcp', 'udp'] as const) {
  const u = proto === 'udp' ? ['-u'] : [];
  describe(`sockit daytime over ${proto.toUpperCase()}`, () => {
    let server: Running;
    let port: number;
    beforeAll(async () => {
      server = startSockit(['daytime', 'server', ...u, '-p', '0', '-b', '127.0.0.1', '--json']);
      ({
        local: { port },
      } = await server.json<{ local: { port: number } }>('listening'));
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('the client prints what the server sends', async () => {
      const r = await sockit(['daytime', 'client', ...u, '127.0.0.1', String(port)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(DAYTIME);
      expect(near(r.stdout)).toBe(true);
      await server.json(proto === 'tcp' ? 'connection' : 'datagram');
    });

    it('--json gives the reply and a summary', async () => {
      const r = await sockit(['daytime', 'client', ...u, '--json', 'localhost', String(port)]);
      expect(r.code).toBe(0);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      const records = r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const remote = { family: 4, address: '127.0.0.1', port };
      // TCP: the connection first (UDP has none)
      if (proto === 'tcp') expect(records.shift()).toMatchObject({ type: 'connection', proto, remote, local: { family: 4, address: '127.0.0.1' } });
      const [reply, summary] = records;
      expect(reply).toMatchObject({ type: 'reply', proto, remote, bytes: 26 });
      expect(reply!.text).toMatch(DAYTIME);
      expect(near(reply!.text as string)).toBe(true);
      expect(summary).toMatchObject({ type: 'summary', proto, bytes: 26, exit_code: 0 });
      expect(summary!.time_ms).toBe(reply!.time_ms);
      expect(records).toHaveLength(2);
    });

    it('the server exits 0 on SIGTERM', async () => {
      const s = startSockit(['daytime', 'server', ...u, '-p', '0', '-b', '127.0.0.1', '-v']);
      await s.line(/^listening on 127\.0\.0\.1\.\d+$/);
      s.kill('SIGTERM');
      expect(await s.exited).toEqual({ code: 0, signal: null });
    });
  });
}

describe('sockit daytime errors', () => {
  it('a UDP client with no server says "socket timeout", exit 1', async () => {
    const r = await sockit(['daytime', 'client', '-u', '-t', '0.05', '-r', '1', '127.0.0.1', '9']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'sockit daytime: socket timeout\n' });
  });

  it.each([
    [['daytime', 'client'], "missing required argument 'host'"],
    [['daytime', 'client', '127.0.0.1', 'x'], "invalid port: 'x'"],
    [['daytime', 'client', '-r', 'many', '127.0.0.1'], "invalid retries: 'many'"],
    [['daytime', 'server', '-p', 'x'], "invalid port: 'x'"],
    [['daytime', 'server', 'extra'], 'too many arguments. Expected 0 arguments but got 1.'],
    [['daytime', 'now'], "unknown mode 'now' (use: sockit daytime server | sockit daytime client)"],
    [
      ['daytime', 'client', '-u', '-t', '0', '127.0.0.1'],
      "invalid timeout: '0': a UDP client must wait for its reply (-t 0 means the kernel's connect timeout, for TCP only)",
    ],
  ])('bad input %j: one line, exit 2', async (args, message) => {
    const r = await sockit(args);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: `sockit daytime: ${message}\n` });
  });
});

describe('sockit daytime help and --json failures', () => {
  it.each([
    [['daytime', 'client', '-h'], /^Usage: sockit daytime client \[-u\] \[-4\|-6\] \[-t timeout\] \[-r retries\] \[--json\] host \[port\]\n/],
    [['daytime', 'server', '-h'], /^Usage: sockit daytime server \[-u\] \[-p port\] \[-b addr\] \[-v\] \[--json\]\n/],
    [['daytime', '--help'], /^Usage: sockit daytime server \[options\]\n {7}sockit daytime client \[options\] host \[port\]\n/],
  ])('%j prints the help on stdout, exit 0', async (args, usage) => {
    const r = await sockit(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(usage);
  });

  it("-t 0 over TCP is the kernel's connect timeout (documented), not an error", async () => {
    const server = startSockit(['daytime', 'server', '-p', '0', '-b', '127.0.0.1', '--json']);
    try {
      const { local } = await server.json<{ local: { port: number } }>('listening');
      const r = await sockit(['daytime', 'client', '-t', '0', '127.0.0.1', String(local.port)]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(DAYTIME);
    } finally {
      await server.stop();
    }
  });

  it('a UDP client without an answer: a timeout record, the summary, exit 1', async () => {
    const r = await sockit(['daytime', 'client', '-u', '--json', '-t', '0.05', '-r', '2', '127.0.0.1', '9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sockit daytime: socket timeout\n');
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { type: 'timeout', proto: 'udp', remote: { family: 4, address: '127.0.0.1', port: 9 }, sent: 3, code: 'ETIMEDOUT', message: 'socket timeout' },
      { type: 'summary', exit_code: 1 },
    ]);
  });

  it('a name that does not resolve: an error record of kind resolve, the summary, exit 2', async () => {
    const r = await sockit(['daytime', 'client', '--json', 'no-such-host.invalid']);
    expect(r).toMatchObject({ code: 2, stderr: 'sockit daytime: no-such-host.invalid: Name or service not known\n' });
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { type: 'error', kind: 'resolve', host: 'no-such-host.invalid', code: 'EAI_NONAME', message: 'Name or service not known' },
      { type: 'summary', exit_code: 2 },
    ]);
  });

  it("the server's records, then on SIGINT exit 0 with the summary last", async () => {
    const s = startSockit(['daytime', 'server', '-p', '0', '-b', '127.0.0.1', '--json']);
    try {
      const { local } = await s.json<{ local: { port: number } }>('listening');
      await sockit(['daytime', 'client', '127.0.0.1', String(local.port)]);
      const close = await s.json<{ bytes_out: number; duration_ms: number }>('close');
      expect(close).toMatchObject({ type: 'close', proto: 'tcp', bytes_in: 0, bytes_out: 26 });
      s.kill('SIGINT');
      expect(await s.exited).toEqual({ code: 0, signal: null });
      expect(vocabularyProblems(s.stdout, 0)).toEqual([]);
      expect(s.events().at(-1)).toEqual({ type: 'summary', proto: 'tcp', connections: 1, bytes_in: 0, bytes_out: 26, exit_code: 0 });
    } finally {
      await s.stop();
    }
  });
});

describe('sockit daytime client and SIGINT', () => {
  it("dies of it, as the book's daytimetcpcli (no handler: the shell sees 130)", async () => {
    // a server that accepts and never writes nor closes: the client waits in read()
    const accepted: net.Socket[] = [];
    const mute = net.createServer((s) => accepted.push(s)).listen(0, '127.0.0.1');
    await new Promise((r) => mute.once('listening', r));
    const c = startSockit(['daytime', 'client', '127.0.0.1', String((mute.address() as net.AddressInfo).port)]);
    try {
      while (accepted.length === 0) await new Promise((r) => setTimeout(r, 10));
      c.kill('SIGINT');
      expect(await c.exited).toEqual({ code: null, signal: 'SIGINT' });
      expect(c.stdout).toBe('');
    } finally {
      await c.stop();
      for (const s of accepted) s.destroy();
      mute.close();
    }
  });
});
