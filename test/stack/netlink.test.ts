// The netlink framing and sock_diag codecs, and the netlink socket against a
// fake kernel: the other end of a socketpair that answers with whatever
// bytes a test writes (good dumps, NLMSG_ERROR, errors in NLMSG_DONE,
// truncated and malformed messages). Nothing here may throw.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/stack/native/index.js';
import * as C from '../../src/stack/constants.js';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI, encodeAttr, nlmsghdr, walkAttrs } from '../../src/stack/abi/netlink.js';
import {
  INET_DIAG_CONG,
  INET_DIAG_INFO,
  INET_DIAG_SHUTDOWN,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_SKV6ONLY,
  INET_DIAG_TOS,
  INET_DIAG_MARK,
  SOCK_DIAG_BY_FAMILY,
  UNIX_DIAG_NAME,
  UNIX_DIAG_PEER,
  UNIX_DIAG_RQLEN,
  inetDiagMsg,
  inetDiagReqV2,
  unixDiagMsg,
  unixDiagReq,
} from '../../src/stack/abi/sock_diag.js';
import { NetlinkSocket } from '../../src/stack/netlink/socket.js';
import {
  NETLINK_DIAG_GROUPS,
  NETLINK_DIAG_MEMINFO,
  PACKET_DIAG_FANOUT,
  PACKET_DIAG_FILTER,
  PACKET_DIAG_INFO,
  PACKET_DIAG_MEMINFO,
  PACKET_DIAG_RX_RING,
  PACKET_DIAG_UID,
  netlinkDiagMsg,
  netlinkDiagReq,
  packetDiagMsg,
  packetDiagReq,
} from '../../src/stack/abi/packet_diag.js';
import { parseProcInet, parseProcNetlink, parseProcPacket, parseProcUnix } from '../../src/stack/inventory/procnet.js';
import { type FilterError, matches, parseFilter, tokenize } from '../../src/stack/inventory/filter.js';
import type { InetSocket } from '../../src/stack/inventory/index.js';
import { neverThrows } from '../helpers/fuzz.js';

/** an inet_diag_msg for 192.0.2.1:80 -> 198.51.100.7:40000, ESTABLISHED, with attributes */
function inetMsg(attrs: Buffer[] = []): Buffer {
  const m = Buffer.alloc(72);
  m[0] = 2;
  m[1] = 1;
  m[2] = 1;
  m[3] = 2;
  m.writeUInt16BE(80, 4);
  m.writeUInt16BE(40000, 6);
  Buffer.from([192, 0, 2, 1]).copy(m, 8);
  Buffer.from([198, 51, 100, 7]).copy(m, 24);
  m.writeUInt32LE(3, 40); // idiag_if
  m.writeUInt32LE(0xdeadbeef, 44);
  m.writeUInt32LE(0x1, 48); // cookie
  m.writeUInt32LE(200, 52);
  m.writeUInt32LE(5, 56);
  m.writeUInt32LE(7, 60);
  m.writeUInt32LE(1000, 64);
  m.writeUInt32LE(4242, 68);
  return Buffer.concat([m, ...attrs]);
}

function u8(v: number): Buffer {
  return Buffer.from([v]);
}
function u32s(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32LE(x, 4 * i));
  return b;
}

