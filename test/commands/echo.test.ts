// sockit echo: the book's echo server and client over loopback, as a user runs them.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { connectSocket } from '../../src/stack/connect.js';
import { Socket, inetAddress } from '../../src/stack/socket.js';
import { type Running, sockit, sockitIn, startSockit, startSockitIn } from '../helpers/cli.js';
import { isRoot } from '../helpers/root.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot as labReady, needsRootReason } from '../lab/index.js';

async function startServer(args: string[]): Promise<{ server: Running; port: number }> {
  const server = startSockit(['echo', 'server', '-p', '0', '--json', ...args]);
  const { local } = await server.json<{ local: { port: number } }>('listening');
  return { server, port: local.port };
}

/** Connect, send `data`, half-close, and collect everything echoed until the server's EOF. */
function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const got: Buffer[] = [];
    s.on('data', (b: Buffer) => got.push(b));
    s.on('end', () => {
      s.end();
      resolve(Buffer.concat(got));
    });
    s.on('error', reject);
    s.end(data);
  });
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

function freePort(type: 'tcp' | 'udp'): Promise<number> {
  return new Promise((resolve) => {
    if (type === 'tcp') {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    } else {
      const s = dgram.createSocket('udp4').bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    }
  });
}

describe('sockit echo over TCP', () => {
  let server: Running;
  let port: number;
  beforeAll(async () => ({ server, port } = await startServer([])));
  afterAll(async () => {
    await server?.stop();
  });

  it('carries 1 MiB of random bytes through the client byte for byte (cat big | client | cmp)', async () => {
    const big = randomBytes(1 << 20);
    const r = await sockit(['echo', 'client', '127.0.0.1', String(port)], { input: big });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.length).toBe(big.length);
    expect(r.stdoutBytes.equals(big)).toBe(true);
  });

  it('serves 200 concurrent clients, every one byte-exact', async () => {
    const closes = () => server.events().filter((e) => e.type === 'close');
    const earlier = closes().length;
    const payloads = Array.from({ length: 200 }, (_, i) => randomBytes(16384 + i * 97));
    const echoed = await Promise.all(payloads.map((p) => roundTrip(port, p)));
    echoed.forEach((e, i) => expect(e.equals(payloads[i]!), `client ${i}`).toBe(true));
    // each connection closes with its byte counts once both sides are done
    await server.line(() => closes().length >= earlier + 200);
    const ours = closes().slice(earlier);
    expect(ours.every((c) => c.bytes_in === c.bytes_out)).toBe(true);
    expect(ours.reduce((n, c) => n + (c.bytes_in as number), 0)).toBe(payloads.reduce((n, p) => n + p.length, 0));
  });

  it('does not buffer without bound for a client that sends but never reads (RSS stays flat)', async () => {
    const before = rssKiB(server.pid);
    // a client with a small receive buffer that only writes
    const raw = Socket.open(C.AF_INET, C.SOCK_STREAM);
    raw.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 4096);
    await connectSocket(raw, inetAddress('127.0.0.1', port), { timeoutMs: 5000 });
    const hog = raw.toNetSocket();
    hog.pause();
    const chunk = randomBytes(1 << 16);
    let pushed = 0;
    // write until the kernel stops taking data: no 'drain' for 500 ms
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (pushed < 512 << 20) {
          pushed += chunk.length;
          if (!hog.write(chunk)) {
            const t = setTimeout(resolve, 500);
            hog.once('drain', () => {
              clearTimeout(t);
              pump();
            });
            return;
          }
        }
        resolve();
      };
      pump();
    });
    const after = rssKiB(server.pid);
    // the stall came long before 512 MiB, and the server kept (almost) none of it
    expect(pushed).toBeLessThan(256 << 20);
    expect(after - before, `server RSS ${before} -> ${after} KiB after the client pushed ${pushed >> 20} MiB`).toBeLessThan(32 * 1024);
    // others are still served meanwhile
    expect((await roundTrip(port, Buffer.from('still here\n'))).toString()).toBe('still here\n');
    hog.destroy();
  });

  it('a client that sends 32 MiB before reading a byte and then half-closes gets all of it back, and the close record counts it', async () => {
    const { server, port } = await startServer(['-b', '127.0.0.1']);
    try {
      // more than the sockets' buffers hold both ways (tcp_rmem and tcp_wmem reach 6 and 4 MiB)
      const data = randomBytes(32 << 20);
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      await new Promise((r) => s.once('connect', r));
      s.pause(); // the server's writes back stall until we read: it holds what it could not send and stops reading
      s.end(data);
      await new Promise((r) => setTimeout(r, 300));
      const got: Buffer[] = [];
      s.on('data', (b: Buffer) => got.push(b));
      s.resume();
      await new Promise((r) => s.once('end', r));
      s.destroy();
      expect(Buffer.concat(got).equals(data)).toBe(true);
      expect(await server.json('close')).toMatchObject({ bytes_in: 32 << 20, bytes_out: 32 << 20 });
    } finally {
      await server.stop();
    }
  });

  it('a client that resets its connection: the close record names ECONNRESET, and the server goes on', async () => {
    const { server, port } = await startServer(['-b', '127.0.0.1']);
    try {
      const s = net.connect({ port, host: '127.0.0.1' });
      await new Promise((r) => s.once('connect', r));
      s.write('x'.repeat(100));
      await new Promise((r) => s.once('data', r));
      s.resetAndDestroy(); // SO_LINGER 0: an RST, not a FIN
      expect(await server.json('close')).toMatchObject({ reason: 'ECONNRESET', bytes_in: 100, bytes_out: 100 });
      expect((await roundTrip(port, Buffer.from('after\n'))).toString()).toBe('after\n');
    } finally {
      await server.stop();
    }
  });

  it('prints "connection from <addr>, port <port>" per connection with -v', async () => {
    const v = startSockit(['echo', 'server', '-p', '0', '-b', '127.0.0.1', '-v']);
    try {
      const listening = await v.line(/^listening on /);
      const p = Number(/\.(\d+)$/.exec(listening)![1]);
      expect(listening).toBe(`listening on 127.0.0.1.${p}`);
      const s = net.connect({ port: p, host: '127.0.0.1' });
      await new Promise((r) => s.once('connect', r));
      expect(await v.line(/^connection from/)).toBe(`connection from 127.0.0.1, port ${s.localPort}`);
      s.destroy();
    } finally {
      await v.stop();
    }
  });
});

