// sockit sock as a user runs it: loopback clients and servers, the book's
// verbose lines and messages, and a namespace lab for multicast and names.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, sockit, sockitIn, startSockit, startSockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';

/** A sockit sock server on an ephemeral port: the port from its "listening on" line. */
async function server(args: string[], where = '127.0.0.1'): Promise<{ srv: Running; port: number }> {
  const srv = startSockit(['sock', '-s', ...args, ...(where ? [where] : []), '0']);
  const json = args.includes('--json') && args.includes('-i');
  const line = await srv.line(/listening on \S+\.\d+/, 10_000, json ? 'stdout' : 'stderr');
  return { srv, port: Number(/listening on \S+\.(\d+)/.exec(line)![1]) };
}

/** The server once it has ended: its exit and everything it printed. */
async function ended(srv: Running) {
  const { code, signal } = await srv.exited;
  return { code, signal, stdout: srv.stdout, stderr: srv.stderr, stdoutBytes: srv.stdoutBytes };
}

/**
 * Wait until a unix socket is bound (and listening, for a stream socket):
 * /proc/net/unix lists it with its path (abstract names with @) and flags.
 */
async function unixReady(path: string, type: 'stream' | 'dgram'): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const ready = readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .some((l) => {
        const f = l.trim().split(/\s+/);
        // Num RefCount Protocol Flags Type St Inode Path; __SO_ACCEPTCON (0x10000) when listening
        return f[7] === path && (type === 'dgram' ? f[4] === '0002' : f[4] === '0001' && (parseInt(f[3], 16) & 0x10000) !== 0);
      });
    if (ready) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} is not ready after 5 s`);
}

/** Wait until `pred` holds of what `srv` printed so far. */
async function until(srv: Running, stream: 'stdout' | 'stderr', pred: (text: string) => boolean, ms = 10_000): Promise<void> {
  await srv.line(() => pred(srv[stream]), ms, stream);
}

/** A Node server on loopback for the other end of a test. */
async function nodeServer(onConn: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

/** A UDP port nothing listens on (bound, read, released). */
async function freeUdpPort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const u = createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', r));
  const port = u.address().port;
  await new Promise<void>((r) => u.close(() => r()));
  return port;
}

/** sockit with standard input opened from a path (a directory, say), as the shell's `< path` does. */
async function sockitStdin(args: string[], path: string, flags = 'r'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const { openSync, closeSync } = await import('node:fs');
  const { sockitBin } = await import('../helpers/cli.js');
  const fd = openSync(path, flags);
  try {
    const child = spawn(process.execPath, [sockitBin, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: [fd, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    return { code, stdout, stderr };
  } finally {
    closeSync(fd);
  }
}

/** The records of a --json run that ended on an error: the vocabulary kept, the error, then the summary. */
function failedRun(records: string, code: number | null, kind: string, errno: string, message: string): void {
  expect(vocabularyProblems(records, code)).toEqual([]);
  expect(json(records)).toEqual([
    { type: 'error', kind, code: errno, message, text: `sockit sock: ${message}` },
    { type: 'summary', exit_code: code },
  ]);
}

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

function json(text: string): Record<string, any>[] {
  return lines(text).map((l) => JSON.parse(l) as Record<string, any>);
}

describe("sockit sock: bad input gets the original's messages and exit 2", () => {
  const cases: [string[], string][] = [
    [['-h', '-u', '127.0.0.1', '7'], "can't specify -h and -u"],
    [['-D', '-u', '127.0.0.1', '7'], "can't specify -D and -u"],
    [['-L', '0', '-u', '127.0.0.1', '7'], "can't specify -L and -u"],
    [['-N', '-u', '127.0.0.1', '7'], "can't specify -N and -u"],
    [['-f', '127.0.0.1.9', '-s', '7'], "can't specify -f with TCP"],
    [['-f', 'nodot', '-u', '-s', '7'], 'invalid -f option'],
    [['-l', 'nodot', '127.0.0.1', '7'], 'invalid -l option'],
    [['127.0.0.1'], 'missing <hostname> and/or <port>'],
    [['-s'], 'missing <port>'],
    [['127.0.0.1', '70000'], 'invalid port number: 70000 (0 to 65535)'],
    [['127.0.0.1', 'nosuchservice'], 'getservbyname() error for: nosuchservice/tcp'],
    [['nosuchhost.invalid', '7'], 'invalid hostname: nosuchhost.invalid'],
    [['-s', 'nosuchhost.invalid', '7'], 'invalid host name for server: nosuchhost.invalid'],
    [['-j', '10.1.2.3', '-u', '-s', '7'], 'invalid multicast address: 10.1.2.3'],
    [['-z', '127.0.0.1', '7'], "unrecognized option '-z'"],
    [['-n', 'ten', '127.0.0.1', '7'], "invalid -n option: 'ten'"],
    // a source of zero-byte writes, or of no writes, is no source: the book's -w/-n count from 1
    [['-w', '0', '-i', '127.0.0.1', '7'], "invalid -w option: '0' (1 to 2147483647)"],
    [['-n', '0', '-i', '127.0.0.1', '7'], "invalid -n option: '0' (1 to 2147483647)"],
    [['-r', '0', '-i', '-s', '7'], "invalid -r option: '0' (1 to 2147483647)"],
    [['127.0.0.1', '7', 'extra'], "extra argument 'extra' after <hostname> <port>"],
    [['-s', '127.0.0.1', '7', 'extra'], "extra argument 'extra' after [<IPaddr>] <port>"],
    [['-4', '::1', '7'], 'invalid hostname: ::1'],
    [['--unix', '/tmp/x', '127.0.0.1', '7'], '--unix takes no <host> or <port>'],
    [[...Array.from({ length: 10 }, () => ['-g', '192.0.2.1']).flat(), '127.0.0.1', '7'], 'too many source routes with: 192.0.2.1'],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ').slice(0, 60)} -> ${message}`, async () => {
      const r = await sockit(['sock', ...args]);
      expect(r.stderr).toBe(`sockit sock: ${message}\n`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    });
  }

  it('a refused connection is a system error: exit 1 with strerror, as err_sys', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await sockit(['sock', '127.0.0.1', String(port)]);
    expect(r.stderr).toBe('sockit sock: connect() error: Connection refused\n');
    expect(r.code).toBe(1);
  });

  it("--help shows the book's usage lines, as one block that starts `Usage: sockit sock`", async () => {
    const r = await sockit(['sock', '--help']);
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out.slice(0, 5)).toEqual([
      'Usage: sockit sock [ options ] <host> <port>              (for client; default)',
      '       sockit sock [ options ] -s [ <IPaddr> ] <port>     (for server)',
      '       sockit sock [ options ] -i <host> <port>           (for "source" client)',
      '       sockit sock [ options ] -i -s [ <IPaddr> ] <port>  (for "sink" server)',
      '       sockit sock [ options ] [ -s ] --unix <path>       (★ unix-domain socket)',
    ]);
    expect(out.filter((l) => /^\s*usage:/i.test(l))).toHaveLength(1);
    expect(r.stdout).toContain('-h              issue TCP half close on standard input EOF');
  });

  it("a server whose port is in use: the book's bind message, exit 2 (a setup error, sockit(1))", async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = String((busy.address() as net.AddressInfo).port);
    try {
      const r = await sockit(['sock', '-s', '127.0.0.1', port]);
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', "sockit sock: can't bind local address: Address already in use\n"]);
      // --json: the error as a record, then the summary; a sink's records are on stdout, its line on stderr too
      const j = await sockit(['sock', '-i', '-s', '--json', '127.0.0.1', port]);
      expect(j.code).toBe(2);
      failedRun(j.stdout, j.code, 'usage', 'EADDRINUSE', "can't bind local address: Address already in use");
      expect(j.stderr).toBe("sockit sock: can't bind local address: Address already in use\n");
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('standard input a directory: the book\'s "read error", one line, exit 1', async () => {
    const peer = await nodeServer((s) => s.pipe(s));
    try {
      const r = await sockitStdin(['sock', '127.0.0.1', String(peer.port)], '/');
      expect([r.code, r.stdout, r.stderr]).toEqual([1, '', 'sockit sock: read error: Is a directory\n']);
      // --json: the records are on stderr (stdout carries the data), the summary last
      const j = await sockitStdin(['sock', '--json', '127.0.0.1', String(peer.port)], '/');
      expect(j.code).toBe(1);
      failedRun(j.stderr, j.code, 'system', 'EISDIR', 'read error: Is a directory');
      expect(j.stdout).toBe('');
      // a descriptor 0 open only for writing: read(2) fails with EBADF once the loop reads
      const dir = mkdtempSync(join(tmpdir(), 'sockit-stdin-'));
      try {
        const w = await sockitStdin(['sock', '127.0.0.1', String(peer.port)], join(dir, 'w'), 'w');
        expect([w.code, w.stdout, w.stderr]).toEqual([1, '', 'sockit sock: read error: Bad file descriptor\n']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await peer.close();
    }
  });
});

describe('sockit sock: TCP client and server', () => {
  it("a server whose standard input is at end of file ends once it accepts, as the book's does; -h reads the connection to its end", async () => {
    // without -h: the loop sees EOF on stdin and ends, though the client keeps its end open
    const a = await server([]);
    a.srv.child.stdin!.end();
    const held = net.connect(a.port, '127.0.0.1');
    await new Promise<void>((r) => held.once('connect', () => r()));
    const gone = await ended(a.srv);
    held.destroy();
    expect([gone.code, gone.stdout]).toEqual([0, '']);
    // with -h: stdin's EOF shuts the socket down for writing and the loop reads on to the peer's EOF
    const b = await server(['-h']);
    b.srv.child.stdin!.end();
    const data = 'hello\nworld\n';
    const peer = net.connect(b.port, '127.0.0.1');
    const fromServer: Buffer[] = [];
    peer.on('data', (d: Buffer) => fromServer.push(d));
    const peerEnded = new Promise<void>((r) => peer.once('end', () => r()));
    peer.end(data);
    const kept = await ended(b.srv);
    await peerEnded;
    expect([kept.code, kept.stdout, Buffer.concat(fromServer).length]).toEqual([0, data, 0]);
  });

  it('a large binary standard input crosses byte for byte, client to server and server to client', async () => {
    const up = randomBytes(3 << 20);
    const down = randomBytes(1 << 20);
    // client -> server: the client half-closes at its EOF, the server's stdin stays open
    const a = await server(['-v']);
    const cli = await sockit(['sock', '-h', '127.0.0.1', String(a.port)], { input: up, timeoutMs: 20_000 });
    const srv = await ended(a.srv);
    expect(cli.code).toBe(0);
    expect(srv.code).toBe(0);
    expect(srv.stdoutBytes.equals(up)).toBe(true);
    expect(lines(srv.stderr)).toEqual([
      expect.stringMatching(/^listening on 127\.0\.0\.1\.\d+$/),
      expect.stringMatching(/^connection on 127\.0\.0\.1\.\d+ from 127\.0\.0\.1\.\d+$/),
      expect.stringMatching(/^TCP_MAXSEG = \d+$/),
      'connection closed by peer',
    ]);
    // server -> client: the server half-closes (-h) at its EOF, the client's stdin stays open
    const b = await server(['-h'], '127.0.0.1');
    const client = startSockit(['sock', '-v', '127.0.0.1', String(b.port)]);
    await client.line(/^connected on/m, 10_000, 'stderr');
    b.srv.child.stdin!.end(down);
    const [c, s2] = await Promise.all([ended(client), ended(b.srv)]);
    expect(c.code).toBe(0);
    expect(s2.code).toBe(0);
    expect(c.stdoutBytes.equals(down)).toBe(true);
    expect(c.stderr).toMatch(/^connection closed by peer$/m);
  });

  it('echo: what goes out comes back byte for byte through a peer that echoes', async () => {
    const data = randomBytes(2 << 20);
    const echo = await nodeServer((s) => s.pipe(s));
    try {
      const r = await sockit(['sock', '-h', '127.0.0.1', String(echo.port)], { input: data, timeoutMs: 20_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdoutBytes.equals(data)).toBe(true);
    } finally {
      await echo.close();
    }
  });

  it('-h: the peer sees EOF and can still reply', async () => {
    let seen = -1;
    const peer = await nodeServer((s) => {
      let n = 0;
      s.on('data', (d: Buffer) => (n += d.length));
      s.on('end', () => {
        seen = n;
        s.end(`got ${n} bytes after your FIN\n`);
      });
    });
    try {
      const r = await sockit(['sock', '-h', '-v', '127.0.0.1', String(peer.port)], { input: 'x'.repeat(5000) });
      expect(r.code).toBe(0);
      expect(seen).toBe(5000);
      expect(r.stdout).toBe('got 5000 bytes after your FIN\n');
      expect(r.stderr).toMatch(/connection closed by peer\n$/);
      // without -h the book's client closes at standard input EOF: no reply arrives
      const r2 = await sockit(['sock', '127.0.0.1', String(peer.port)], { input: 'y'.repeat(10) });
      expect(r2.code).toBe(0);
      expect(r2.stdout).toBe('');
    } finally {
      await peer.close();
    }
  });

  it('-L 0: close sends a reset and the peer reads ECONNRESET', async () => {
    const { srv, port } = await server(['-v']);
    const client = startSockit(['sock', '-v', '-L', '0', '127.0.0.1', String(port)]);
    client.child.stdin!.write('abc\n');
    // the reset only once the server has read the data: libuv reports a reset that
    // arrives with unread data as end of file (POLLHUP after a partial read), not ECONNRESET
    await srv.line(/^abc$/, 10_000, 'stdout');
    client.child.stdin!.end();
    const cli = await ended(client);
    expect(cli.code).toBe(0);
    expect(cli.stderr).toMatch(/^linger on, time = 0$/m);
    const s = await ended(srv);
    expect(s.stdout).toBe('abc\n');
    expect(s.stderr).toMatch(/^sockit sock: recv error: Connection reset by peer$/m);
    expect(s.code).toBe(1);
  });

  it("-N -K -R -S -L -X -H -J -x -y -A -T -Y: each option is set, read back and printed, with the kernel's adjustments", async () => {
    const opts = ['-N', '-K', '-R', '20000', '-S', '30000', '-L', '4', '-X', '1200', '-H', '17', '-J', '9', '-x', '1500', '-y', '2000', '-A', '-T', '-Y'];
    const { srv, port } = await server(['-v', ...opts]);
    const cli = await sockit(['sock', '-v', ...opts, '127.0.0.1', String(port)], { input: 'hi' });
    const s = await ended(srv);
    expect(cli.code).toBe(0);
    for (const out of [cli.stderr, s.stderr]) {
      const l = lines(out);
      expect(l).toContain('SO_REUSEADDR set');
      expect(l).toContain('SO_REUSEPORT set');
      expect(l).toContain('SO_DONTROUTE set');
      expect(l).toContain('SO_RCVBUF = 40000 (requested 20000: doubled by the kernel for bookkeeping overhead, socket(7))');
      expect(l).toContain('SO_SNDBUF = 60000 (requested 30000: doubled by the kernel for bookkeeping overhead, socket(7))');
      expect(l).toContain("IP_TOS set to 16 (requested 17: the ECN bits of a TCP socket are the kernel's, ip(7))");
      expect(l).toContain('IP_TTL set to 9');
      expect(l).toContain('TCP_MAXSEG = 1200');
      expect(l).toContain('SO_KEEPALIVE set');
      expect(l).toContain('TCP_NODELAY set');
      expect(l).toContain('linger on, time = 4');
      expect(l).toContain('SO_RCVTIMEO: 1.500000');
      expect(l).toContain('SO_SNDTIMEO: 2.000000');
      // the connected socket's MSS: the timestamps option takes 12 bytes of the 1200
      expect(l).toContain('TCP_MAXSEG = 1188 (requested 1200: the MSS in use, less the TCP options every segment carries, tcp(7))');
    }
    // the book's order: options before connect, then the connection, then the rest
    const l = lines(cli.stderr);
    expect(l.findIndex((x) => x.startsWith('IP_TTL'))).toBeLessThan(l.findIndex((x) => x.startsWith('connected on')));
    expect(l.findIndex((x) => x.startsWith('connected on'))).toBeLessThan(l.indexOf('SO_KEEPALIVE set'));
    // without -v the same options are set in silence, as in the book
    const quiet = await server(opts);
    const q = await sockit(['sock', ...opts, '127.0.0.1', String(quiet.port)], { input: 'hi' });
    const qs = await ended(quiet.srv);
    expect([q.code, q.stderr, q.stdout]).toEqual([0, '', '']);
    expect(lines(qs.stderr)).toEqual([`listening on 127.0.0.1.${quiet.port}`]);
    expect(qs.stdout).toBe('hi');
  });

  it('-b and -l bind the client; -c converts newlines; -Z reads everything twice (peek, then read)', async () => {
    const a = await server(['-Z']);
    const cli = await sockit(['sock', '-v', '-c', '-l', '127.0.0.1.0', '127.0.0.1', String(a.port)], { input: 'one\ntwo\n' });
    const s = await ended(a.srv);
    expect(cli.code).toBe(0);
    expect(s.stdout).toBe('one\r\ntwo\r\none\r\ntwo\r\n');
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const bindport = (free.address() as net.AddressInfo).port;
    await new Promise((r) => free.close(r));
    const b = await server(['-v']);
    const c2 = await sockit(['sock', '-v', '-b', String(bindport), '127.0.0.1', String(b.port)], { input: 'x' });
    expect(c2.stderr).toMatch(new RegExp(`^connected on 127\\.0\\.0\\.1\\.${bindport} to 127\\.0\\.0\\.1\\.${b.port}$`, 'm'));
    expect((await ended(b.srv)).stderr).toMatch(new RegExp(`from 127\\.0\\.0\\.1\\.${bindport}$`, 'm'));
  });

  it('-k writes in 16 chunks, -V in one writev: the iov lines of write.c', async () => {
    for (const flag of ['-k', '-V']) {
      const { srv, port } = await server([]);
      const cli = await sockit(['sock', '-v', flag, '-h', '127.0.0.1', String(port)], { input: 'abcdefghijklmnopqrstuvwxyz0123' });
      expect(cli.code).toBe(0);
      const iov = lines(cli.stderr).filter((l) => l.startsWith('iov['));
      expect(iov).toHaveLength(15);
      expect(iov[0]).toBe('iov[ 0].iov_base = 0, iov[ 0].iov_len = 2');
      expect(iov[14]).toBe('iov[14].iov_base = 1c, iov[14].iov_len = 2');
      expect((await ended(srv)).stdout).toBe('abcdefghijklmnopqrstuvwxyz0123');
    }
  });

  it('-I: SIGIO arrives as data does (fcntl O_ASYNC)', async () => {
    const { srv, port } = await server(['-I', '-v']);
    const cli = startSockit(['sock', '-h', '127.0.0.1', String(port)]);
    await srv.line(/^connection on/m, 10_000, 'stderr');
    cli.child.stdin!.end('ping\n');
    expect(await srv.line(/ping/, 10_000, 'stdout')).toBe('ping');
    srv.child.stdin!.end();
    const r = await ended(srv);
    await ended(cli);
    expect(lines(r.stderr)).toContain('FIOASYNC set');
    expect(lines(r.stderr)).toContain('SIGIO');
  });
});

describe('sockit sock: source and sink', () => {
  it("TCP: -n buffers of -w bytes of the printable pattern, and the sink's count and throughput", async () => {
    const { srv, port } = await server(['-i', '-r', '4096'], '127.0.0.1');
    const cli = await sockit(['sock', '-i', '-n', '64', '-w', '1000', '127.0.0.1', String(port)]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^source: 64000 bytes in \d+\.\d{3} seconds = [\d.]+ MB\/s \([\d.]+ Gbit\/s\), 64 writes\n$/);
    const s = await ended(srv);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^sink: 64000 bytes in \d+\.\d{3} seconds = .*, \d+ reads\n$/);
  });

  it('★ a TCP sink is woken for whole -r reads (SO_RCVLOWAT): a few bytes wait in its queue (iproute2 ss), a verbose one reads them at once', async () => {
    /** The Recv-Q of the sink's end of the connection, as ss shows it. */
    const recvQ = (port: number) => {
      const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
      return Number(out.trim().split(/\s+/)[0]);
    };
    for (const [flags, held] of [
      [[], 10],
      [['-v'], 0],
    ] as const) {
      const { srv, port } = await server(['-i', '-r', '4096', ...flags]);
      const peer = net.connect(port, '127.0.0.1');
      await new Promise<void>((r) => peer.once('connect', () => r()));
      peer.write('0123456789');
      // the bytes are in the sink's receive queue in well under this; a verbose sink has read them
      await new Promise((r) => setTimeout(r, 300));
      const queued = recvQ(port);
      peer.end('x'.repeat(5000));
      const s = await ended(srv);
      expect([flags, queued, s.code]).toEqual([flags, held, 0]);
      expect(s.stdout).toMatch(/^sink: 5010 bytes in /);
    }
    // a read size far above a small, locked receive buffer (-R): the kernel caps the mark, the window never stalls
    const { srv, port } = await server(['-i', '-R', '4096', '-r', '131072']);
    const cli = await sockit(['sock', '-i', '-n', '256', '-w', '4096', '127.0.0.1', String(port)], { timeoutMs: 20_000 });
    const s = await ended(srv);
    expect([cli.code, s.code]).toEqual([0, 0]);
    expect(s.stdout).toMatch(/^sink: 1048576 bytes in /);
  });

  it("the pattern is the book's: printable ASCII from space to tilde, over and over", async () => {
    const got: Buffer[] = [];
    const peer = await nodeServer((s) => s.on('data', (d: Buffer) => got.push(d)).on('end', () => s.end()));
    try {
      const r = await sockit(['sock', '-i', '-n', '2', '-w', '100', '127.0.0.1', String(peer.port)]);
      expect(r.code).toBe(0);
      const all = Buffer.concat(got).toString('latin1');
      const one = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~' + ' !"#$';
      expect(all).toBe(one + one);
    } finally {
      await peer.close();
    }
  });

  it('-v: the source\'s "wrote" lines, the sink\'s "received" lines; --json has the same events, a transfer and the summary', async () => {
    const { srv, port } = await server(['-i', '-v', '--json']);
    const cli = await sockit(['sock', '-i', '-v', '-n', '3', '-w', '500', '-p', '20', '127.0.0.1', String(port)]);
    expect(lines(cli.stderr).filter((l) => l.startsWith('wrote'))).toEqual(['wrote 500 bytes', 'wrote 500 bytes', 'wrote 500 bytes']);
    const s = await ended(srv);
    expect(s.code).toBe(0);
    expect(vocabularyProblems(s.stdout, s.code)).toEqual([]);
    const ev = json(s.stdout);
    expect(ev[0]).toMatchObject({ type: 'listening', local: { family: 4, address: '127.0.0.1', port }, text: `listening on 127.0.0.1.${port}` });
    const conn = ev.find((e) => e.type === 'connection')!;
    expect(conn).toMatchObject({ role: 'server', local: { family: 4, address: '127.0.0.1', port }, remote: { family: 4, address: '127.0.0.1' } });
    expect(conn.text).toBe(`connection on 127.0.0.1.${port} from 127.0.0.1.${conn.remote.port}`);
    expect(ev.filter((e) => e.type === 'read').map((e) => e.bytes)).toEqual([500, 500, 500]);
    expect(ev.filter((e) => e.type === 'close')).toEqual([{ type: 'close', by: 'peer', text: 'connection closed by peer' }]);
    const [t, sum] = ev.slice(-2);
    expect(t).toMatchObject({
      type: 'transfer',
      mode: 'sink',
      proto: 'tcp',
      bytes: 1500,
      count: 3,
      counted: 'reads',
      remote: { family: 4, address: '127.0.0.1', port: conn.remote.port },
    });
    expect(t.max_rss_bytes).toBeGreaterThan(1 << 20);
    // the text line is the one sock prints, from the same numbers
    const m = /^sink: 1500 bytes in (\d+\.\d{3}) seconds = ([\d.]+) MB\/s \(([\d.]+) Gbit\/s\), 3 reads$/.exec(t.text)!;
    expect(Math.abs(Number(m[1]) * 1e3 - t.duration_ms)).toBeLessThanOrEqual(0.5 + 1e-6); // the text rounds to the ms
    expect(Math.abs(Number(m[2]) - t.bytes_per_s / 1e6)).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(Math.abs(Number(m[3]) - t.bits_per_s / 1e9)).toBeLessThanOrEqual(0.0005 + 1e-9);
    expect(t.bits_per_s).toBeCloseTo(t.bytes_per_s * 8, 3);
    expect(t.duration_ms).toBeGreaterThan(30); // two -p 20 pauses between the writes
    expect(sum).toEqual({ type: 'summary', exit_code: 0, transfers: 1, bytes: 1500 });
  });

  it('--json of an interactive client: its records on stderr, the data on stdout; options with requested and value', async () => {
    const peer = await nodeServer((c) => c.pipe(c));
    try {
      const r = await sockit(['sock', '--json', '-v', '-h', '-R', '20000', '-L', '3', '127.0.0.1', String(peer.port)], { input: 'hello\n' });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('hello\n');
      expect(vocabularyProblems(r.stderr, r.code)).toEqual([]);
      const ev = json(r.stderr);
      expect(ev.find((e) => e.name === 'SO_RCVBUF')).toEqual({
        type: 'option',
        name: 'SO_RCVBUF',
        requested: 20000,
        value: 40000,
        adjusted: 'doubled by the kernel for bookkeeping overhead, socket(7)',
        text: 'SO_RCVBUF = 40000 (requested 20000: doubled by the kernel for bookkeeping overhead, socket(7))',
      });
      expect(ev.find((e) => e.name === 'SO_LINGER')).toMatchObject({
        requested: { onoff: 1, linger: 3 },
        value: { onoff: 1, linger: 3 },
        text: 'linger on, time = 3',
      });
      expect(ev.find((e) => e.type === 'connection')).toMatchObject({ role: 'client', remote: { family: 4, address: '127.0.0.1', port: peer.port } });
      expect(ev.at(-1)).toEqual({ type: 'summary', exit_code: 0 });
    } finally {
      await peer.close();
    }
  });

  it('-U: the urgent byte travels out of band, not in the stream', async () => {
    const { srv, port } = await server(['-i', '-v']);
    const cli = await sockit(['sock', '-i', '-v', '-n', '4', '-w', '100', '-p', '30', '-U', '3', '127.0.0.1', String(port)]);
    expect(lines(cli.stderr).filter((l) => l.startsWith('wrote'))).toEqual([
      'wrote 100 bytes',
      'wrote 100 bytes',
      'wrote 1 byte of urgent data',
      'wrote 100 bytes',
      'wrote 100 bytes',
    ]);
    const s = await ended(srv);
    expect(lines(s.stderr)).toContain('received 1 byte of urgent data (3)');
    // 400 bytes in the stream: the urgent byte is not among them
    expect(s.stdout).toMatch(/^sink: 400 bytes /);
  });

  it('-x: a sink that waits longer than SO_RCVTIMEO fails as a blocking read would', async () => {
    const { srv, port } = await server(['-i', '-x', '200']);
    const cli = startSockit(['sock', '127.0.0.1', String(port)]);
    const s = await ended(srv);
    cli.child.stdin!.end();
    await ended(cli);
    expect(s.stderr).toMatch(/^sockit sock: recv error: Resource temporarily unavailable$/m);
    expect(s.code).toBe(1);
  });

  it('-O -P -Q: the pauses of a server, and "pausing before close" after the peer\'s FIN', async () => {
    const { srv, port } = await server(['-i', '-v', '-O', '50', '-P', '50', '-Q', '100']);
    const cli = await sockit(['sock', '-i', '-n', '2', '-w', '10', '127.0.0.1', String(port)]);
    expect(cli.code).toBe(0);
    const s = await ended(srv);
    expect(s.code).toBe(0);
    expect(lines(s.stderr).slice(-2)).toEqual(['connection closed by peer', 'pausing before close']);
  });

  it('TCP -W: a source reports each failed write and goes on; without -W the first failure ends it', async () => {
    // a peer that resets the connection when the first bytes arrive
    const peer = await nodeServer((c) => c.once('data', () => c.resetAndDestroy()));
    try {
      const args = ['-i', '-n', '20', '-w', '1000', '-p', '20', '127.0.0.1', String(peer.port)];
      const on = await sockit(['sock', '-W', ...args]);
      expect(on.code).toBe(0);
      const errors = lines(on.stderr);
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e).toMatch(/^sockit sock: write returned -1, expected 1000: (Broken pipe|Connection reset by peer)$/);
      const m = /^source: (\d+) bytes in .*, (\d+) writes\n$/.exec(on.stdout)!;
      expect(Number(m[2])).toBe(20 - errors.length);
      expect(Number(m[1])).toBe(1000 * Number(m[2]));
      const off = await sockit(['sock', ...args]);
      expect(off.code).toBe(1);
      expect(off.stderr).toMatch(/^sockit sock: write returned -1, expected 1000: (Broken pipe|Connection reset by peer)\n$/);
    } finally {
      await peer.close();
    }
  });

  it("UDP: the sink counts the source's datagrams and stops at its zero-length end mark", async () => {
    const { srv, port } = await server(['-u', '-i', '-v']);
    const cli = await sockit(['sock', '-u', '-i', '-n', '20', '-w', '300', '127.0.0.1', String(port)]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^source: 6000 bytes in .*, 20 datagrams\n$/);
    const s = await ended(srv);
    expect(s.code).toBe(0);
    expect(lines(s.stderr).filter((l) => l === 'received 300 bytes')).toHaveLength(20);
    expect(lines(s.stderr).at(-1)).toBe('connection closed by peer');
    expect(s.stdout).toMatch(/^sink: 6000 bytes in .*, 20 datagrams\n$/);
  });

  it('UDP: a sink stopped by SIGTERM still prints its summary', async () => {
    const { srv } = await server(['-u', '-i']);
    srv.child.kill('SIGTERM');
    const s = await ended(srv);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe('sink: 0 bytes in 0.000 seconds = n/a MB/s, 0 datagrams\n');
  });

  it('UDP -W: a source reports ECONNREFUSED (an ICMP port unreachable) and goes on; without -W it stops', async () => {
    const port = String(await freeUdpPort());
    const args = ['sock', '-u', '-i', '-n', '3', '-w', '10', '-p', '50', '127.0.0.1', port];
    const on = await sockit([...args.slice(0, 1), '-W', ...args.slice(1)]);
    expect(on.code).toBe(0);
    // the first send draws the ICMP error, the second reports it, the third goes out again
    expect(lines(on.stderr)).toEqual(['sockit sock: write returned -1, expected 10: Connection refused']);
    expect(on.stdout).toMatch(/^source: 20 bytes in .*, 2 datagrams\n$/);
    const off = await sockit(args);
    expect(off.stderr).toBe('sockit sock: write returned -1, expected 10: Connection refused\n');
    expect(off.code).toBe(1);
  });

  it('-F: one server handles 50 clients at once', async () => {
    const { srv, port } = await server(['-i', '-F', '-v', '-q', '64']);
    const clients = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const c = net.connect(port, '127.0.0.1', () => resolve(c));
            c.on('error', reject);
          }),
      ),
    );
    // all 50 are being served before any of them has sent a byte
    await until(srv, 'stderr', (t) => lines(t).filter((l) => l.startsWith('connection on ')).length === 50);
    expect(srv.stdout).toBe('');
    await Promise.all(clients.map((c, i) => new Promise<void>((r) => c.end(Buffer.alloc(100 + i, 0x61), () => r()))));
    await until(srv, 'stdout', (t) => lines(t).filter((l) => l.startsWith('sink: ')).length === 50);
    srv.child.kill('SIGTERM');
    await ended(srv);
    const sizes = lines(srv.stdout)
      .map((l) => Number(/^sink: (\d+) bytes/.exec(l)![1]))
      .sort((a, b) => a - b);
    expect(sizes).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  });
  it('-F interactive: standard input goes to every open connection; its EOF closes them all', async () => {
    const { srv, port } = await server(['-F', '-v']);
    const a = startSockit(['sock', '127.0.0.1', String(port)]);
    const b = startSockit(['sock', '127.0.0.1', String(port)]);
    await until(srv, 'stderr', (t) => lines(t).filter((l) => l.startsWith('connection on ')).length === 2);
    srv.child.stdin!.write('to all\n');
    expect(await a.line(/to all/)).toBe('to all');
    expect(await b.line(/to all/)).toBe('to all');
    srv.child.stdin!.end();
    const [ra, rb] = await Promise.all([ended(a), ended(b)]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    srv.kill();
    await srv.exited;
  });
});