describe('netlink framing', () => {
  it('nlmsghdr: encode then decode', () => {
    const b = nlmsghdr.encode(
      { type: SOCK_DIAG_BY_FAMILY, flags: 0x301, seq: 7, pid: 0 },
      inetDiagReqV2.encode({ family: 2, protocol: 6, ext: 2, states: 0xfff }),
    );
    expect(b.length).toBe(72);
    const d = nlmsghdr.decode(b);
    expect(d).toMatchObject({ ok: true, value: { len: 72, type: 20, flags: 0x301, seq: 7, pid: 0 }, length: 72 });
  });

  it('nlmsghdr: a length shorter than the header or past the end is a typed failure', () => {
    const b = nlmsghdr.encode({ type: 3, flags: 0, seq: 1, pid: 0 }, Buffer.alloc(4));
    b.writeUInt32LE(8, 0);
    expect(nlmsghdr.decode(b)).toMatchObject({ ok: false, codec: 'nlmsghdr' });
    b.writeUInt32LE(400, 0);
    expect(nlmsghdr.decode(b)).toMatchObject({ ok: false, error: 'truncated: need 400 bytes, have 20' });
    neverThrows((x) => nlmsghdr.decode(x), nlmsghdr.encode({ type: 3, flags: 2, seq: 9, pid: 1 }, Buffer.alloc(4)));
  });

  it('walkAttrs: every attribute, then stops at a bad length', () => {
    const run = Buffer.concat([encodeAttr(4, Buffer.from('cubic\0')), encodeAttr(5, u8(0x10))]);
    const seen: number[][] = [];
    expect(walkAttrs(run, 0, run.length, (t, o, n) => seen.push([t, o, n]))).toBeNull();
    expect(seen).toEqual([
      [4, 4, 6],
      [5, 16, 1],
    ]);
    const bad = Buffer.from(run);
    bad.writeUInt16LE(200, 12);
    expect(walkAttrs(bad, 0, bad.length, () => {})).toMatch(/overruns/);
    bad.writeUInt16LE(2, 12);
    expect(walkAttrs(bad, 0, bad.length, () => {})).toMatch(/shorter than its header/);
  });
});

describe('sock_diag codecs', () => {
  it('inet_diag_msg with INFO, SKMEMINFO, CONG, TOS, SHUTDOWN, SKV6ONLY, MARK', () => {
    const info = Buffer.alloc(104); // Linux 2.6's struct tcp_info: the decoder takes shorter structs
    info[0] = 1;
    info.writeUInt32LE(123456, 68); // rtt, us
    const m = inetMsg([
      encodeAttr(INET_DIAG_INFO, info),
      encodeAttr(INET_DIAG_SKMEMINFO, u32s(1, 2, 3, 4, 5, 6, 7, 8, 9)),
      encodeAttr(INET_DIAG_CONG, Buffer.from('cubic\0')),
      encodeAttr(INET_DIAG_TOS, u8(0x10)),
      encodeAttr(INET_DIAG_SHUTDOWN, u8(2)),
      encodeAttr(INET_DIAG_SKV6ONLY, u8(1)),
      encodeAttr(INET_DIAG_MARK, u32s(0x2a)),
      encodeAttr(99, Buffer.alloc(3)), // unknown: skipped
    ]);
    const d = inetDiagMsg.decode(m);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value).toMatchObject({
      family: 2,
      state: 1,
      timer: 1,
      retrans: 2,
      sport: 80,
      dport: 40000,
      src: '192.0.2.1',
      dst: '198.51.100.7',
      ifindex: 3,
      cookie: '1deadbeef',
      expires: 200,
      rqueue: 5,
      wqueue: 7,
      uid: 1000,
      inode: 4242,
      cong: 'cubic',
      tos: 0x10,
      shutdown: 2,
      v6only: 1,
      mark: 0x2a,
      skmeminfo: { rmem_alloc: 1, rcvbuf: 2, wmem_alloc: 3, sndbuf: 4, fwd_alloc: 5, wmem_queued: 6, optmem: 7, backlog: 8, drops: 9 },
    });
    expect(d.value.info).toMatchObject({ state: 1, rtt: 123456 });
    expect(d.value.info?.min_rtt).toBeUndefined();
    neverThrows((x) => inetDiagMsg.decode(x), m);
  });

  it('inet_diag_msg: IPv6, and a malformed attribute run is a failure', () => {
    const m = inetMsg();
    m[0] = 10;
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(m, 8);
    Buffer.from('00000000000000000000ffffc0000201', 'hex').copy(m, 24);
    expect(inetDiagMsg.decode(m)).toMatchObject({ ok: true, value: { src: '2001:db8::1', dst: '::ffff:192.0.2.1' } });
    const bad = Buffer.concat([m, Buffer.from([200, 0, 2, 0])]);
    expect(inetDiagMsg.decode(bad)).toMatchObject({ ok: false, codec: 'inet_diag_msg' });
    m[0] = 1;
    expect(inetDiagMsg.decode(m)).toMatchObject({ ok: false, error: 'idiag_family 1 is neither AF_INET nor AF_INET6' });
  });

  it('unix_diag_msg: path, abstract name as @, peer, queues', () => {
    const head = Buffer.alloc(16);
    head[0] = 1;
    head[1] = 5;
    head[2] = 10;
    head.writeUInt32LE(99, 4);
    const m = Buffer.concat([
      head,
      encodeAttr(UNIX_DIAG_NAME, Buffer.from('\0sockit\0x')),
      encodeAttr(UNIX_DIAG_PEER, u32s(100)),
      encodeAttr(UNIX_DIAG_RQLEN, u32s(3, 4)),
    ]);
    expect(unixDiagMsg.decode(m)).toMatchObject({ ok: true, value: { type: 5, state: 10, inode: 99, name: '@sockit@x', peer: 100, rqueue: 3, wqueue: 4 } });
    const p = Buffer.concat([head, encodeAttr(UNIX_DIAG_NAME, Buffer.from('/run/x.sock'))]);
    expect(unixDiagMsg.decode(p)).toMatchObject({ ok: true, value: { name: '/run/x.sock' } });
    neverThrows((x) => unixDiagMsg.decode(x), m);
    expect(unixDiagReq.encode({ states: 0xfff, show: 0x17 }).length).toBe(24);
  });
});