describe('sockit echo server lifecycle', () => {
  it('on SIGTERM stops accepting, finishes open connections, and exits 0', async () => {
    const { server, port } = await startServer([]);
    try {
      const open = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      const echoed: Buffer[] = [];
      open.on('data', (b: Buffer) => echoed.push(b));
      open.write('before\n');
      await server.json('connection');
      server.kill('SIGTERM');
      expect(await server.json('shutdown')).toEqual({ type: 'shutdown', open: 1 });
      // the listening socket is gone: a new client is refused
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(refused).toBe('ECONNREFUSED');
      // the open connection is still served to the end
      const ended = new Promise((r) => open.once('end', r));
      open.end('after\n');
      await ended;
      open.end();
      expect(Buffer.concat(echoed).toString()).toBe('before\nafter\n');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr).toBe('');
      expect(server.events().at(-1)).toMatchObject({ type: 'summary', proto: 'tcp', connections: 1, bytes_in: 13, bytes_out: 13 });
    } finally {
      await server.stop();
    }
  });

  it('a second signal closes the connections still open', async () => {
    const { server, port } = await startServer([]);
    try {
      const open = net.connect({ port, host: '127.0.0.1' });
      open.on('error', () => {});
      const closed = new Promise((r) => open.once('close', r));
      await server.json('connection');
      server.kill('SIGINT');
      await server.json('shutdown');
      server.kill('SIGINT');
      await closed;
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.events().find((e) => e.type === 'close')).toMatchObject({ reason: 'shutdown' });
    } finally {
      await server.stop();
    }
  });

  it('closes a connection idle longer than -t', async () => {
    const { server, port } = await startServer(['-t', '0.2']);
    try {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.resume();
      const t0 = performance.now();
      await new Promise((r) => s.once('close', r));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
      expect(await server.json('close')).toMatchObject({ reason: 'idle', bytes_in: 0 });
    } finally {
      await server.stop();
    }
  });

  it('reports bind errors as the book does, exit 2', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    const { port } = holder.address() as net.AddressInfo;
    const r = await sockit(['echo', 'server', '-b', '127.0.0.1', '-p', String(port)]);
    holder.close();
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'sockit echo: bind error: Address already in use\n' });
  });
});

