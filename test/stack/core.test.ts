// The socket core on real loopback sockets.
import net from 'node:net';
import { constants, readdirSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { connectNonb } from '../../src/stack/connect.js';
import { type EchoReply, listen, type IcmpPacket } from '../../src/stack/icmp.js';
import { fromRelNs, native, relNsAt, timeBase, toRelNs } from '../../src/stack/native/index.js';
import * as icmp4 from '../../src/stack/packet/icmp4.js';
import * as icmp6 from '../../src/stack/packet/icmp6.js';
import { Socket, inetAddress } from '../../src/stack/socket.js';
import { linger, timeval } from '../../src/stack/structs.js';
import { isRoot, rootReason } from '../helpers/root.js';

function waitFor<T>(setup: (done: (v: T) => void) => void, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
    setup((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

// identifiers of this run's own echo traffic: raw sockets see every reply on the
// host, and another run of these tests (another checkout) may be injecting at once
const FAST_ID = 0x4000 | (process.pid & 0x3fff);

describe('errors', () => {
  it('carry code, negative errno and syscall like Node', () => {
    const s = Socket.open(C.AF_INET, C.SOCK_DGRAM);
    try {
      s.bind(inetAddress('198.51.100.77', 0)); // not configured here
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'EADDRNOTAVAIL', errno: -99, syscall: 'bind' });
      expect((e as Error).message).toBe('bind EADDRNOTAVAIL: Cannot assign requested address');
    } finally {
      s.close();
    }
    expect(() => native.socket(12345, C.SOCK_DGRAM, 0)).toThrow(expect.objectContaining({ code: 'EAFNOSUPPORT', syscall: 'socket' }));
    expect(() => native.getsockopt(-1, C.SOL_SOCKET, C.SO_TYPE, 4)).toThrow(expect.objectContaining({ code: 'EBADF', errno: -9 }));
    expect(() => native.bind(0, { family: 2, address: 'nonsense', port: 1 } as never)).toThrow(TypeError);
  });
});

describe('directories and links (the owners scan of ss -p)', () => {
  it('openat, getdents64 and readlinkat read /proc/self/fd as readdir and readlink do', () => {
    const fd = native.openat(-100, '/proc/self/fd', constants.O_DIRECTORY);
    try {
      const buf = Buffer.alloc(4096);
      const names: string[] = [];
      for (let got = native.getdents64(fd, buf); got > 0; got = native.getdents64(fd, buf))
        for (let at = 0; at < got; at += buf.readUInt16LE(at + 16)) names.push(buf.toString('latin1', at + 19, buf.indexOf(0, at + 19)));
      const numbered = names.filter((n) => n !== '.' && n !== '..');
      expect(numbered).toContain(String(fd));
      expect(numbered.map(Number)).toEqual(numbered.map(Number).sort((a, b) => a - b)); // the kernel's order: ascending
      // readdir sees the same, and its own descriptor besides
      const seen = readdirSync('/proc/self/fd');
      expect(seen.length).toBe(numbered.length + 1);
      expect(seen).toEqual(expect.arrayContaining(numbered));
      const link = Buffer.alloc(256);
      // the directory's own descriptor links to it; a short buffer cuts the target as readlink(2) does
      const len = native.readlinkat(fd, String(fd), link);
      expect(link.toString('utf8', 0, len)).toBe(readlinkSync(`/proc/self/fd/${fd}`));
      expect(native.readlinkat(fd, String(fd), link.subarray(0, 3))).toBe(3);
      // the name as a NUL-ended Buffer (the scan's, rewritten per descriptor): the same target
      const name = Buffer.from(`${fd}\0junk`, 'latin1');
      expect(link.toString('utf8', 0, native.readlinkat(fd, name, link))).toBe(readlinkSync(`/proc/self/fd/${fd}`));
      expect(() => native.readlinkat(fd, Buffer.from(String(fd)), link)).toThrow(TypeError);
    } finally {
      native.close(fd);
    }
    expect(() => native.readlinkat(-100, '/proc/self/status', Buffer.alloc(8))).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'readlinkat' }));
    expect(() => native.openat(-100, '/proc/self/status', constants.O_DIRECTORY)).toThrow(expect.objectContaining({ code: 'ENOTDIR', syscall: 'openat' }));
    expect(() => native.getdents64(-1, Buffer.alloc(64))).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'getdents64' }));
  });
});