/** a packet_diag_msg: SOCK_RAW, ETH_P_IP, inode 77, with INFO, a ring, fanout, uid, meminfo, a two-instruction filter */
function packetMsg(): Buffer {
  const head = Buffer.alloc(16);
  head[0] = 17;
  head[1] = 3;
  head.writeUInt16LE(0x0800, 2);
  head.writeUInt32LE(77, 4);
  head.writeUInt32LE(0x1234, 8);
  const filter = Buffer.alloc(16);
  filter.writeUInt16LE(0x28, 0);
  filter.writeUInt32LE(12, 4);
  filter.writeUInt16LE(0x06, 8);
  filter[10] = 1;
  filter[11] = 2;
  filter.writeUInt32LE(0xffff, 12);
  return Buffer.concat([
    head,
    encodeAttr(PACKET_DIAG_INFO, u32s(2, 2, 0, 9, 0, 1)),
    encodeAttr(PACKET_DIAG_RX_RING, u32s(65536, 4, 2048, 128, 60, 0, 0)),
    encodeAttr(PACKET_DIAG_FANOUT, u32s(5 | (1 << 16))),
    encodeAttr(PACKET_DIAG_UID, u32s(1000)),
    encodeAttr(PACKET_DIAG_MEMINFO, u32s(10, 20, 30, 40, 0, 0, 0, 0, 3)),
    encodeAttr(PACKET_DIAG_FILTER, filter),
  ]);
}

/** a netlink_diag_msg: NETLINK_ROUTE, connected, port 4242 to group 1, with groups and meminfo */
function netlinkMsg(): Buffer {
  const head = Buffer.alloc(28);
  head[0] = 16;
  head[1] = 3;
  head[2] = 0;
  head[3] = 1;
  head.writeUInt32LE(4242, 4);
  head.writeUInt32LE(0, 8);
  head.writeUInt32LE(1, 12);
  head.writeUInt32LE(88, 16);
  head.writeUInt32LE(0xabc, 20);
  return Buffer.concat([head, encodeAttr(NETLINK_DIAG_GROUPS, u32s(0x11, 0)), encodeAttr(NETLINK_DIAG_MEMINFO, u32s(5, 6, 7, 8))]);
}