describe('sockit sock: UDP, unix-domain sockets and IPv6', () => {
  it('UDP server: -v says where each datagram came from, -E where it went (IP_PKTINFO)', async () => {
    const { srv, port } = await server(['-u', '-v', '-E']);
    const cli = await sockit(['sock', '-u', '127.0.0.1', String(port)], { input: 'hello\n' });
    expect(cli.code).toBe(0);
    await srv.line(/hello/, 10_000, 'stdout');
    srv.child.stdin!.end();
    const s = await ended(srv);
    expect(s.stdout).toBe('from 127.0.0.1, to 127.0.0.1: hello\n');
    expect(lines(s.stderr)).toContain('IP_PKTINFO set');
  });

  it('-t 0 sets IP_MULTICAST_TTL 0 (the group on this host only); without -t it is left alone', async () => {
    const port = String(await freeUdpPort());
    const zero = await sockit(['sock', '-u', '-v', '-t', '0', '127.0.0.1', port], { input: '' });
    expect(zero.code).toBe(0);
    expect(lines(zero.stderr)).toContain('IP_MULTICAST_TTL set to 0');
    const none = await sockit(['sock', '-u', '-v', '127.0.0.1', port], { input: '' });
    expect(none.code).toBe(0);
    expect(none.stderr).not.toMatch(/IP_MULTICAST_TTL/);
  });

  describe('unix', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sockit-sock-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('stream: client to server through a path, removed when the server ends', async () => {
      const path = join(dir, 's');
      const srv = startSockit(['sock', '-s', '-v', '--unix', path]);
      await unixReady(path, 'stream');
      const data = randomBytes(1 << 20);
      const cli = await sockit(['sock', '-v', '-h', '--unix', path], { input: data });
      const s = await ended(srv);
      expect(cli.code).toBe(0);
      expect(cli.stderr.split('\n')[0]).toBe(`connected on (unnamed) to ${path}`);
      expect(lines(s.stderr)[0]).toBe(`connection on ${path} from (unnamed)`);
      expect(s.stdoutBytes.equals(data)).toBe(true);
      expect(existsSync(path)).toBe(false);
    });

    it('stream source and sink; datagrams through an abstract name', async () => {
      const path = join(dir, 'sink');
      const srv = startSockit(['sock', '-i', '-s', '--unix', path]);
      await unixReady(path, 'stream');
      const cli = await sockit(['sock', '-i', '-n', '10', '-w', '4096', '--json', '--unix', path]);
      expect(vocabularyProblems(cli.stdout, cli.code)).toEqual([]);
      const [t, sum] = json(cli.stdout);
      // a unix end has a path, the client's unnamed one null
      expect(t).toMatchObject({
        type: 'transfer',
        mode: 'source',
        proto: 'unix-stream',
        bytes: 40960,
        count: 10,
        counted: 'writes',
        local: { family: 'unix', path: null },
        remote: { family: 'unix', path },
      });
      expect(t.text).toMatch(/^source: 40960 bytes .*, 10 writes$/);
      expect(sum).toEqual({ type: 'summary', exit_code: 0, transfers: 1, bytes: 40960 });
      expect((await ended(srv)).stdout).toMatch(/^sink: 40960 bytes /);

      const name = `@sockit-test-${process.pid}`;
      const d = startSockit(['sock', '-u', '-s', '-v', '--unix', name]);
      await unixReady(name, 'dgram');
      const c = await sockit(['sock', '-u', '-v', '--unix', name], { input: 'dgram\n' });
      expect(c.code).toBe(0);
      expect(c.stderr).toMatch(new RegExp(`^connected on @[0-9a-f]{5} to ${name}$`, 'm'));
      const got = /^from (@[0-9a-f]{5}): dgram$/.exec(await d.line(/^from @[0-9a-f]{5}: dgram$/, 10_000, 'stdout'))!;
      expect(c.stderr).toContain(`connected on ${got[1]} `);
      d.child.stdin!.end();
      await ended(d);
    });
  });

  it('IPv6: ::1 and a wildcard -6 server', async () => {
    const { srv, port } = await server(['-v', '-6'], '');
    const cli = await sockit(['sock', '-v', '-h', '::1', String(port)], { input: 'six\n' });
    expect(cli.code).toBe(0);
    expect(cli.stderr).toMatch(new RegExp(`^connected on ::1\\.\\d+ to ::1\\.${port}$`, 'm'));
    const s = await ended(srv);
    expect(s.stdout).toBe('six\n');
    expect(s.stderr).toMatch(new RegExp(`^connection on ::1\\.${port} from ::1\\.\\d+$`, 'm'));
  });
});

