// packet_diag and netlink_diag (<linux/packet_diag.h>, <linux/netlink_diag.h>):
// the sock_diag requests and replies for AF_PACKET and AF_NETLINK sockets,
// in host order. Pure codecs: decode never throws.
import { fail, ok, truncated, type DecodeResult } from '../packet/result.js';
import { walkAttrs } from './netlink.js';
import { cookieHex, u32, u32s, type SkMeminfo } from './sock_diag.js';

const AF_NETLINK = 16;
const AF_PACKET = 17;

// packet_diag_req.pdiag_show and the reply's attributes
export const PACKET_SHOW_INFO = 0x01;
export const PACKET_SHOW_MCLIST = 0x02;
export const PACKET_SHOW_RING_CFG = 0x04;
export const PACKET_SHOW_FANOUT = 0x08;
export const PACKET_SHOW_MEMINFO = 0x10;
export const PACKET_SHOW_FILTER = 0x20;
export const PACKET_DIAG_INFO = 0;
export const PACKET_DIAG_MCLIST = 1;
export const PACKET_DIAG_RX_RING = 2;
export const PACKET_DIAG_TX_RING = 3;
export const PACKET_DIAG_FANOUT = 4;
export const PACKET_DIAG_UID = 5;
export const PACKET_DIAG_MEMINFO = 6;
export const PACKET_DIAG_FILTER = 7;
// packet_diag_info.pdi_flags
export const PDI_RUNNING = 0x1;
export const PDI_AUXDATA = 0x2;
export const PDI_ORIGDEV = 0x4;
export const PDI_VNETHDR = 0x8;
export const PDI_LOSS = 0x10;

/** struct packet_diag_req: every packet socket, with the attributes in `show` */
export const packetDiagReq = {
  size: 20,
  encode(show: number): Buffer {
    const b = Buffer.alloc(20);
    b[0] = AF_PACKET;
    b.writeUInt32LE(show >>> 0, 8);
    return b;
  },
};

/** struct packet_diag_info */
export interface PacketDiagInfo {
  index: number; // pdi_index: the bound interface, 0 for any
  version: number; // pdi_version: TPACKET_V1..V3
  reserve: number;
  copyThresh: number;
  tstamp: number;
  flags: number; // PDI_*
}

/** struct packet_diag_ring (a PACKET_RX_RING / PACKET_TX_RING's tpacket_req3) */
export interface PacketDiagRing {
  blockSize: number;
  blockNr: number;
  frameSize: number;
  frameNr: number;
  retireTmo: number;
  sizeofPriv: number;
  features: number;
}

/** one classic BPF instruction (struct sock_filter) */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** struct packet_diag_msg and its attributes */
export interface PacketDiagMsg {
  table: 'packet';
  type: number; // pdiag_type: SOCK_RAW 3, SOCK_DGRAM 2
  protocol: number; // pdiag_num: the ethertype bound, host order (3: ETH_P_ALL)
  inode: number;
  cookie: string;
  info?: PacketDiagInfo;
  rxRing?: PacketDiagRing;
  txRing?: PacketDiagRing;
  /** PACKET_FANOUT's id (low 16 bits) and type with flags (high 16) */
  fanout?: number;
  uid?: number;
  skmeminfo?: SkMeminfo;
  filter?: SockFilter[];
  /** read from /proc/net/packet (no attributes): the bound interface and Rmem */
  proc?: { ifindex: number; rmem: number };
}

const ring = (b: Buffer, p: number): PacketDiagRing => ({
  blockSize: u32(b, p),
  blockNr: u32(b, p + 4),
  frameSize: u32(b, p + 8),
  frameNr: u32(b, p + 12),
  retireTmo: u32(b, p + 16),
  sizeofPriv: u32(b, p + 20),
  features: u32(b, p + 24),
});