describe('packet_diag and netlink_diag codecs', () => {
  it('packet_diag_msg with INFO, RX_RING, FANOUT, UID, MEMINFO, FILTER', () => {
    const m = packetMsg();
    expect(packetDiagMsg.decode(m)).toMatchObject({
      ok: true,
      value: {
        table: 'packet',
        type: 3,
        protocol: 0x0800,
        inode: 77,
        cookie: '1234',
        uid: 1000,
        fanout: 5 | (1 << 16),
        info: { index: 2, version: 2, copyThresh: 9, flags: 1 },
        rxRing: { blockSize: 65536, blockNr: 4, frameSize: 2048, frameNr: 128, retireTmo: 60 },
        skmeminfo: { rmem_alloc: 10, rcvbuf: 20, drops: 3 },
        filter: [
          { code: 0x28, jt: 0, jf: 0, k: 12 },
          { code: 6, jt: 1, jf: 2, k: 0xffff },
        ],
      },
    });
    neverThrows((x) => packetDiagMsg.decode(x), m);
    expect(packetDiagMsg.decode(m.subarray(0, 10))).toMatchObject({ ok: false });
    const req = packetDiagReq.encode(0x3d);
    expect([req.length, req[0], req.readUInt32LE(8)]).toEqual([20, 17, 0x3d]);
  });

  it('netlink_diag_msg with GROUPS and MEMINFO', () => {
    const m = netlinkMsg();
    expect(netlinkDiagMsg.decode(m)).toMatchObject({
      ok: true,
      value: {
        table: 'netlink',
        protocol: 0,
        state: 1,
        portid: 4242,
        dstGroup: 1,
        inode: 88,
        cookie: 'abc',
        groups: 0x11,
        skmeminfo: { rmem_alloc: 5, wmem_alloc: 7 },
      },
    });
    neverThrows((x) => netlinkDiagMsg.decode(x), m);
    const req = netlinkDiagReq.encode(3);
    expect([req.length, req[0], req[1], req.readUInt32LE(8)]).toEqual([20, 16, 255, 3]);
  });
});

/** A fake kernel: the other end of a datagram socketpair. */
function fakePeer() {
  const [ours, theirs] = native.socketpair(C.AF_UNIX, C.SOCK_DGRAM, 0);
  const nl = NetlinkSocket.adopt(ours);
  const buf = Buffer.alloc(4096);
  return {
    nl,
    /** the request the socket sent: its sequence number */
    request(): number {
      const n = native.recvmsgFast(theirs, buf, 0);
      expect(n).toBeGreaterThan(16);
      return buf.readUInt32LE(8);
    },
    send(...msgs: Buffer[]): void {
      native.sendto(theirs, Buffer.concat(msgs), 0, null);
    },
    close(): void {
      nl.close();
      native.close(theirs);
    },
  };
}

const msg = (type: number, seq: number, payload: Buffer, flags = NLM_F_MULTI) => nlmsghdr.encode({ type, flags, seq, pid: 0 }, payload);
const i32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
};

