// The addon's recv/send/epoll and the stack's EventSet on real sockets:
// socketpairs and loopback TCP connections, and TcpServer's direct mode.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { EventSet } from '../../src/stack/epoll.js';
import { native } from '../../src/stack/native/index.js';
import { TcpServer, type ConnectionEnd } from '../../src/stack/servers.js';

function pair(): [number, number] {
  return native.socketpair(C.AF_UNIX, C.SOCK_STREAM, 0); // the addon makes them non-blocking
}

describe('native recv and send', () => {
  it('move bytes between offsets of caller buffers; -1 when nothing is queued; 0 at EOF', () => {
    const [a, b] = pair();
    try {
      const out = Buffer.from('..hello..');
      expect(native.send(a, out, 2, 5, 0)).toBe(5);
      const into = Buffer.alloc(16, 0x2e);
      expect(native.recv(b, into, 3, 10, 0)).toBe(5);
      expect(into.subarray(0, 9).toString()).toBe('...hello.');
      expect(native.recv(b, into, 0, 16, 0)).toBe(-1);
      native.shutdown(a, C.SHUT_WR);
      expect(native.recv(b, into, 0, 16, 0)).toBe(0);
    } finally {
      native.close(a);
      native.close(b);
    }
  });

  it('send says -1 once the socket buffer is full, and throws EPIPE (no SIGPIPE) once the peer is gone', () => {
    const [a, b] = pair();
    const chunk = Buffer.alloc(64 << 10);
    let sent = 0;
    let n: number;
    while ((n = native.send(a, chunk, 0, chunk.length, 0)) > 0) sent += n;
    expect(n).toBe(-1);
    expect(sent).toBeGreaterThan(0);
    native.close(b);
    expect(() => native.send(a, chunk, 0, 1, 0)).toThrow(expect.objectContaining({ code: 'EPIPE', syscall: 'send' }));
    native.close(a);
  });

  it('refuse a span outside the buffer', () => {
    const [a, b] = pair();
    try {
      expect(() => native.send(a, Buffer.alloc(4), 2, 3, 0)).toThrow(TypeError);
      expect(() => native.recv(b, Buffer.alloc(4), 0, 5, 0)).toThrow(TypeError);
    } finally {
      native.close(a);
      native.close(b);
    }
  });
});

describe('EventSet', () => {
  it('calls back once per ready member with its events, level-triggered, and not after it is removed', async () => {
    const pairs = [pair(), pair(), pair()];
    const seen: [number, number][] = [];
    let wake: () => void = () => {};
    const set = new EventSet((fd, ev) => {
      seen.push([fd, ev]);
      wake();
    });
    try {
      for (const [, r] of pairs) set.add(r, C.EPOLLIN);
      expect(set.size).toBe(3);
      native.send(pairs[0]![0], Buffer.from('x'), 0, 1, 0);
      native.send(pairs[2]![0], Buffer.from('y'), 0, 1, 0);
      await new Promise<void>((r) => (wake = r));
      await new Promise((r) => setImmediate(r));
      expect(new Set(seen.map(([fd]) => fd))).toEqual(new Set([pairs[0]![1], pairs[2]![1]]));
      expect(seen.every(([, ev]) => (ev & C.EPOLLIN) !== 0)).toBe(true);
      // unread data: ready again on the next turn
      seen.length = 0;
      await new Promise<void>((r) => (wake = r));
      expect(seen.length).toBeGreaterThan(0);
      // removed: never again
      set.remove(pairs[0]![1]);
      set.remove(pairs[2]![1]);
      seen.length = 0;
      await new Promise((r) => setTimeout(r, 30));
      expect(seen).toEqual([]);
      // EPOLLOUT on a writable member
      set.modify(pairs[1]![1], C.EPOLLOUT);
      await new Promise<void>((r) => (wake = r));
      expect(seen.at(-1)).toEqual([pairs[1]![1], C.EPOLLOUT]);
    } finally {
      set.close();
      for (const [a, b] of pairs) {
        native.close(a);
        native.close(b);
      }
    }
  });
});

describe('EventSet under load', () => {
  it('serves batch after batch in one loop turn while they keep coming, and hands the loop back for timers and immediates', async () => {
    // a ball played between the two ends of a socketpair, both in the set: always one member ready
    const [a, b] = pair();
    const ball = Buffer.alloc(1);
    let served = 0;
    let playing = true;
    const set = new EventSet((fd) => {
      if (native.recv(fd, ball, 0, 1, 0) !== 1) return;
      served++;
      if (playing) native.send(fd, ball, 0, 1, 0); // the other end's turn
    });
    try {
      set.add(a, C.EPOLLIN);
      set.add(b, C.EPOLLIN);
      native.send(a, ball, 0, 1, 0);
      // the loop still turns: immediates and timers run while the ball is in play
      const perTurn: number[] = [];
      let last = 0;
      for (let turn = 0; turn < 20; turn++) {
        await new Promise((r) => setImmediate(r));
        perTurn.push(served - last);
        last = served;
      }
      await new Promise((r) => setTimeout(r, 20));
      expect(served).toBeGreaterThan(last);
      // many one-event batches per loop callback, not one (each is a send and a receive: microseconds)
      expect(Math.max(...perTurn)).toBeGreaterThan(10);
      playing = false;
      await new Promise((r) => setTimeout(r, 30));
      const settled = served;
      await new Promise((r) => setTimeout(r, 30));
      expect(served).toBe(settled);
    } finally {
      set.close();
      native.close(a);
      native.close(b);
    }
  });
});

describe('TcpServer direct', () => {
  it('serves connections from one shared buffer: data, a custom end, counts and reasons in close', async () => {
    const ends: ConnectionEnd[] = [];
    const server = await TcpServer.listen({
      host: '127.0.0.1',
      port: 0,
      direct: {
        // upper-case what comes in; on the peer's EOF say goodbye first
        data: (conn, buf, n) => {
          for (let i = 0; i < n; i++) if (buf[i]! >= 0x61 && buf[i]! <= 0x7a) buf[i] = buf[i]! - 32;
          conn.write(buf, 0, n);
        },
        end: (conn) => {
          conn.write(Buffer.from('BYE\n'));
          conn.end();
        },
      },
    });
    server.on('close', (e) => ends.push(e));
    const { port } = server.address();
    const talk = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
        let got = '';
        s.setEncoding('utf8');
        s.on('data', (d) => (got += d));
        s.on('end', () => resolve(got));
        s.on('error', reject);
        s.end(text);
      });
    expect(await Promise.all([talk('hello\n'), talk('world\n')])).toEqual(['HELLO\nBYE\n', 'WORLD\nBYE\n']);
    await server.shutdown();
    expect(server.connections).toBe(0);
    expect(ends.map((e) => [e.bytesRead, e.bytesWritten, e.reason, e.peer.address])).toEqual([
      [6, 10, undefined, '127.0.0.1'],
      [6, 10, undefined, '127.0.0.1'],
    ]);
  });

  it('takes a handler or direct, not both and not neither', () => {
    expect(() => TcpServer.listen({ port: 0 })).toThrow(TypeError);
    expect(() => TcpServer.listen({ port: 0, handler: () => {}, direct: { data: () => {} } })).toThrow(TypeError);
  });
});
