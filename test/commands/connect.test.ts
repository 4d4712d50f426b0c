// sockit connect: nonblocking connect with a timeout, on loopback and across the lab.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';
import { type Running, sockit, sockitIn, startSockit, startSockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

const CONNECTED = (addr: string, port: number) => new RegExp(`^connected to ${addr.replaceAll('.', '\\.')}\\.${port} in \\d+\\.\\d{3} ms$`);

function listen(host = '127.0.0.1'): Promise<net.Server> {
  return new Promise((resolve) => {
    const s = net.createServer((c) => c.destroy()).listen(0, host, () => resolve(s));
  });
}

async function closedPort(): Promise<number> {
  const s = await listen();
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('sockit connect on loopback', () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = await listen();
    ({ port } = server.address() as net.AddressInfo);
  });
  afterAll(() => {
    server?.close();
  });

  it("connects and prints the time in the book's address.port form, exit 0", async () => {
    const r = await sockit(['connect', '127.0.0.1', String(port)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout.trimEnd()).toMatch(CONNECTED('127.0.0.1', port));
  });

  it('prints "connect error: Connection refused" for a closed port, exit 1', async () => {
    const closed = await closedPort();
    const r = await sockit(['connect', 'localhost', String(closed)]);
    expect(r).toMatchObject({ code: 1, stderr: '', stdout: `connect error: Connection refused (127.0.0.1.${closed})\n` });
  });

  it('probes -c times with a ping-style summary', async () => {
    const r = await sockit(['connect', '-c', '3', '-i', '0.05', '127.0.0.1', String(port)]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (const l of lines.slice(0, 3)) expect(l).toMatch(CONNECTED('127.0.0.1', port));
    expect(lines[3]).toBe('');
    expect(lines[4]).toBe(`--- 127.0.0.1 port ${port} connect statistics ---`);
    expect(lines[5]).toMatch(/^3 attempts, 3 connected, 0 failed, time \d+ms$/);
    const m = /^rtt min\/avg\/max\/mdev = (\d+\.\d{3})\/(\d+\.\d{3})\/(\d+\.\d{3})\/(\d+\.\d{3}) ms$/.exec(lines[6]!);
    expect(m).not.toBeNull();
    const [min, avg, max] = m!.slice(1, 4).map(Number);
    expect(min).toBeLessThanOrEqual(avg!);
    expect(avg).toBeLessThanOrEqual(max!);
  });

  it('counts failures and exits 1 when no probe connected', async () => {
    const closed = await closedPort();
    const r = await sockit(['connect', '-c', '2', '-i', '0', '127.0.0.1', String(closed)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\n2 attempts, 0 connected, 2 failed, time \d+ms\n$/);
    expect(r.stdout).not.toMatch(/rtt/);
  });

  it('--json: start, a connection record per attempt, then a summary, in the vocabulary', async () => {
    const r = await sockit(['connect', '--json', '-c', '2', '-i', '0', '127.0.0.1', String(port)]);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).toHaveLength(4);
    expect(objs[0]).toEqual({ type: 'start', host: '127.0.0.1', port, addresses: ['127.0.0.1'], timeout_ms: 5000 });
    const remote = { family: 4, address: '127.0.0.1', port };
    expect(objs[1]).toMatchObject({ type: 'connection', proto: 'tcp', seq: 1, remote, local: { family: 4, address: '127.0.0.1' } });
    expect(objs[2]).toMatchObject({ type: 'connection', seq: 2, remote });
    expect((objs[1]!.local as { port: number }).port).toBeGreaterThan(0);
    expect(objs[3]).toMatchObject({ type: 'summary', host: '127.0.0.1', port, attempts: 2, connected: 2, failed: 0, exit_code: 0 });
    const times = [objs[1]!.time_ms, objs[2]!.time_ms] as number[];
    expect(objs[3]!.min_ms).toBe(Math.min(...times));
    expect(objs[3]!.max_ms).toBe(Math.max(...times));
  });

  it('--json: a refused connect is an error record with code and message, exit 1', async () => {
    const closed = await closedPort();
    const r = await sockit(['connect', '--json', '127.0.0.1', String(closed)]);
    expect(r.code).toBe(1);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[1]).toMatchObject({
      type: 'error',
      kind: 'connect',
      seq: 1,
      remote: { family: 4, address: '127.0.0.1', port: closed },
      code: 'ECONNREFUSED',
      message: 'Connection refused',
    });
    expect(objs[2]).toMatchObject({ type: 'summary', attempts: 1, connected: 0, failed: 1, exit_code: 1 });
    expect(objs[2]).not.toHaveProperty('min_ms');
  });

  it('--json: a name that does not resolve is an error record of kind resolve, then the summary, exit 2', async () => {
    const r = await sockit(['connect', '--json', 'no-such-host.invalid', '7']);
    expect(r).toMatchObject({ code: 2, stderr: 'sockit connect: no-such-host.invalid: Name or service not known\n' });
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

  it('takes a service name', async () => {
    const r = await sockit(['connect', '--json', '127.0.0.1', 'echo']);
    expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ type: 'start', port: 7 });
    expect(JSON.parse(r.stdout.split('\n')[1]!)).toMatchObject({ remote: { address: '127.0.0.1', port: 7 } });
  });

  it('binds the -s source address first', async () => {
    const r = await sockit(['connect', '--json', '-s', '127.0.0.2', '127.0.0.1', String(port)]);
    expect(r.code).toBe(0);
    const attempt = JSON.parse(r.stdout.split('\n')[1]!) as { local: { address: string } };
    expect(attempt.local.address).toBe('127.0.0.2');
  });

  it.each([
    [['connect'], "missing required argument 'host'"],
    [['connect', '127.0.0.1'], "missing required argument 'port'"],
    [['connect', '127.0.0.1', '0'], "invalid port: '0'"],
    [['connect', '127.0.0.1', 'nosuchservice'], "invalid port: 'nosuchservice'"],
    [['connect', '-t', '-1', '127.0.0.1', '7'], "invalid timeout: '-1'"],
    [['connect', '-t', '1s', '127.0.0.1', '7'], "invalid timeout: '1s'"],
    [['connect', '-c', '0', '127.0.0.1', '7'], "invalid count: '0': out of range: 1 <= value <= 1000000"],
    [['connect', '-i', 'x', '127.0.0.1', '7'], "invalid interval: 'x'"],
    [['connect', '-4', '-6', 'localhost', '7'], 'only one of -4 and -6'],
    [['connect', '-4', '::1', '7'], '::1: Address family for hostname not supported'],
    [['connect', '-s', 'me', '127.0.0.1', '7'], "invalid source address: 'me'"],
    [['connect', '-s', '::1', '-4', '127.0.0.1', '7'], 'source address ::1 is not IPv4'],
    [['connect', '-s', '192.0.2.77', '127.0.0.1', '7'], 'bind error: Cannot assign requested address'],
    [['connect', 'no-such-host.invalid', '7'], 'no-such-host.invalid: Name or service not known'],
    [['connect', '--bogus', '127.0.0.1', '7'], "unknown option '--bogus'"],
  ])('bad input %j: one line, exit 2', async (args, message) => {
    const r = await sockit(args);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: `sockit connect: ${message}\n` });
  });

  describe('sockit connect -c takes signals as iputils ping does', () => {
    async function connectKilled(
      signal: NodeJS.Signals,
      args: string[],
    ): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
      const c = startSockit(['connect', '-c', '1000', '-i', '0.2', ...args]);
      try {
        await c.line(() => (c.stdout.match(/^(connected|connect error|\{"type":"(connection|error)")/gm) ?? []).length >= 3);
        c.kill(signal);
        return { ...(await c.exited), stdout: c.stdout, stderr: c.stderr };
      } finally {
        await c.stop();
      }
    }

    it('SIGINT: the statistics, then exit 0 when something answered (ping: the same)', async () => {
      const ping = await pingKilled('SIGINT');
      expect(ping).toMatchObject({ code: 0, signal: null });
      expect(ping.stdout).toMatch(
        /\n\n--- 127\.0\.0\.1 ping statistics ---\n\d+ packets transmitted, \d+ received, 0% packet loss, time \d+ms\nrtt min\/avg\/max\/mdev = [\d./]+ ms\n$/,
      );
      const r = await connectKilled('SIGINT', ['127.0.0.1', String(port)]);
      expect(r).toMatchObject({ code: 0, signal: null, stderr: '' });
      expect(r.stdout).toMatch(
        new RegExp(
          `\\n\\n--- 127\\.0\\.0\\.1 port ${port} connect statistics ---\\n(\\d+) attempts, \\1 connected, 0 failed, time \\d+ms\\nrtt min/avg/max/mdev = [\\d./]+ ms\\n$`,
        ),
      );
    });

    it('SIGINT with nothing connected: the statistics, exit 1', async () => {
      const closed = await closedPort();
      const r = await connectKilled('SIGINT', ['127.0.0.1', String(closed)]);
      expect(r).toMatchObject({ code: 1, signal: null });
      expect(r.stdout).toMatch(/\n(\d+) attempts, 0 connected, \1 failed, time \d+ms\n$/);
    });

    it('SIGINT with --json: the summary is the last line, with the exit code', async () => {
      const r = await connectKilled('SIGINT', ['--json', '127.0.0.1', String(port)]);
      expect(r).toMatchObject({ code: 0, signal: null });
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      const last = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
      expect(last).toMatchObject({ type: 'summary', exit_code: 0, failed: 0 });
      expect(last.attempts).toBeGreaterThanOrEqual(3);
    });

    it('SIGTERM kills it without statistics (ping: the same)', async () => {
      const ping = await pingKilled('SIGTERM');
      expect(ping).toMatchObject({ code: null, signal: 'SIGTERM' });
      expect(ping.stdout).not.toMatch(/statistics/);
      const r = await connectKilled('SIGTERM', ['127.0.0.1', String(port)]);
      expect(r).toMatchObject({ code: null, signal: 'SIGTERM' });
      expect(r.stdout).not.toMatch(/statistics/);
    });
  });
});