describe('the netlink socket against a fake peer', () => {
  it('a dump in two batches, with a stale reply to skip, ends at NLMSG_DONE', async () => {
    const p = fakePeer();
    try {
      const got: number[] = [];
      const done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(56), (b, o, e) => {
        const d = inetDiagMsg.decode(b, o, e);
        if (d.ok) got.push(d.value.inode);
      });
      const seq = p.request();
      p.send(msg(20, seq - 1, inetMsg()), msg(20, seq, inetMsg()));
      await new Promise((r) => setTimeout(r, 10)); // the socket waits in the poller meanwhile
      p.send(msg(20, seq, inetMsg()), msg(NLMSG_DONE, seq, i32(0)));
      expect(await done).toEqual({ ok: true, messages: 2 });
      expect(got).toEqual([4242, 4242]);
    } finally {
      p.close();
    }
  });

  it('NLMSG_ERROR and an error in NLMSG_DONE become system errors', async () => {
    const p = fakePeer();
    try {
      let done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(56), () => {});
      let seq = p.request();
      p.send(msg(NLMSG_ERROR, seq, Buffer.concat([i32(-13), Buffer.alloc(16)]), 0));
      expect(await done).toMatchObject({ ok: false, kind: 'error', error: { code: 'EACCES', errno: -13, syscall: 'netlink' } });
      done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(56), () => {});
      seq = p.request();
      p.send(msg(NLMSG_DONE, seq, i32(-2)));
      expect(await done).toMatchObject({ ok: false, kind: 'error', error: { code: 'ENOENT' } });
    } finally {
      p.close();
    }
  });

  it('packet and netlink dumps from the fake peer: good ones decoded, a cut attribute reported, never thrown', async () => {
    const p = fakePeer();
    try {
      for (const [body, decode] of [
        [packetMsg(), packetDiagMsg.decode],
        [netlinkMsg(), netlinkDiagMsg.decode],
      ] as const) {
        const got: unknown[] = [];
        const bad: unknown[] = [];
        const done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(20), (b, o, e) => {
          const d = decode(b, o, e);
          (d.ok ? got : bad).push(d);
        });
        const seq = p.request();
        const cut = Buffer.from(body);
        cut.writeUInt16LE(200, body.length - 20); // the last attribute (16 bytes of payload) claims more than the message holds
        p.send(msg(20, seq, body), msg(20, seq, cut), msg(NLMSG_DONE, seq, i32(0)));
        expect(await done).toEqual({ ok: true, messages: 2 });
        expect([got.length, bad.length]).toEqual([1, 1]);
        expect(bad[0]).toMatchObject({ ok: false });
      }
    } finally {
      p.close();
    }
  });

  it('a truncated message and random bytes are typed failures, never thrown', async () => {
    const p = fakePeer();
    try {
      let done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(56), () => {});
      let seq = p.request();
      const cut = msg(20, seq, inetMsg());
      cut.writeUInt32LE(500, 0);
      p.send(cut);
      expect(await done).toMatchObject({ ok: false, kind: 'malformed', failure: { codec: 'nlmsghdr' } });
      done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(56), () => {});
      seq = p.request();
      p.send(Buffer.from([1, 2, 3]));
      expect(await done).toMatchObject({ ok: false, kind: 'malformed' });
      done = p.nl.dump(SOCK_DIAG_BY_FAMILY, Buffer.alloc(56), () => {});
      seq = p.request();
      p.send(msg(NLMSG_ERROR, seq, Buffer.alloc(2), 0));
      expect(await done).toMatchObject({ ok: false, kind: 'malformed', failure: { codec: 'nlmsgerr' } });
    } finally {
      p.close();
    }
  });
});

