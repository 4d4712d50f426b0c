// The addon's sendrecv (sendto + recvmsg, and a bounded poll, in one call)
// on real loopback sockets, and the flood path built on it.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { listen } from '../../src/stack/icmp.js';
import { native, relNsAt, toRelNs } from '../../src/stack/native/index.js';
import { Socket, inetAddress } from '../../src/stack/socket.js';
import { isRoot, rootReason } from '../helpers/root.js';

function udp(): { s: Socket; addr: Buffer; port: number } {
  const s = Socket.open(C.AF_INET, C.SOCK_DGRAM);
  s.bind(inetAddress('127.0.0.1', 0));
  const port = (s.localAddress() as { port: number }).port;
  return { s, addr: native.sockaddr(inetAddress('127.0.0.1', port)), port };
}

describe('native.sendrecvFast', () => {
  it('reads the datagram that is queued by the time sendto returns (a socket sending to itself)', () => {
    const { s, addr, port } = udp();
    try {
      const stamps = new BigInt64Array(2);
      const before = toRelNs(native.clock(C.CLOCK_REALTIME));
      const buf = Buffer.alloc(64);
      const n = native.sendrecvFast(s.fd, Buffer.from('hello'), 0, addr, stamps, buf, 0, 0);
      expect(n).toBe(5);
      expect(buf.subarray(0, 5).toString()).toBe('hello');
      expect(native.last.address()).toEqual({ family: C.AF_INET, address: '127.0.0.1', port });
      // the send stamps were taken just before the syscall
      const sent = relNsAt(new Uint32Array(stamps.buffer), 1);
      expect(sent).toBeGreaterThanOrEqual(before);
      expect(sent).toBeLessThanOrEqual(toRelNs(native.clock(C.CLOCK_REALTIME)));
      expect(stamps[0]).toBeGreaterThan(0n);
      // nothing is left queued
      expect(s.recvFast(buf)).toBe(-1);
    } finally {
      s.close();
    }
  });

  it('reports the kernel receive timestamp (SO_TIMESTAMPNS) as recvmsg does', () => {
    const { s, addr } = udp();
    try {
      s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
      const before = toRelNs(native.clock(C.CLOCK_REALTIME));
      expect(native.sendrecvFast(s.fd, Buffer.from('x'), 0, addr, null, Buffer.alloc(8), 0, 0)).toBe(1);
      const rx = native.last.timestampRelNs();
      expect(rx).toBeGreaterThanOrEqual(before);
      expect(rx).toBeLessThanOrEqual(toRelNs(native.clock(C.CLOCK_REALTIME)));
    } finally {
      s.close();
    }
  });

  it('is -1 when nothing comes back, after waiting at most timeoutMs', () => {
    const a = udp();
    const b = udp(); // never answers
    try {
      const buf = Buffer.alloc(64);
      expect(native.sendrecvFast(a.s.fd, Buffer.from('one'), 0, b.addr, null, buf, 0, 0)).toBe(-1);
      const t0 = performance.now();
      expect(native.sendrecvFast(a.s.fd, Buffer.from('two'), 0, b.addr, null, buf, 0, 60)).toBe(-1);
      const waited = performance.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(50);
      expect(waited).toBeLessThan(2000);
      // both datagrams went out
      expect(b.s.recvFast(buf)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('one');
      expect(b.s.recvFast(buf)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('two');
    } finally {
      a.s.close();
      b.s.close();
    }
  });

  it('waits in poll(2) for an answer from another process', async () => {
    // a UDP echo server in a child process: the answer comes after sendto returns
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const d = require('node:dgram').createSocket('udp4');
         d.on('message', (m, r) => d.send(m, r.port, r.address));
         d.bind(0, '127.0.0.1', () => console.log(d.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const to = native.sockaddr(inetAddress('127.0.0.1', Number(line.toString().trim())));
      const a = udp();
      try {
        const buf = Buffer.alloc(64);
        const n = native.sendrecvFast(a.s.fd, Buffer.from('ping'), 0, to, null, buf, 0, 5000);
        expect(n).toBe(4);
        expect(buf.subarray(0, 4).toString()).toBe('ping');
      } finally {
        a.s.close();
      }
    } finally {
      child.kill();
    }
  });

  it('is -2 when the send would block, and throws send errors as sendto does', () => {
    const [x, y] = native.socketpair(C.AF_UNIX, C.SOCK_DGRAM, 0);
    try {
      const buf = Buffer.alloc(16);
      const data = Buffer.alloc(1024);
      let r = 0;
      let sent = 0;
      // nobody reads y: its queue fills, then the send would block
      while ((r = native.sendrecvFast(x, data, 0, null, null, buf, 0, 0)) === -1 && sent < 100000) sent++;
      expect(r).toBe(-2);
      expect(sent).toBeGreaterThan(0);
    } finally {
      native.close(x);
      native.close(y);
    }
    expect(() => native.sendrecvFast(-1, Buffer.alloc(1), 0, null, null, Buffer.alloc(8), 0, 0)).toThrow(
      expect.objectContaining({ code: 'EBADF', syscall: 'sendto' }),
    );
    expect(() => native.sendrecvFast(0, 'x' as never, 0, null, null, Buffer.alloc(8), 0, 0)).toThrow(TypeError);
  });
});

describe('native.sendrecvBind / sendrecvBound', () => {
  it('does what sendrecvFast does with the arguments bound once, reading data as it is at each call', () => {
    const { s, addr, port } = udp();
    try {
      const data = Buffer.from('one');
      const buf = Buffer.alloc(64);
      const stamps = new BigInt64Array(2);
      const h = native.sendrecvBind(s.fd, data, 0, addr, stamps, buf, 0, 0);
      expect(native.sendrecvBound(h)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('one');
      expect(native.last.address()).toEqual({ family: C.AF_INET, address: '127.0.0.1', port });
      const first = stamps[1];
      expect(first).toBeGreaterThan(0n);
      // rewritten in place: the next call sends the new bytes
      data.write('two');
      expect(native.sendrecvBound(h)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('two');
      expect(stamps[1]).toBeGreaterThanOrEqual(first);
      // the address was copied when bound: changing the buffer later changes nothing
      addr.fill(0);
      expect(native.sendrecvBound(h)).toBe(3);
      expect(s.recvFast(buf)).toBe(-1);
    } finally {
      s.close();
    }
  });

  it('is -1 when nothing comes back, -2 when the send would block, and throws what sendrecv throws', () => {
    const a = udp();
    const b = udp(); // never answers
    try {
      const buf = Buffer.alloc(64);
      expect(native.sendrecvBound(native.sendrecvBind(a.s.fd, Buffer.from('q'), 0, b.addr, null, buf, 0, 0))).toBe(-1);
      expect(b.s.recvFast(buf)).toBe(1);
    } finally {
      a.s.close();
      b.s.close();
    }
    const [x, y] = native.socketpair(C.AF_UNIX, C.SOCK_DGRAM, 0);
    try {
      const h = native.sendrecvBind(x, Buffer.alloc(1024), 0, null, null, Buffer.alloc(16), 0, 0);
      let r = 0;
      let sent = 0;
      while ((r = native.sendrecvBound(h)) === -1 && sent < 100000) sent++;
      expect(r).toBe(-2);
      expect(sent).toBeGreaterThan(0);
    } finally {
      native.close(x);
      native.close(y);
    }
    const bad = native.sendrecvBind(-1, Buffer.alloc(1), 0, null, null, Buffer.alloc(8), 0, 0);
    expect(() => native.sendrecvBound(bad)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sendto' }));
    expect(() => native.sendrecvBind(0, 'x' as never, 0, null, null, Buffer.alloc(8), 0, 0)).toThrow(TypeError);
    expect(() => native.sendrecvBound({} as never)).toThrow(TypeError);
  });

  it('keeps the bound buffers alive after the caller lets go of them (garbage collected in between)', () => {
    // a child with --expose-gc: bind, drop every reference but the handle, collect, use
    const script = `
      const { native, binding } = await import(${JSON.stringify(`${process.cwd()}/dist/stack/native/index.js`)});
      const C = await import(${JSON.stringify(`${process.cwd()}/dist/stack/constants.js`)});
      const fd = binding.socket(C.AF_INET, C.SOCK_DGRAM, 0);
      const me = Buffer.alloc(16); me.writeUInt16LE(C.AF_INET, 0); me.set([127, 0, 0, 1], 4);
      binding.bind(fd, me);
      const addr = binding.getsockname(fd);
      let h = (() => native.sendrecvBind(fd, Buffer.from('still here'), 0, addr, new BigInt64Array(2), Buffer.alloc(64), 0, 0))();
      for (let i = 0; i < 5; i++) { globalThis.gc(); Buffer.alloc(1 << 20); }
      const n = native.sendrecvBound(h);
      h = null; globalThis.gc();
      console.log(n);
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('10');
  });

  it('Socket.sendRecvQuick binds again when the data, the address or the buffer changes', () => {
    const a = udp();
    const b = udp();
    try {
      const echo = Buffer.alloc(64);
      const one = Buffer.from('to-a');
      const two = Buffer.from('to-b!');
      // a sends to itself (answered inside the call), then to b (nothing comes back)
      expect(a.s.sendRecvQuick(one, a.addr, 0, echo)).toBe(4);
      expect(echo.subarray(0, 4).toString()).toBe('to-a');
      expect(a.s.sendRecvQuick(two, b.addr, 0, echo)).toBe(-1);
      expect(b.s.recvFast(echo)).toBe(5);
      expect(echo.subarray(0, 5).toString()).toBe('to-b!');
      const other = Buffer.alloc(64);
      expect(a.s.sendRecvQuick(one, a.addr, 0, other)).toBe(4);
      expect(other.subarray(0, 4).toString()).toBe('to-a');
    } finally {
      a.s.close();
      b.s.close();
    }
  });
});

describe('IcmpEndpoint.sendHolding', () => {
  it.skipIf(!isRoot)(`answers an echo request to 127.0.0.1 inside the send and delivers it after (${rootReason})`, () => {
    const ep = listen({ family: 4, mode: 'raw' });
    try {
      ep.setIdent(0x5a5a);
      ep.filterEchoReplies();
      const got: { id: number; seq: number; from: string }[] = [];
      ep.listen({ packet: () => {}, echoReply: (r) => got.push({ id: r.id, seq: r.seq, from: r.from }) });
      const wire = Buffer.from([8, 0, 0, 0, 0x5a, 0x5a, 0, 7, 1, 2, 3, 4]);
      // the checksum, as a raw IPv4 socket sends what it is given
      let sum = 0;
      for (let i = 0; i < wire.length; i += 2) sum += (wire[i] << 8) | wire[i + 1];
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      wire.writeUInt16BE(~sum & 0xffff, 2);
      expect(ep.sendHolding(wire, '127.0.0.1', 1000)).toBe(wire.length);
      // nothing is handed out before deliverHeld
      expect(got).toEqual([]);
      expect(ep.deliverHeld()).toBe(true);
      expect(got).toEqual([{ id: 0x5a5a, seq: 7, from: '127.0.0.1' }]);
      expect(ep.deliverHeld()).toBe(false);
    } finally {
      ep.close();
    }
  });
});