describe.skipIf(!isRoot)(`sockit sock in the lab (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'sock' });
    // multicast leaves by eth0 (a back-to-back pair has no default route)
    await Promise.all([lab.src, lab.dst].map((n) => lab.exec(n, ['ip', 'route', 'add', '239.0.0.0/8', 'dev', 'eth0'])));
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('-j: a sink joined to a group receives what another namespace sends to it', async () => {
    const sink = startSockitIn(lab, lab.dst, ['sock', '-u', '-i', '-s', '-v', '-j', '239.1.2.3', '5001']);
    await sink.line(/^IP_ADD_MEMBERSHIP set$/m, 10_000, 'stderr');
    const src = await sockitIn(lab, lab.src, ['sock', '-u', '-i', '-v', '-t', '1', '-n', '5', '-w', '100', '-p', '10', '239.1.2.3', '5001']);
    expect(src.code).toBe(0);
    expect(lines(src.stderr)).toContain('IP_MULTICAST_TTL set to 1');
    const s = await ended(sink);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^sink: 500 bytes in .*, 5 datagrams\n$/);
  });

  it('a server bound to the group joins it itself ("multicast group joined")', async () => {
    const srv = startSockitIn(lab, lab.dst, ['sock', '-u', '-s', '-v', '239.1.2.4', '5002'], { stdin: 'pipe' });
    await srv.line(/^multicast group joined$/m, 10_000, 'stderr');
    await sockitIn(lab, lab.src, ['sock', '-u', '239.1.2.4', '5002'], { input: 'to the group\n' });
    await srv.line(/to the group/, 10_000, 'stdout');
    srv.child.stdin!.end();
    expect((await ended(srv)).stdout).toBe(`from ${lab.src.v4}: to the group\n`);
  });

  it('IPv6 by name across the namespaces', async () => {
    lab.hosts(lab.src, [`${lab.dst.v6} dst6`]);
    const srv = startSockitIn(lab, lab.dst, ['sock', '-s', '-v', '-6', '0'], { stdin: 'pipe' });
    const port = /\.(\d+)$/.exec(await srv.line(/^listening on :::?\.\d+$/, 10_000, 'stderr'))![1];
    const cli = await sockitIn(lab, lab.src, ['sock', '-v', '-h', 'dst6', port], { input: 'over v6\n' });
    const s = await ended(srv);
    expect(cli.code).toBe(0);
    expect(cli.stderr).toMatch(new RegExp(`^connected on ${lab.src.v6}\\.\\d+ to ${lab.dst.v6}\\.${port}$`, 'm'));
    expect(s.stdout).toBe('over v6\n');
    expect(s.stderr).toMatch(new RegExp(`^connection on ${lab.dst.v6}\\.${port} from ${lab.src.v6}\\.\\d+$`, 'm'));
  });
});