describe('/proc/net parsers', () => {
  it('tcp and tcp6 rows', () => {
    const tcp =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 0100007F:0016 0100007F:9C40 01 00000010:00000020 02:000000C8 00000000  1000        3 4242 1 0 20 4 30 10 -1\n';
    const [s] = [...parseProcInet(tcp, 4)];
    expect(s).toMatchObject({
      family: 2,
      state: 1,
      src: '127.0.0.1',
      sport: 22,
      dst: '127.0.0.1',
      dport: 40000,
      wqueue: 16,
      rqueue: 32,
      timer: 2,
      expires: 2000,
      retrans: 3,
      uid: 1000,
      inode: 4242,
    });
    const tcp6 =
      'header\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1\n';
    expect([...parseProcInet(tcp6, 6)][0]).toMatchObject({ src: '::1', sport: 80, state: 10, inode: 77 });
  });

  it('packet and netlink rows (packet_seq_show, netlink_seq_show); short or cut lines are skipped, never thrown', () => {
    const packet =
      'sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n' +
      '0000000000000000 3      3    88b5   1     1 0      0      3071    \n' +
      '0000000000000000 3      2    0003   0     1 768    1000   3072    \n' +
      '0000000000000000 3\n';
    expect([...parseProcPacket(packet)]).toEqual([
      { table: 'packet', type: 3, protocol: 0x88b5, inode: 3071, cookie: '0', uid: 0, proc: { ifindex: 1, rmem: 0 } },
      { table: 'packet', type: 2, protocol: 3, inode: 3072, cookie: '0', uid: 1000, proc: { ifindex: 0, rmem: 768 } },
    ]);
    const netlink =
      'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n' +
      '00000000b536827b 0   0          00000000 0        0        0     2        0        4       \n' +
      '0000000024cc43c7 4   4294967295 00000011 832      4        12    2        0        1026    \n' +
      'garbage\n';
    expect([...parseProcNetlink(netlink)]).toMatchObject([
      { table: 'netlink', protocol: 0, portid: 0, groups: 0, inode: 4, proc: { sk: 'b536827b', cb: '0', rmem: 0, wmem: 0 } },
      { table: 'netlink', protocol: 4, portid: 4294967295, groups: 0x11, inode: 1026, proc: { sk: '24cc43c7', cb: '12', rmem: 832, wmem: 4 } },
    ]);
    expect([...parseProcPacket('')]).toEqual([]);
    expect([...parseProcNetlink('header only')]).toEqual([]);
  });

  it('unix rows: listeners, abstract names, paths with spaces', () => {
    const text =
      'Num       RefCount Protocol Flags    Type St Inode Path\n' +
      '0000000000000000: 00000002 00000000 00010000 0001 01 100 /run/a b.sock\n' +
      '0000000000000000: 00000003 00000000 00000000 0002 03 101\n' +
      '0000000000000000: 00000002 00000000 00010000 0005 01 102 @abs\n';
    expect([...parseProcUnix(text)]).toMatchObject([
      { type: 1, state: 10, inode: 100, refcnt: 2, flags: 0x10000, sockState: 1, name: '/run/a b.sock' },
      { type: 2, state: 1, inode: 101, refcnt: 3, sockState: 3 },
      { type: 5, state: 10, name: '@abs' },
    ]);
  });
});