describe('sockit echo client errors', () => {
  it('says "str_cli: server terminated prematurely" when the server closes first', async () => {
    const rude = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
    await new Promise((r) => rude.once('listening', r));
    const { port } = rude.address() as net.AddressInfo;
    const c = startSockit(['echo', 'client', '127.0.0.1', String(port)]); // stdin stays open
    try {
      expect(await c.exited).toEqual({ code: 1, signal: null });
      expect(c.stderr).toBe('sockit echo: str_cli: server terminated prematurely\n');
    } finally {
      await c.stop();
      rude.close();
    }
  });

  it("prints tcp_connect's error when nothing listens, exit 1", async () => {
    const port = await freePort('tcp');
    const r = await sockit(['echo', 'client', '127.0.0.1', String(port)], { input: 'x\n' });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `sockit echo: tcp_connect error for 127.0.0.1, ${port}: Connection refused\n` });
  });

  it.each([
    [['echo', 'sideways'], /^sockit echo: unknown mode 'sideways'/],
    [['echo', 'client'], /^sockit echo: missing required argument 'host'/],
    [['echo', 'client', '127.0.0.1', 'nosuchservice'], /^sockit echo: invalid port: 'nosuchservice'/],
    [['echo', 'client', '127.0.0.1', '65536'], /^sockit echo: invalid port: '65536'/],
    [['echo', 'client', '-u', '-t', 'soon', '127.0.0.1'], /^sockit echo: invalid timeout: 'soon'/],
    [['echo', 'client', 'no-such-host.invalid'], /^sockit echo: no-such-host.invalid: Name or service not known/],
    [['echo', 'client', '-4', '-6', '127.0.0.1'], /^sockit echo: only one -4 or -6 option may be specified$/m],
    [['echo', 'client', '-6', '127.0.0.1'], /^sockit echo: 127.0.0.1: Address family for hostname not supported$/m],
    [['echo', 'server', '-p', '70000'], /^sockit echo: invalid port: '70000'/],
    [['echo', 'server', '-b', 'example'], /^sockit echo: invalid bind address: 'example'/],
    [['echo', 'server', '-t', '-1'], /^sockit echo: /],
    [['echo', 'server', '--bogus'], /^sockit echo: unknown option '--bogus'/],
    [
      ['echo', 'client', '-u', '-t', '0', '127.0.0.1'],
      /^sockit echo: invalid timeout: '0': a UDP client must wait for its reply \(-t 0 means the kernel's connect timeout, for TCP only\)$/m,
    ],
  ])('bad input %j: one line, exit 2', async (args, message) => {
    const r = await sockit(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stdout).toBe('');
  });
});

