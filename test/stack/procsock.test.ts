// The sockets of a process: /proc/net parsing, and pidfd_getfd on our own
// process (ptrace of oneself is always allowed).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { borrowSocket, parseProcNetInet, parseProcNetUnix, processName, processSockets } from '../../src/stack/procsock.js';
import { Socket, inetAddress } from '../../src/stack/socket.js';
import { getOption, setOption } from '../../src/stack/sockopt.js';

const INET_HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

describe('/proc/net parsing', () => {
  it('tcp and tcp6 rows: addresses in host-order words, state, queues, inode', () => {
    const v4 = parseProcNetInet(
      [
        INET_HEAD,
        '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
        '   1: 0100007F:9C40 0200A8C0:01BB 01 00000010:00000000 02:000A0B0C 00000000  1000        0 12346 2 0000000000000000 20 4 30 10 -1',
      ].join('\n'),
      'tcp',
      4,
    );
    expect(v4.get(12345)).toEqual({
      kind: 'tcp4',
      state: 'LISTEN',
      local: '127.0.0.1:8080',
      remote: '0.0.0.0:*',
      txQueue: 0,
      rxQueue: 3,
      localEnd: { family: 4, address: '127.0.0.1', port: 8080 },
      remoteEnd: null,
    });
    expect(v4.get(12346)).toMatchObject({
      state: 'ESTABLISHED',
      local: '127.0.0.1:40000',
      remote: '192.168.0.2:443',
      txQueue: 16,
      remoteEnd: { family: 4, address: '192.168.0.2', port: 443 },
    });
    const v6 = parseProcNetInet(
      [
        INET_HEAD,
        '   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23456 1 0000000000000000 100 0 0 10 0',
        '   1: B80D0120000000000000000001000000:0035 B80D0120000000000000000002000000:D431 07 00000000:00000000 00:00000000 00000000     0        0 23457 2 0000000000000000 0',
      ].join('\n'),
      'udp',
      6,
    );
    expect(v6.get(23456)).toMatchObject({ kind: 'udp6', local: '[::1]:22', remote: '[::]:*' });
    expect(v6.get(23457)).toMatchObject({ kind: 'udp6', state: 'UNCONN', local: '[2001:db8::1]:53', remote: '[2001:db8::2]:54321' });
    expect(v6.get(23456)).toMatchObject({ localEnd: { family: 6, address: '::1', port: 22 }, remoteEnd: null });
    // a raw socket's "port" is its protocol (or 0): its ends have none; connected, its peer still shows
    const raw = parseProcNetInet(
      [INET_HEAD, '   0: 00000000:0001 0100007F:0000 01 00000000:00000000 00:00000000 00000000     0        0 34567 2 0000000000000000 0'].join('\n'),
      'raw',
      4,
    );
    expect(raw.get(34567)).toMatchObject({
      kind: 'raw4',
      localEnd: { family: 4, address: '0.0.0.0', port: null },
      remoteEnd: { family: 4, address: '127.0.0.1', port: null },
    });
  });

  it('unix rows: type, listening flag, state and path', () => {
    const m = parseProcNetUnix(
      [
        'Num       RefCount Protocol Flags    Type St Inode Path',
        '0000000000000000: 00000002 00000000 00010000 0001 01 34567 /run/x.sock',
        '0000000000000000: 00000003 00000000 00000000 0001 03 34568',
        '0000000000000000: 00000002 00000000 00000000 0002 01 34569 @abstract name',
        '0000000000000000: 00000002 00000000 00000000 0005 01 34570',
      ].join('\n'),
    );
    expect(m.get(34567)).toEqual({
      kind: 'unix-stream',
      state: 'LISTEN',
      local: '/run/x.sock',
      remote: '',
      localEnd: { family: 'unix', path: '/run/x.sock' },
      remoteEnd: null,
    });
    expect(m.get(34568)).toMatchObject({ kind: 'unix-stream', state: 'CONNECTED', local: '(unnamed)' });
    expect(m.get(34569)).toMatchObject({ kind: 'unix-dgram', state: 'UNCONN', local: '@abstract name' });
    expect(m.get(34570)?.kind).toBe('unix-seqpacket');
  });

  it('ignores what is not a row', () => {
    expect(parseProcNetInet('', 'tcp', 4).size).toBe(0);
    expect(parseProcNetUnix('Num RefCount\n\ngarbage').size).toBe(0);
  });
});

describe('the sockets of a live process', () => {
  it("lists this process's sockets as /proc/self/fd and /proc/net see them", async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const u = Socket.open(C.AF_INET6, C.SOCK_DGRAM).bind(inetAddress('::1', 0));
    try {
      const socks = processSockets(process.pid);
      expect(socks.find((s) => s.local === `127.0.0.1:${port}`)).toMatchObject({ kind: 'tcp4', state: 'LISTEN', remote: '0.0.0.0:*' });
      const mine = socks.find((s) => s.fd === u.fd);
      expect(mine).toMatchObject({ kind: 'udp6', state: 'UNCONN' });
      expect(mine?.local).toMatch(/^\[::1\]:\d+$/);
      expect(socks.map((s) => s.fd)).toEqual([...socks.map((s) => s.fd)].sort((a, b) => a - b));
      // the main thread's name, as ss prints it: "node", or "MainThread" on Node 24
      expect(processName(process.pid)).toMatch(/node|vitest|MainThread/);
    } finally {
      u.close();
      server.close();
    }
  });

  it("borrows a descriptor: the duplicate sees the live socket's options, and closing it leaves the owner's open", () => {
    const s = Socket.open(C.AF_INET, C.SOCK_STREAM);
    try {
      setOption(s, 'TCP_NODELAY', true);
      setOption(s, 'SO_RCVBUF', 40000);
      const dup = borrowSocket(process.pid, s.fd);
      expect(dup.fd).not.toBe(s.fd);
      expect([dup.domain, dup.type, dup.protocol]).toEqual([C.AF_INET, C.SOCK_STREAM, C.IPPROTO_TCP]);
      expect(getOption(dup, 'TCP_NODELAY')).toBe(true);
      expect(getOption(dup, 'SO_RCVBUF')).toBe(80000);
      // one open file description: a change through either is seen by the other
      setOption(dup, 'SO_KEEPALIVE', true);
      dup.close();
      expect(getOption(s, 'SO_KEEPALIVE')).toBe(true);
    } finally {
      s.close();
    }
  });

  it('names what is wrong: not a socket, no such descriptor, no such process', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(() => borrowSocket(process.pid, fd)).toThrow(`descriptor ${fd} of process ${process.pid} is not a socket (it is /dev/null)`);
    } finally {
      closeSync(fd);
    }
    expect(() => borrowSocket(process.pid, 1_000_000)).toThrow(`process ${process.pid} has no descriptor 1000000`);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(() => borrowSocket(gone, 0)).toThrow(`no process ${gone}`);
    expect(() => processSockets(gone)).toThrow(`no process ${gone}`);
  });
});