describe("ss's filter language", () => {
  const ctx = { service: (n: string) => (n === 'ssh' ? 22 : null), ifindex: (n: string) => (n === 'lo' ? 1 : 0) };
  const sock = (o: Partial<InetSocket>): InetSocket => ({
    table: 'tcp',
    family: 2,
    state: 1,
    timer: 0,
    retrans: 0,
    sport: 22,
    dport: 40000,
    src: '192.0.2.1',
    dst: '198.51.100.7',
    ifindex: 0,
    cookie: '0',
    expires: 0,
    rqueue: 0,
    wqueue: 0,
    uid: 0,
    inode: 1,
    ...o,
  });

  it('splits words as ss does', () => {
    expect(tokenize(['(sport', '=', ':ssh)', '&&!dst', '10.0.0.0/8'])).toEqual(['(', 'sport', '=', ':ssh', ')', '&&', '!', 'dst', '10.0.0.0/8']);
  });

  it('evaluates ports, prefixes, v4-mapped, and/or/not and juxtaposition', () => {
    const f = (words: string) => parseFilter(words.split(' '), ctx)!;
    expect(matches(f('sport = :ssh'), sock({}))).toBe(true);
    expect(matches(f('sport eq 22'), sock({}))).toBe(true);
    expect(matches(f('dport > :1024 sport < :1024'), sock({}))).toBe(true);
    expect(matches(f('dport le :1024 or src 192.0.2.0/24'), sock({}))).toBe(true);
    expect(matches(f('not src 192.0.2.0/24'), sock({}))).toBe(false);
    expect(matches(f('dst 198.51.100.0/23:40000'), sock({}))).toBe(true);
    expect(matches(f('dst 198.51.100.0/23:40001'), sock({}))).toBe(false);
    expect(matches(f('src 192.0.2.1'), sock({ family: 10, src: '::ffff:192.0.2.1' }))).toBe(true);
    expect(matches(f('src [2001:db8::1]:22'), sock({ family: 10, src: '2001:db8::1' }))).toBe(true);
    expect(matches(f('( sport != :22 || dport ge :40000 ) && ! dev lo'), sock({}))).toBe(true);
    expect(matches(f('dev lo'), sock({ ifindex: 1 }))).toBe(true);
    expect(matches(f('fwmark 0x10/0xf0'), sock({ mark: 0x1f }))).toBe(true);
  });

  it("packet and netlink sockets as ss's run_ssfilter sees them: the protocol as address, interface or port id as port", () => {
    const lctx = {
      ...ctx,
      llProto: (n: string) => (n === 'ip' ? 0x800 : /^0x/.test(n) ? parseInt(n, 16) : null),
      nlProto: (n: string) => (n === 'rtnl' ? 0 : null),
    };
    const f = (words: string, family: 'link' | 'netlink' | null = null) => parseFilter(words.split(' '), { ...lctx, family })!;
    const pkt = {
      table: 'packet',
      type: 3,
      protocol: 0x800,
      inode: 9,
      cookie: '0',
      info: { index: 1, version: 0, reserve: 0, copyThresh: 0, tstamp: 0, flags: 0 },
    } as const;
    const fromProc = { table: 'packet', type: 2, protocol: 0, inode: 10, cookie: '0', proc: { ifindex: 0, rmem: 0 } } as const;
    expect(matches(f('src link:ip:lo'), pkt)).toBe(true);
    expect(matches(f('src ip', 'link'), pkt)).toBe(true);
    expect(matches(f('src 0x86dd', 'link'), pkt)).toBe(false);
    expect(matches(f('sport = 1'), pkt)).toBe(true);
    expect(matches(f('dev lo'), pkt)).toBe(true);
    expect(matches(f('dport = 0'), pkt)).toBe(true);
    expect(matches(f('autobound'), pkt)).toBe(false);
    expect(matches(f('autobound'), fromProc)).toBe(true);
    expect(matches(f('src 192.0.2.1'), pkt)).toBe(false);
    const nl = { table: 'netlink', type: 3, protocol: 0, state: 0, portid: 4242, dstPortid: 0, dstGroup: 0, inode: 3, cookie: '0' } as const;
    expect(matches(f('src rtnl:4242', 'netlink'), nl)).toBe(true);
    expect(matches(f('src netlink:rtnl:kernel'), nl)).toBe(false);
    expect(matches(f('src netlink:*:-1'), nl)).toBe(true);
    expect(matches(f('dport = 0'), nl)).toBe(false); // the remote port is -1
    expect(matches(f('autobound'), { ...nl, portid: 0xffffffff })).toBe(true);
    expect(() => parseFilter(['src', 'nosuch:1'], { ...lctx, family: 'netlink' })).toThrow(
      "bad filter at 'nosuch:1': expected [netlink:]PROTOCOL[:PID] after src",
    );
    expect(() => parseFilter(['src', 'link:ip:nosuchif'], lctx)).toThrow("bad filter at 'link:ip:nosuchif': expected [link:]PROTOCOL[:INTERFACE] after src");
  });

  it('points at the word it cannot parse', () => {
    const err = (words: string[]) => {
      try {
        parseFilter(words, ctx);
        return null;
      } catch (e) {
        return e as FilterError;
      }
    };
    expect(err(['dportt', '=', ':22'])?.message).toBe("bad filter at 'dportt': expected src, dst, sport, dport, dev, fwmark, autobound, not or '('");
    expect(err(['sport', '=', ':nope'])?.word).toBe(':nope');
    expect(err(['(', 'sport', '=', ':22'])?.message).toBe("bad filter at '(end)': expected ')'");
    expect(err(['dev', 'nosuchif0'])?.word).toBe('nosuchif0');
    expect(err(['src', '192.0.2.1/33'])?.word).toBe('192.0.2.1/33');
    expect(err(['sport', '=', ':22', ')'])?.message).toBe("bad filter at ')': expected and, or, or the end of the filter");
    expect(parseFilter([], ctx)).toBeNull();
  });
});