export const packetDiagMsg = {
  size: 16,
  decode(b: Buffer, offset = 0, end = b.length): DecodeResult<PacketDiagMsg> {
    if (end - offset < 16) return truncated('packet_diag_msg', 16, end - offset, offset);
    const m: PacketDiagMsg = {
      table: 'packet',
      type: b[offset + 1]!,
      protocol: b.readUInt16LE(offset + 2),
      inode: u32(b, offset + 4),
      cookie: cookieHex(b, offset + 8),
    };
    const bad = walkAttrs(b, offset + 16, end, (t, p, n) => {
      if (t === PACKET_DIAG_INFO && n >= 24) {
        m.info = {
          index: u32(b, p),
          version: u32(b, p + 4),
          reserve: u32(b, p + 8),
          copyThresh: u32(b, p + 12),
          tstamp: u32(b, p + 16),
          flags: u32(b, p + 20),
        };
      } else if (t === PACKET_DIAG_RX_RING && n >= 28) m.rxRing = ring(b, p);
      else if (t === PACKET_DIAG_TX_RING && n >= 28) m.txRing = ring(b, p);
      else if (t === PACKET_DIAG_FANOUT && n >= 4) m.fanout = u32(b, p);
      else if (t === PACKET_DIAG_UID && n >= 4) m.uid = u32(b, p);
      else if (t === PACKET_DIAG_MEMINFO) m.skmeminfo = u32s(b, p, n);
      else if (t === PACKET_DIAG_FILTER) {
        m.filter = [];
        for (let q = p; q + 8 <= p + n; q += 8) m.filter.push({ code: b.readUInt16LE(q), jt: b[q + 2]!, jf: b[q + 3]!, k: u32(b, q + 4) });
      }
    });
    if (bad) return fail('packet_diag_msg', bad, offset);
    return ok(m, end - offset);
  },
};

// netlink_diag_req.ndiag_show and the reply's attributes
export const NDIAG_PROTO_ALL = 255;
export const NDIAG_SHOW_MEMINFO = 0x1;
export const NDIAG_SHOW_GROUPS = 0x2;
export const NDIAG_SHOW_RING_CFG = 0x4;
export const NDIAG_SHOW_FLAGS = 0x8;
export const NETLINK_DIAG_MEMINFO = 0;
export const NETLINK_DIAG_GROUPS = 1;
export const NETLINK_DIAG_FLAGS = 4;
/** ndiag_state of a connected netlink socket */
export const NETLINK_CONNECTED = 1;

/** struct netlink_diag_req: every netlink socket of `protocol` (NDIAG_PROTO_ALL: all) */
export const netlinkDiagReq = {
  size: 20,
  encode(show: number, protocol = NDIAG_PROTO_ALL): Buffer {
    const b = Buffer.alloc(20);
    b[0] = AF_NETLINK;
    b[1] = protocol;
    b.writeUInt32LE(show >>> 0, 8);
    return b;
  },
};

/** struct netlink_diag_msg and its attributes */
export interface NetlinkDiagMsg {
  table: 'netlink';
  type: number;
  protocol: number; // NETLINK_ROUTE, NETLINK_SOCK_DIAG ...
  state: number; // NETLINK_CONNECTED or 0
  portid: number;
  dstPortid: number;
  dstGroup: number;
  inode: number;
  cookie: string;
  /** NETLINK_DIAG_GROUPS: the first word of the group bitmap (what ss prints) */
  groups?: number;
  skmeminfo?: SkMeminfo;
  flags?: number;
  /** read from /proc/net/netlink (no attributes): the sk pointer and Dump column as ss prints them, Rmem, Wmem */
  proc?: { sk: string; cb: string; rmem: number; wmem: number };
}

export const netlinkDiagMsg = {
  size: 28,
  decode(b: Buffer, offset = 0, end = b.length): DecodeResult<NetlinkDiagMsg> {
    if (end - offset < 28) return truncated('netlink_diag_msg', 28, end - offset, offset);
    const m: NetlinkDiagMsg = {
      table: 'netlink',
      type: b[offset + 1]!,
      protocol: b[offset + 2]!,
      state: b[offset + 3]!,
      portid: u32(b, offset + 4),
      dstPortid: u32(b, offset + 8),
      dstGroup: u32(b, offset + 12),
      inode: u32(b, offset + 16),
      cookie: cookieHex(b, offset + 20),
    };
    const bad = walkAttrs(b, offset + 28, end, (t, p, n) => {
      if (t === NETLINK_DIAG_GROUPS && n >= 4) m.groups = u32(b, p);
      else if (t === NETLINK_DIAG_MEMINFO) m.skmeminfo = u32s(b, p, n);
      else if (t === NETLINK_DIAG_FLAGS && n >= 4) m.flags = u32(b, p);
    });
    if (bad) return fail('netlink_diag_msg', bad, offset);
    return ok(m, end - offset);
  },
};