describe('socket options as structs', () => {
  it('SO_LINGER and SO_RCVTIMEO round-trip', () => {
    const s = Socket.open(C.AF_INET, C.SOCK_STREAM);
    try {
      expect(linger.decode(s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, linger.size))).toEqual({ onoff: 0, linger: 0 });
      s.setsockopt(C.SOL_SOCKET, C.SO_LINGER, linger.encode({ onoff: 1, linger: 5 }));
      const l = s.getsockopt(C.SOL_SOCKET, C.SO_LINGER, linger.size);
      expect(l.length).toBe(8);
      expect(linger.decode(l)).toEqual({ onoff: 1, linger: 5 });

      s.setsockopt(C.SOL_SOCKET, C.SO_RCVTIMEO, timeval.encode(timeval.fromSeconds(1.5)));
      const tv = s.getsockopt(C.SOL_SOCKET, C.SO_RCVTIMEO, timeval.size);
      expect(tv.length).toBe(16);
      expect(timeval.decode(tv)).toEqual({ sec: 1, usec: 500000 });
      // the kernel reports the length it wrote, even when given more room
      expect(s.getsockopt(C.SOL_SOCKET, C.SO_TYPE, 64).length).toBe(4);
      expect(s.getInt(C.SOL_SOCKET, C.SO_TYPE)).toBe(C.SOCK_STREAM);
    } finally {
      s.close();
    }
  });
});

describe('nonblocking connect', () => {
  it('connects to a listener and reports the time taken', async () => {
    const server = net.createServer((c) => c.end('hi\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const c = await connectNonb('127.0.0.1', port, { timeoutMs: 2000 });
      expect(c.remote).toMatchObject({ address: '127.0.0.1', port });
      expect(c.elapsedNs).toBeGreaterThan(0n);
      // data flows through Node's streams once the fd is handed over
      const ns = c.socket.toNetSocket();
      const [data] = await once(ns, 'data');
      expect(String(data)).toBe('hi\n');
      ns.destroy();
    } finally {
      server.close();
    }
  });

  it('is refused by a closed port (v4 and v6)', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, host, r));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise((r) => probe.close(r));
      await expect(connectNonb(host, port, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', errno: -111 });
    }
  });

  it('lets options be set before connect and binds a source', async () => {
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const c = await connectNonb('127.0.0.1', port, {
        source: '127.0.0.2',
        configure: (s) => s.setsockopt(C.IPPROTO_TCP, C.TCP_MAXSEG, 1000),
      });
      expect(c.local).toMatchObject({ address: '127.0.0.2' });
      expect(c.socket.getInt(C.IPPROTO_TCP, C.TCP_MAXSEG)).toBeLessThanOrEqual(1000);
      c.socket.close();
    } finally {
      server.close();
    }
  });
});

describe('readiness on the event loop', () => {
  it('drains in batches and never starves the loop', async () => {
    const rx = Socket.open(C.AF_INET, C.SOCK_DGRAM).bind(inetAddress('127.0.0.1', 0));
    const tx = Socket.open(C.AF_INET, C.SOCK_DGRAM);
    rx.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 1 << 20);
    const to = rx.localAddress()!;
    const N = 600;
    for (let i = 0; i < N; i++) expect(tx.send(Buffer.from([i & 0xff]), to).bytes).toBe(1);
    let received = 0;
    let callbacks = 0;
    let immediateRanAt = -1;
    const buf = Buffer.alloc(16);
    setImmediate(() => {
      immediateRanAt = received;
    });
    await waitFor<void>((done) => {
      rx.onReadable(() => {
        callbacks++;
        for (let i = 0; i < 64 && rx.recv(buf); i++) received++;
        if (received === N) done();
      });
    });
    rx.close();
    tx.close();
    expect(received).toBe(N);
    expect(callbacks).toBeGreaterThanOrEqual(N / 64);
    // the loop ran other work before the queue was drained
    expect(immediateRanAt).toBeGreaterThanOrEqual(0);
    expect(immediateRanAt).toBeLessThan(N);
  });

  it('hands a listening fd to net.Server', async () => {
    const l = Socket.open(C.AF_INET6, C.SOCK_STREAM);
    l.setsockopt(C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
    l.bind(inetAddress('::1', 0)).listen(16);
    const port = (l.localAddress() as { port: number }).port;
    const server = net.createServer((c) => c.end('from fd\n'));
    await new Promise<void>((r) => l.toNetServer(server, r));
    const client = net.connect(port, '::1');
    const [data] = await once(client, 'data');
    expect(String(data)).toBe('from fd\n');
    client.destroy();
    server.close();
  });

  it('reports a pending socket error as an error readiness (POLLERR)', async () => {
    const s = Socket.open(C.AF_INET, C.SOCK_DGRAM);
    s.setsockopt(C.IPPROTO_IP, C.IP_RECVERR, 1);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    closed.close();
    s.connectStart(inetAddress('127.0.0.1', port)); // UDP: nobody listens there
    const ready = waitFor<{ error: boolean }>((done) =>
      s.onReadable((r) => {
        s.onReadable(null);
        done(r);
      }),
    );
    s.send(Buffer.from('x'));
    expect((await ready).error).toBe(true);
    const ee = s.recvError(Buffer.alloc(64));
    expect(ee?.control.error).toMatchObject({ errno: 111, origin: C.SO_EE_ORIGIN_ICMP, type: 3, code: 3 });
    expect(ee?.control.error?.offender).toMatchObject({ address: '127.0.0.1' });
    s.close();
  });
});

