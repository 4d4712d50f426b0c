// The sock core: the book's bytes (pattern, CR/LF, chunks, source routes),
// ports and services, options read back, and connections over loopback.
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { Socket } from '../../src/stack/socket.js';
import { explainAdjustment, findOption } from '../../src/stack/sockopt.js';
import {
  CoreConn,
  type SockEvent,
  SockFailure,
  acceptLoop,
  chunks,
  cliopen,
  crlfAdd,
  crlfStrip,
  defaultConfig,
  parsePort,
  pattern,
  servopen,
  sinkStream,
  sockopts,
  sourceRouteOption,
  sourceStream,
  splitDotted,
} from '../../src/stack/sock/index.js';

describe('sock bytes', () => {
  it('pattern: printable ASCII from space to tilde, over and over (pattern.c)', () => {
    const p = pattern(200);
    expect(p.length).toBe(200);
    expect(p.subarray(0, 95).toString('latin1')).toBe(Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(''));
    expect(p[95]).toBe(0x20);
    expect(p[199]).toBe(0x20 + (199 % 95));
    expect([...p].every((c) => c >= 0x20 && c <= 0x7e)).toBe(true);
  });

  it('crlfAdd turns every newline into CR LF; crlfStrip drops every CR', () => {
    expect(crlfAdd(Buffer.from('a\nb\n\n')).toString()).toBe('a\r\nb\r\n\r\n');
    const plain = Buffer.from('no newline');
    expect(crlfAdd(plain)).toBe(plain);
    expect(crlfStrip(Buffer.from('a\r\nb\rc\r\n')).toString()).toBe('a\nbc\n');
  });

  it('chunks: up to 16 pieces of ceil(n/16), at least 1 byte (write.c)', () => {
    expect(chunks(32)).toEqual(Array.from({ length: 16 }, (_, i) => [2 * i, 2]));
    const c26 = chunks(26);
    expect(c26).toHaveLength(13);
    expect(c26.at(-1)).toEqual([24, 2]);
    expect(chunks(5)).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    const c1000 = chunks(1000);
    expect(c1000).toHaveLength(16);
    expect(c1000.reduce((n, [, l]) => n + l, 0)).toBe(1000);
    expect(chunks(0)).toEqual([]);
  });

  it('sourceRouteOption: LSRR/SSRR, length, pointer 4, hops then destination, padded to 4', () => {
    const hop = (a: string) => Buffer.from(a.split('.').map(Number));
    const o = sourceRouteOption(false, [hop('192.0.2.1'), hop('192.0.2.17')], hop('198.51.100.7'));
    expect([...o]).toEqual([0x83, 15, 4, 192, 0, 2, 1, 192, 0, 2, 17, 198, 51, 100, 7, 0]);
    expect(sourceRouteOption(true, [], hop('192.0.2.9'))[0]).toBe(0x89);
    expect(sourceRouteOption(true, [], hop('192.0.2.9'))).toHaveLength(8);
  });

  it('splitDotted: the port after the last dot, for IPv4 and IPv6', () => {
    expect(splitDotted('192.0.2.1.5000')).toEqual({ address: '192.0.2.1', port: '5000' });
    expect(splitDotted('::1.7')).toEqual({ address: '::1', port: '7' });
    expect(splitDotted('nodot')).toBeUndefined();
  });
});

describe('ports and services', () => {
  it('a number 0-65535, or a name from /etc/services for the protocol', () => {
    expect(parsePort('7', 'tcp')).toBe(7);
    expect(parsePort('echo', 'udp')).toBe(7);
    expect(parsePort('65535', 'udp')).toBe(65535);
    expect(() => parsePort('70000', 'tcp')).toThrow(new SockFailure('invalid port number: 70000 (0 to 65535)', { usage: true }));
    const e = (() => {
      try {
        parsePort('no-such-service', 'udp');
      } catch (x) {
        return x as SockFailure;
      }
    })();
    expect(e?.message).toBe('getservbyname() error for: no-such-service/udp');
    expect(e?.usage).toBe(true);
  });
});

