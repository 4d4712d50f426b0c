// Inventory.tcpRaw: TCP over IPv4 and IPv6 from one sock_diag walk
// (TCPDIAG_GETSOCK), handed over as the two per-family dumps would give it.
// Against the kernel with sockets this test opens, and against a fake kernel
// (a socketpair) that interleaves the families or refuses the request.
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native } from '../../src/stack/native/index.js';
import * as C from '../../src/stack/constants.js';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI, nlmsghdr } from '../../src/stack/abi/netlink.js';
import { ALL_STATES, Inventory } from '../../src/stack/inventory/index.js';
import { INET_DIAG_MSG, SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK, inetDiagMsg } from '../../src/stack/abi/sock_diag.js';
import { NetlinkSocket } from '../../src/stack/netlink/socket.js';

interface Seen {
  family: number;
  sport: number;
  dport: number;
  inode: number;
}

/** what fn was handed: each message decoded, with the family fn was told */
function collector() {
  const seen: (Seen & { told: 4 | 6 })[] = [];
  const fn = (b: Buffer, at: Int32Array, n: number, told: 4 | 6) => {
    for (let k = 0; k < 2 * n; k += 2) {
      const d = inetDiagMsg.decode(b, at[k]!, at[k + 1]!);
      if (!d.ok) throw new Error(d.error);
      seen.push({ family: d.value.family, sport: d.value.sport, dport: d.value.dport, inode: d.value.inode, told });
    }
  };
  return { seen, fn };
}

describe('tcpRaw against the kernel', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const ports = new Set<number>();

  beforeAll(async () => {
    // a listener and a connection over each family, and a v4-mapped client of the dual-stack listener
    for (const host of ['127.0.0.1', '::1', '::']) {
      const s = createServer((c) => sockets.push(c));
      s.listen(0, host);
      await once(s, 'listening');
      servers.push(s);
      ports.add((s.address() as { port: number }).port);
    }
    for (const [host, s] of [
      ['127.0.0.1', servers[0]],
      ['::1', servers[1]],
      ['127.0.0.1', servers[2]],
    ] as const) {
      const c = connect((s!.address() as { port: number }).port, host);
      await once(c, 'connect');
      sockets.push(c);
    }
  });

  afterAll(() => {
    for (const c of sockets) c.destroy();
    for (const s of servers) s.close();
  });

  const ours = (s: Seen) => ports.has(s.sport) || ports.has(s.dport);

  it('one dump gives what the IPv4 and IPv6 dumps give, IPv4 first, in the kernel order', async () => {
    const inv = new Inventory();
    try {
      const one = collector();
      expect(await inv.tcpRaw(ALL_STATES, one.fn)).toBe('netlink');
      const two: Seen[] = [];
      for (const family of [4, 6] as const) {
        const c = collector();
        expect(await inv.inetRaw('tcp', family, ALL_STATES, (b, at, n) => c.fn(b, at, n, family))).toBe('netlink');
        two.push(...c.seen.map(({ told, ...s }) => s));
      }
      const mine = one.seen.filter(ours);
      // 3 listeners, 3 connections (6 sockets), each once
      expect(mine).toHaveLength(9);
      expect(mine.map(({ told, ...s }) => s)).toEqual(two.filter(ours));
      // every IPv4 reply before the first IPv6 one, and each handed over under its family
      const firstV6 = one.seen.findIndex((s) => s.family === 10);
      expect(one.seen.slice(firstV6).every((s) => s.family === 10)).toBe(true);
      expect(one.seen.every((s) => s.told === (s.family === 2 ? 4 : 6))).toBe(true);
      expect(mine.filter((s) => s.family === 10).length).toBe(5); // the ::1 and :: listeners, the ::1 pair, the v4-mapped end
    } finally {
      inv.close();
    }
  });

  it('the state filter goes with it (listeners only)', async () => {
    const inv = new Inventory();
    try {
      const c = collector();
      await inv.tcpRaw(1 << 10, c.fn); // TCP_LISTEN
      expect(c.seen.filter(ours).map((s) => s.family)).toEqual([2, 10, 10]);
      expect(c.seen.every((s) => s.dport === 0)).toBe(true);
    } finally {
      inv.close();
    }
  });
});