describe('times as Numbers', () => {
  it('ns since timeBase, exact far from the base, and back', () => {
    const stamps = new BigInt64Array([native.clock(C.CLOCK_REALTIME), timeBase + 2n ** 45n + 12345n, timeBase - 987654321n]);
    const halves = new Uint32Array(stamps.buffer);
    expect(relNsAt(halves, 0)).toBe(Number(stamps[0] - timeBase));
    expect(relNsAt(halves, 1)).toBe(2 ** 45 + 12345);
    expect(relNsAt(halves, 2)).toBe(-987654321);
    for (const t of stamps) expect(fromRelNs(toRelNs(t))).toBe(t);
  });
});

describe.skipIf(!isRoot)(`ICMP echo through a raw socket (${isRoot ? 'root' : rootReason})`, () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family} to loopback with kernel timestamp and ${family === 4 ? 'TTL' : 'hop limit'}`, async () => {
      const ep = listen({ family, mode: 'raw' });
      expect(ep.mode).toBe('raw');
      ep.setIdent(0xabcd);
      ep.filterEchoReplies();
      const dst = family === 4 ? '127.0.0.1' : '::1';
      const mod = family === 4 ? icmp4 : icmp6;
      // a raw socket sees every echo reply on the host (other pings on loopback too): wait for ours
      const got = waitFor<IcmpPacket>((done) =>
        ep.listen({ packet: (p) => (p.message.body as icmp4.Echo).id === 0xabcd && (p.message.body as icmp4.Echo).seq === 42 && done(p) }),
      );
      const sent = ep.send(mod.echo(mod.ECHO_REQUEST as never, ep.ident, 42, Buffer.from('sockit core test')), dst);
      const p = await got;
      ep.close();
      expect(sent.bytes).toBe(24);
      expect(p.from).toBe(dst);
      expect(p.message).toMatchObject({ type: mod.ECHO_REPLY, body: { kind: 'echo', id: 0xabcd, seq: 42 } });
      expect((p.message.body as icmp4.Echo).data.toString()).toBe('sockit core test');
      expect(p.ttl).toBe(64);
      expect(typeof p.rxNs).toBe('bigint');
      const rtt = p.rxNs! - sent.realNs;
      expect(rtt).toBeGreaterThan(0n);
      expect(rtt).toBeLessThan(1_000_000_000n);
    });
  }

  for (const family of [4, 6] as const) {
    it(`IPv${family}: the echo-reply fast path reports what the decoder reports${family === 4 ? ', bad checksums too' : ''}`, async () => {
      const mod = family === 4 ? icmp4 : icmp6;
      const dst = family === 4 ? '127.0.0.1' : '::1';
      const fast = listen({ family, mode: 'raw' });
      const slow = listen({ family, mode: 'raw' });
      const injector = listen({ family, mode: 'raw' });
      for (const ep of [fast, slow]) {
        ep.setIdent(FAST_ID);
        ep.filterEchoReplies();
      }
      type Seen = Omit<EchoReply, 'data' | 'ipOptions'> & { data: string; ipOptions: string };
      const fromFast = new Map<number, Seen>();
      const fromSlow = new Map<number, Seen>();
      const cases = [
        { seq: 1, data: Buffer.from('abc'), corrupt: false },
        { seq: 2, data: Buffer.from(Array.from({ length: 56 }, (_, i) => i)), corrupt: family === 4 },
        { seq: 3, data: Buffer.alloc(0), corrupt: false },
        // IPv4: a datagram with a record-route option, so the IP header is 60 bytes
        ...(family === 4 ? [{ seq: 4, data: Buffer.from('options'), corrupt: false, options: true }] : []),
      ];
      const withOptions = listen({ family, mode: 'raw' });
      if (family === 4) withOptions.socket.setsockopt(C.IPPROTO_IP, C.IP_OPTIONS, Buffer.from([1, 7, 39, 4, ...new Array(36).fill(0)]));
      const all = Promise.all([
        waitFor<void>((done) =>
          fast.listen({
            packet: () => {
              throw new Error('an echo reply took the decoding path');
            },
            // the object and its data view are reused: copy what we keep
            echoReply: (r) => {
              fromFast.set(r.seq, { ...r, data: r.data.toString('hex'), ipOptions: r.ipOptions.toString('hex') });
              if (fromFast.size === cases.length) done();
            },
          }),
        ),
        waitFor<void>((done) =>
          slow.listen({
            packet: (p) => {
              const b = p.message.body as icmp4.Echo;
              fromSlow.set(b.seq, {
                from: p.from,
                id: b.id,
                seq: b.seq,
                ttl: p.ttl,
                bytes: p.bytes,
                data: b.data.toString('hex'),
                ipOptions: p.ip?.options.toString('hex') ?? '',
                checksumOk: family === 4 ? p.message.checksumOk !== false : true,
                rxRelNs: toRelNs(p.rxNs!),
              });
              if (fromSlow.size === cases.length) done();
            },
          }),
        ),
      ]);
      for (const c of cases) {
        const wire = mod.encode(mod.echo(mod.ECHO_REPLY as never, FAST_ID, c.seq, c.data) as never);
        if (c.corrupt) wire[2] ^= 0xff;
        ('options' in c ? withOptions : injector).sendRaw(wire, dst);
      }
      await all;
      for (const ep of [fast, slow, injector, withOptions]) ep.close();
      for (const c of cases) {
        const f = fromFast.get(c.seq)!;
        // one skb, cloned to both sockets: the same kernel timestamp, to the nanosecond
        expect(f).toEqual(fromSlow.get(c.seq));
        expect(f).toMatchObject({ from: dst, id: FAST_ID, bytes: 8 + c.data.length, data: c.data.toString('hex'), checksumOk: !c.corrupt, ttl: 64 });
        expect(Number.isFinite(f.rxRelNs)).toBe(true);
        // NOP, record route with two hops filled in: the sender's output and loopback's input, both 127.0.0.1
        expect(f.ipOptions).toBe('options' in c ? `0107270c${'7f000001'.repeat(2)}${'00'.repeat(28)}` : '');
      }
    });
  }

  it("the identifier filter keeps other pings' replies from waking us", async () => {
    const a = listen({ family: 4, mode: 'raw' });
    const b = listen({ family: 4, mode: 'raw' });
    a.setIdent(1111);
    b.setIdent(2222);
    a.filterEchoReplies();
    const seenByA: number[] = [];
    a.listen({ packet: (p) => seenByA.push((p.message.body as icmp4.Echo).id) });
    const bDone = waitFor<void>((done) => {
      let n = 0;
      b.listen({
        packet: () => {
          if (++n === 20) done();
        },
      });
    });
    for (let i = 0; i < 20; i++) b.send(icmp4.echo(icmp4.ECHO_REQUEST, 2222, i, Buffer.alloc(8)), '127.0.0.1');
    await bDone;
    a.send(icmp4.echo(icmp4.ECHO_REQUEST, 1111, 1, Buffer.alloc(8)), '127.0.0.1');
    await waitFor<void>((done) => {
      const t = setInterval(() => {
        if (seenByA.length) {
          clearInterval(t);
          done();
        }
      }, 5);
    });
    a.close();
    b.close();
    // B's 20 replies (and the echo requests both sockets see on lo) never reached A
    expect(seenByA).toEqual([1111]);
  });
});