/** iputils ping on loopback, killed with `signal` after its third reply. */
async function pingKilled(signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  const child = spawn('ping', ['-i', '0.2', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if ((stdout.match(/icmp_seq=/g) ?? []).length >= 3) resolve();
    }),
  );
  child.kill(signal);
  return { ...(await exited), stdout };
}

describe('sockit connect -h', () => {
  it('prints the help with a usage line that starts with sockit, exit 0', async () => {
    const r = await sockit(['connect', '-h']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: sockit connect \[-t timeout\] \[-c count\]/);
    expect(r.stdout).toMatch(/^  --json {2,}JSON lines/m);
    expect((await sockit(['connect', '--help'])).stdout).toBe(r.stdout);
  });
});

describe.skipIf(!isRoot)(`sockit connect across the lab (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  let echo: Running;
  const PORT = 7777;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 1, ipv6: true, name: 'connect' });
    echo = startSockitIn(lab, lab.dst, ['echo', 'server', '-p', String(PORT), '--json']);
    await echo.json('listening');
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('connects across a router', async () => {
    const r = await sockitIn(lab, lab.src, ['connect', lab.dst.v4, String(PORT)]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd()).toMatch(CONNECTED(lab.dst.v4, PORT));
  });

  it('times out within the timeout against a host whose firewall drops SYNs', async () => {
    await lab.dropTcpSyn(lab.dst, 7001);
    const r = await sockitIn(lab, lab.src, ['connect', '--json', '-t', '0.5', lab.dst.v4, '7001']);
    expect(r.code).toBe(1);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const [, attempt] = r.stdout.split('\n').map((l) => (l ? (JSON.parse(l) as Record<string, unknown>) : null));
    expect(attempt).toMatchObject({ type: 'timeout', seq: 1, code: 'ETIMEDOUT', message: 'Connection timed out' });
    expect(attempt!.time_ms as number).toBeGreaterThanOrEqual(490);
    expect(attempt!.time_ms as number).toBeLessThan(1500);
    const text = await sockitIn(lab, lab.src, ['connect', '-t', '0.3', lab.dst.v6, '7001']);
    expect(text).toMatchObject({ code: 1, stdout: `connect error: Connection timed out (${lab.dst.v6}.7001)\n` });
  });

  it('a host with a dead and a live address connects on the second', async () => {
    // dual.lab has both of dst's addresses (src's own /etc/hosts); the one
    // getaddrinfo puts first silently drops SYNs
    lab.hosts(lab.src, [`${lab.dst.v6} dual.lab`, `${lab.dst.v4} dual.lab`]);
    const ahosts = await lab.exec(lab.src, ['getent', 'ahosts', 'dual.lab']);
    const [dead, live, ...more] = ahosts.stdout
      .split('\n')
      .filter((l) => / STREAM /.test(l))
      .map((l) => l.split(/\s+/)[0]!);
    expect([dead, live].sort()).toEqual([lab.dst.v4, lab.dst.v6].sort());
    expect(more).toEqual([]);
    const ip = dead!.includes(':') ? 'ip6' : 'ip';
    await lab.nft(lab.dst, `add rule inet lab input ${ip} daddr ${dead} tcp dport ${PORT} tcp flags & (fin|syn|rst|ack) == syn drop`);
    const r = await sockitIn(lab, lab.src, ['connect', '-t', '0.5', 'dual.lab', String(PORT)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`connect error: Connection timed out (${dead}.${PORT})`);
    expect(lines[1]).toMatch(CONNECTED(live!, PORT));
    expect(lines).toHaveLength(2);
  });

  it('reports a router\'s host unreachable as "No route to host"', async () => {
    await lab.unreachable(lab.routers[0]!, `${lab.dst.v4}/32`, 'host');
    try {
      const r = await sockitIn(lab, lab.src, ['connect', '-t', '3', lab.dst.v4, String(PORT)]);
      expect(r).toMatchObject({ code: 1, stdout: `connect error: No route to host (${lab.dst.v4}.${PORT})\n` });
    } finally {
      await lab.exec(lab.routers[0]!, ['ip', 'route', 'del', `${lab.dst.v4}/32`]);
    }
  });

  it('reports a missing route as "Network is unreachable" (last: it removes src\'s default route)', async () => {
    await lab.unreachable(lab.src, '203.0.113.0/24', 'net');
    const r = await sockitIn(lab, lab.src, ['connect', '-c', '2', '-i', '0', '203.0.113.9', '80']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^connect error: Network is unreachable \(203\.0\.113\.9\.80\)\nconnect error: Network is unreachable \(203\.0\.113\.9\.80\)\n\n--- 203\.0\.113\.9 port 80 connect statistics ---\n2 attempts, 0 connected, 2 failed, time \d+ms\n$/,
    );
  });
});