describe('options set, read back and explained', () => {
  it('explainAdjustment names the ECN bits of IP_TOS and the options inside TCP_MAXSEG', () => {
    expect(explainAdjustment(findOption('IP_TOS')!, 17, 16)).toBe("the ECN bits of a TCP socket are the kernel's, ip(7)");
    expect(explainAdjustment(findOption('IP_TOS')!, 32, 0)).toBe('adjusted by the kernel');
    expect(explainAdjustment(findOption('TCP_MAXSEG')!, 1200, 1188)).toBe('the MSS in use, less the TCP options every segment carries, tcp(7)');
  });

  it("sockopts in the book's order: before connect only what must precede the SYN, the rest after", () => {
    const cfg = { ...defaultConfig(), ipttl: 33, keepalive: true, nodelay: true, linger: 2, rcvtimeo: 1500, verbose: 1 };
    const s = Socket.open(C.AF_INET, C.SOCK_STREAM);
    try {
      const before: SockEvent[] = [];
      sockopts(s, cfg, false, (e) => before.push(e));
      expect(before).toEqual([{ event: 'option', name: 'IP_TTL', requested: 33, value: 33 }]);
      const after: SockEvent[] = [];
      // an unconnected socket stands in for a connected one: the options apply all the same
      sockopts(s, cfg, true, (e) => after.push(e));
      expect(after.map((e) => (e.event === 'option' ? e.name : e.event))).toEqual(['SO_KEEPALIVE', 'TCP_NODELAY', 'TCP_MAXSEG', 'SO_LINGER', 'SO_RCVTIMEO']);
      expect(after[3]).toMatchObject({ value: { onoff: 1, linger: 2 } });
      expect(after[4]).toEqual({ event: 'option', name: 'SO_RCVTIMEO', requested: { sec: 1, usec: 500000 }, value: { sec: 1, usec: 500000 } });
    } finally {
      s.close();
    }
  });

  it('an option the kernel refuses is err_sys: "<NAME> setsockopt error: <strerror>"', () => {
    const s = Socket.open(C.AF_UNIX, C.SOCK_STREAM);
    try {
      expect(() => sockopts(s, { ...defaultConfig(), iptos: 16 }, false, () => {})).toThrow('IP_TOS setsockopt error: Operation not supported');
    } finally {
      s.close();
    }
  });
});

describe('connections on the core', () => {
  it('servopen, cliopen and an iterative accept: one connection, the options again on it', async () => {
    const cfg = { ...defaultConfig(), server: true, verbose: 1, nodelay: true };
    const events: SockEvent[] = [];
    const l = await servopen(cfg, { host: '127.0.0.1', port: '0' }, (e) => events.push(e));
    expect(events[0]).toMatchObject({ event: 'listening', local: { family: C.AF_INET, address: '127.0.0.1' } });
    const port = (l.local as { port: number }).port;
    const served: number[] = [];
    const serving = acceptLoop(
      l.sock,
      cfg,
      (e) => events.push(e),
      async (conn) => {
        served.push(conn.fd);
        await sinkStream(conn, cfg, () => {});
      },
    );
    const client: SockEvent[] = [];
    const o = await cliopen({ ...defaultConfig(), verbose: 1, nbuf: 3, writelen: 10 }, { host: '127.0.0.1', port: String(port) }, (e) => client.push(e));
    expect(client[0]).toMatchObject({ event: 'connected', remote: { address: '127.0.0.1', port } });
    const sum = await sourceStream(o.sock, { ...defaultConfig(), nbuf: 3, writelen: 10 }, () => {});
    expect(sum).toMatchObject({ mode: 'source', proto: 'tcp', bytes: 30, count: 3 });
    await serving;
    l.sock.close();
    expect(served).toHaveLength(1);
    expect(events.map((e) => (e.event === 'option' ? e.name : e.event))).toEqual(['listening', 'connection', 'TCP_NODELAY', 'TCP_MAXSEG']);
  });

  it('CoreConn with MSG_PEEK delivers each read twice, peeked first', async () => {
    const cfg = { ...defaultConfig(), server: true };
    const l = await servopen(cfg, { host: '127.0.0.1', port: '0' }, () => {});
    const port = (l.local as { port: number }).port;
    const got: [string, boolean][] = [];
    const serving = acceptLoop(
      l.sock,
      cfg,
      () => {},
      (conn) =>
        new Promise<void>((resolve, reject) => {
          const c = new CoreConn(conn, { readlen: 64, peek: true });
          c.start(
            (chunk, peek) => {
              got.push([chunk.toString(), peek]);
            },
            () => {
              c.close();
              resolve();
            },
            reject,
          );
        }),
    );
    const o = await cliopen(defaultConfig(), { host: '127.0.0.1', port: String(port) }, () => {});
    o.sock.send(Buffer.from('abc'));
    o.sock.close();
    await serving;
    l.sock.close();
    expect(got).toEqual([
      ['abc', true],
      ['abc', false],
    ]);
  });
});