/** a fake kernel at the other end of a datagram socketpair, with the requests it got */
function fakeKernel() {
  const [ours, theirs] = native.socketpair(C.AF_UNIX, C.SOCK_DGRAM, 0);
  const buf = Buffer.alloc(4096);
  return {
    inv: new Inventory(undefined, NetlinkSocket.adopt(ours)),
    /** the next request: its type, sequence number and (v2) family */
    async request(): Promise<{ type: number; seq: number; family: number }> {
      for (let i = 0; i < 200; i++) {
        const n = native.recvmsgFast(theirs, buf, 0);
        if (n > 16) return { type: buf.readUInt16LE(4), seq: buf.readUInt32LE(8), family: buf[16]! };
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error('no request');
    },
    send(...msgs: Buffer[]): void {
      native.sendto(theirs, Buffer.concat(msgs), 0, null);
    },
    close(): void {
      native.close(theirs);
    },
  };
}

const msg = (type: number, seq: number, payload: Buffer) => nlmsghdr.encode({ type, flags: NLM_F_MULTI, seq, pid: 0 }, payload);
const done = (seq: number) => msg(NLMSG_DONE, seq, Buffer.alloc(4));
/** an inet_diag_msg of a family and inode (ESTABLISHED) */
function reply(family: 2 | 10, inode: number): Buffer {
  const m = Buffer.alloc(72);
  m[INET_DIAG_MSG.FAMILY] = family;
  m[1] = 1;
  m.writeUInt16BE(1000 + inode, 4);
  m.writeUInt32LE(inode, 68);
  return m;
}

describe('tcpRaw against a fake kernel', () => {
  it('interleaved families come out IPv4 first, each in its order, the IPv6 bytes intact', async () => {
    const k = fakeKernel();
    try {
      const c = collector();
      const walk = k.inv.tcpRaw(ALL_STATES, c.fn);
      const r = await k.request();
      expect(r.type).toBe(TCPDIAG_GETSOCK);
      k.send(msg(r.type, r.seq, reply(10, 1)), msg(r.type, r.seq, reply(2, 2)), msg(r.type, r.seq, reply(10, 3)));
      k.send(msg(r.type, r.seq, reply(2, 4)), msg(r.type, r.seq, reply(10, 5)), done(r.seq));
      expect(await walk).toBe('netlink');
      expect(c.seen.map((s) => [s.inode, s.told, s.sport])).toEqual([
        [2, 4, 1002],
        [4, 4, 1004],
        [1, 6, 1001],
        [3, 6, 1003],
        [5, 6, 1005],
      ]);
    } finally {
      k.inv.close();
      k.close();
    }
  });

  it('a kernel that refuses the request is asked the two v2 dumps, then not again', async () => {
    const k = fakeKernel();
    try {
      const refuse = async () => {
        const r = await k.request();
        expect(r.type).toBe(TCPDIAG_GETSOCK);
        const err = Buffer.alloc(20);
        err.writeInt32LE(-22, 0); // EINVAL
        k.send(nlmsghdr.encode({ type: NLMSG_ERROR, flags: 0, seq: r.seq, pid: 0 }, err));
      };
      const answer = async (family: number, inode: number) => {
        const r = await k.request();
        expect([r.type, r.family]).toEqual([SOCK_DIAG_BY_FAMILY, family]);
        k.send(msg(r.type, r.seq, reply(family as 2 | 10, inode)), done(r.seq));
      };
      for (const first of [true, false]) {
        const c = collector();
        const walk = k.inv.tcpRaw(ALL_STATES, c.fn);
        if (first) await refuse();
        await answer(2, 7);
        await answer(10, 8);
        expect(await walk).toBe('netlink');
        expect(c.seen.map((s) => [s.inode, s.told])).toEqual([
          [7, 4],
          [8, 6],
        ]);
      }
    } finally {
      k.inv.close();
      k.close();
    }
  });
});