describe('sockit echo usage and help', () => {
  it('bare `sockit echo`: both usages on stderr, nothing on stdout, exit 2', async () => {
    const r = await sockit(['echo']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^Usage: sockit echo server \[options\]\n {7}sockit echo client \[options\] host \[port\]\n/);
  });

  it.each([
    [['echo', '-h'], /^Usage: sockit echo server \[options\]\n/],
    [['echo', 'server', '-h'], /^Usage: sockit echo server \[-u\] \[-p port\]/],
    [['echo', 'client', '-h'], /^Usage: sockit echo client \[-u\] \[-4\|-6\] \[-t timeout\] \[-r retries\] \[--json\] host \[port\]\n/],
    [['echo', 'client', '--help'], /^Usage: sockit echo client /],
  ])('%j prints the help on stdout, exit 0', async (args, usage) => {
    const r = await sockit(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(usage);
    expect(r.stdout).not.toMatch(/^Usage: echo/m);
  });
});

describe('sockit echo --json', () => {
  let tcp: Running;
  let udp: Running;
  let tcpPort: number;
  let udpPort: number;
  beforeAll(async () => {
    ({ server: tcp, port: tcpPort } = await startServer(['-b', '127.0.0.1']));
    ({ server: udp, port: udpPort } = await startServer(['-u', '-b', '127.0.0.1']));
  });
  afterAll(async () => {
    await tcp?.stop();
    await udp?.stop();
  });

  const records = (stdout: string) =>
    stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('TCP client: the connection, replies that add up to the input, a summary', async () => {
    const input = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join('');
    const r = await sockit(['echo', 'client', '--json', '127.0.0.1', String(tcpPort)], { input });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const [connection, ...rest] = records(r.stdout);
    const summary = rest.pop()!;
    expect(connection).toMatchObject({
      type: 'connection',
      proto: 'tcp',
      remote: { family: 4, address: '127.0.0.1', port: tcpPort },
      local: { family: 4, address: '127.0.0.1' },
    });
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((x) => x.type === 'reply' && x.proto === 'tcp' && x.bytes === (x.text as string).length)).toBe(true);
    expect(rest.map((x) => x.text).join('')).toBe(input);
    expect(summary).toMatchObject({ type: 'summary', proto: 'tcp', bytes_out: input.length, bytes_in: input.length, exit_code: 0 });
    // the server saw this client's port
    const port = (connection!.local as { port: number }).port;
    expect(await tcp.json('connection')).toBeTruthy();
    await tcp.line(() => tcp.events().some((e) => e.type === 'close' && (e.remote as { port: number }).port === port));
  });

  it('UDP client: a reply per line with its round trip, a summary', async () => {
    const r = await sockit(['echo', 'client', '-u', '--json', '127.0.0.1', String(udpPort)], { input: 'one\ntwo\nthree' });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const all = records(r.stdout);
    const remote = { family: 4, address: '127.0.0.1', port: udpPort };
    expect(all.slice(0, 3)).toMatchObject([
      { type: 'reply', proto: 'udp', seq: 1, remote, bytes: 4, sent: 1, text: 'one\n' },
      { type: 'reply', proto: 'udp', seq: 2, remote, bytes: 4, sent: 1, text: 'two\n' },
      { type: 'reply', proto: 'udp', seq: 3, remote, bytes: 5, sent: 1, text: 'three' },
    ]);
    for (const x of all.slice(0, 3)) expect(x.time_ms).toBeGreaterThan(0);
    expect(all[3]).toMatchObject({ type: 'summary', proto: 'udp', requests: 3, replies: 3, retransmits: 0, bytes_out: 13, bytes_in: 13, exit_code: 0 });
    expect(all).toHaveLength(4);
  });

  it('a refused TCP client: an error record with code and message, the summary, exit 1', async () => {
    const port = await freePort('tcp');
    const r = await sockit(['echo', 'client', '--json', '127.0.0.1', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sockit echo: tcp_connect error for 127.0.0.1, ${port}: Connection refused\n`);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(records(r.stdout)).toEqual([
      { type: 'error', kind: 'connect', proto: 'tcp', remote: { family: 4, address: '127.0.0.1', port }, code: 'ECONNREFUSED', message: 'Connection refused' },
      { type: 'summary', exit_code: 1 },
    ]);
  });

  it('a name that does not resolve: an error record of kind resolve, the summary, exit 2', async () => {
    for (const u of [[], ['-u']]) {
      const r = await sockit(['echo', 'client', ...u, '--json', 'no-such-host.invalid']);
      expect(r).toMatchObject({ code: 2, stderr: 'sockit echo: no-such-host.invalid: Name or service not known\n' });
      expect(records(r.stdout)).toEqual([
        { type: 'error', kind: 'resolve', host: 'no-such-host.invalid', code: 'EAI_NONAME', message: 'Name or service not known' },
        { type: 'summary', exit_code: 2 },
      ]);
    }
  });

  it('a UDP client without an answer: a timeout record, the summary, exit 1', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const port = silent.address().port;
      const r = await sockit(['echo', 'client', '-u', '--json', '-t', '0.05', '-r', '1', '127.0.0.1', String(port)], { input: 'anyone?\n' });
      expect(r.code).toBe(1);
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      expect(records(r.stdout)).toEqual([
        { type: 'timeout', proto: 'udp', remote: { family: 4, address: '127.0.0.1', port }, sent: 2, code: 'ETIMEDOUT', message: 'dg_cli: socket timeout' },
        { type: 'summary', exit_code: 1 },
      ]);
    } finally {
      silent.close();
    }
  });

  it("the servers' records keep the vocabulary through to the summary after SIGTERM", async () => {
    for (const [server, proto, counts] of [
      [tcp, 'tcp', ['connections', 'bytes_in', 'bytes_out']],
      [udp, 'udp', ['datagrams', 'bytes_in']],
    ] as const) {
      const s = startSockit(['echo', 'server', ...(proto === 'udp' ? ['-u'] : []), '-p', '0', '-b', '127.0.0.1', '--json']);
      try {
        const { local } = await s.json<{ local: { port: number } }>('listening');
        expect(local).toEqual({ family: 4, address: '127.0.0.1', port: local.port });
        const r = await sockit(['echo', 'client', ...(proto === 'udp' ? ['-u'] : []), '127.0.0.1', String(local.port)], { input: 'ping\n' });
        expect(r.stdout).toBe('ping\n');
        await s.json(proto === 'tcp' ? 'close' : 'datagram');
        s.kill('SIGTERM');
        expect(await s.exited).toEqual({ code: 0, signal: null });
        expect(vocabularyProblems(s.stdout, 0)).toEqual([]);
        const summary = s.events().at(-1)!;
        expect(summary).toMatchObject({ type: 'summary', proto, bytes_in: 5, exit_code: 0 });
        for (const k of counts) expect(summary[k]).toBeGreaterThan(0);
        const peer = s.events().find((e) => e.type === (proto === 'tcp' ? 'close' : 'datagram'))!;
        expect(peer).toMatchObject({ proto, remote: { family: 4, address: '127.0.0.1' } });
      } finally {
        await s.stop();
      }
      expect(server.child.exitCode).toBeNull(); // the shared servers are untouched
    }
  });
});

describe('sockit echo client and signals', () => {
  it.each([['SIGINT'], ['SIGTERM']] as const)("dies of %s as the book's str_cli does (no handler: the shell sees 128+n)", async (signal) => {
    const { server, port } = await startServer(['-b', '127.0.0.1']);
    const c = startSockit(['echo', 'client', '127.0.0.1', String(port)]); // stdin stays open
    try {
      await server.json('connection');
      c.child.stdin!.write('hi\n');
      await c.line(/^hi$/);
      c.kill(signal);
      expect(await c.exited).toEqual({ code: null, signal });
      expect(c.stderr).toBe('');
    } finally {
      await c.stop();
      await server.stop();
    }
  });
});

describe('sockit echo over UDP', () => {
  let server: Running;
  let port: number;
  beforeAll(async () => ({ server, port } = await startServer(['-u'])));
  afterAll(async () => {
    await server?.stop();
  });

  it('echoes 1000 datagrams, one a line, in order', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => `datagram ${i} ${'x'.repeat(i % 50)}\n`).join('');
    const r = await sockit(['echo', 'client', '-u', '127.0.0.1', String(port)], { input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(input);
    await server.line(() => server.events().filter((e) => e.type === 'datagram').length >= 1000);
  });

  it('ignores a reply from anyone but the server and says so (UNP 8.8)', async () => {
    // a server that answers first from another address and port, then itself
    const real = dgram.createSocket('udp4');
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => real.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.2', r));
    real.on('message', (msg, rinfo) => {
      stranger.send(Buffer.from('spoofed\n'), rinfo.port, rinfo.address, () => real.send(msg, rinfo.port, rinfo.address));
    });
    try {
      const r = await sockit(['echo', 'client', '-u', '127.0.0.1', String(real.address().port)], { input: 'hello\n' });
      expect(r.stdout).toBe('hello\n');
      expect(r.stderr).toBe(`reply from 127.0.0.2:${stranger.address().port} (ignored)\n`);
      expect(r.code).toBe(0);
    } finally {
      real.close();
      stranger.close();
    }
  });

  it('retransmits, then gives up with "dg_cli: socket timeout", exit 1', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    let seen = 0;
    silent.on('message', () => seen++);
    try {
      const r = await sockit(['echo', 'client', '-u', '-t', '0.1', '-r', '2', '127.0.0.1', String(silent.address().port)], { input: 'anyone?\n' });
      expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'sockit echo: dg_cli: socket timeout\n' });
      expect(seen).toBe(3); // the first send and two retransmissions
    } finally {
      silent.close();
    }
  });
});

describe.skipIf(!labReady)(`echo and daytime clients pick a family with -4 / -6 (${isRoot ? 'lab: a name with both' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'family' });
    lab.hosts(lab.src, [`${lab.dst.v4} dual`, `${lab.dst.v6} dual`]);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('the TCP echo client connects over the family asked for', async () => {
    const server = startSockitIn(lab, lab.dst, ['echo', 'server', '-p', '7007', '-v']);
    try {
      await server.line(/^listening on /);
      for (const flag of ['-6', '-4'] as const) {
        const r = await sockitIn(lab, lab.src, ['echo', 'client', flag, 'dual', '7007'], { input: `via ${flag}\n` });
        expect(r).toMatchObject({ code: 0, stdout: `via ${flag}\n` });
        // the server saw the client's address of that family
        const src = flag === '-6' ? lab.src.v6 : lab.src.v4;
        expect(await server.line((l) => l.startsWith(`connection from ${src},`))).toMatch(/, port \d+$/);
      }
    } finally {
      await server.stop();
    }
  });

  it('the UDP daytime client asks over the family given', async () => {
    const server = startSockitIn(lab, lab.dst, ['daytime', 'server', '-u', '-p', '7013', '-v']);
    try {
      await server.line(/^listening on /);
      for (const [flag, to] of [
        ['-6', { family: 6, address: lab.dst.v6, port: 7013 }],
        ['-4', { family: 4, address: lab.dst.v4, port: 7013 }],
      ] as const) {
        const r = await sockitIn(lab, lab.src, ['daytime', 'client', '-u', '--json', flag, 'dual', '7013']);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout.split('\n')[0]!)).toMatchObject({ type: 'reply', proto: 'udp', remote: to });
      }
    } finally {
      await server.stop();
    }
  });
});
