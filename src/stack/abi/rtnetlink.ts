// rtnetlink structs in host order (<linux/rtnetlink.h>, <linux/if_link.h>):
// struct ifinfomsg with IFLA_IFNAME, IFLA_MTU, IFLA_ADDRESS, IFLA_OPERSTATE and
// IFLA_STATS64 (struct rtnl_link_stats64); struct ifaddrmsg; struct rtmsg. Pure codecs: decode never throws.
import { fail, ok, truncated, type DecodeResult } from '../packet/result.js';
import { encodeAttr, walkAttrs } from './netlink.js';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_STATS64 = 23;
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINK = 5;
export const IFLA_LINK_NETNSID = 37;
export const IFLA_TXQLEN = 13;
export const IFLA_MAP = 14;

/** struct rtnl_link_ifmap: a device's I/O resources (ifconfig's "device interrupt ... base ...") */
export interface LinkMap {
  memStart: number;
  memEnd: number;
  baseAddr: number;
  irq: number;
  dma: number;
  port: number;
}

/** struct rtnl_link_stats64, in its field order */
export const LINK_STATS64 = [
  'rx_packets',
  'tx_packets',
  'rx_bytes',
  'tx_bytes',
  'rx_errors',
  'tx_errors',
  'rx_dropped',
  'tx_dropped',
  'multicast',
  'collisions',
  'rx_length_errors',
  'rx_over_errors',
  'rx_crc_errors',
  'rx_frame_errors',
  'rx_fifo_errors',
  'rx_missed_errors',
  'tx_aborted_errors',
  'tx_carrier_errors',
  'tx_fifo_errors',
  'tx_heartbeat_errors',
  'tx_window_errors',
  'rx_compressed',
  'tx_compressed',
  'rx_nohandler',
] as const;
export type LinkStats = Partial<Record<(typeof LINK_STATS64)[number], number>>;

export interface Link {
  index: number; // ifi_index
  type: number; // ifi_type (ARPHRD_*)
  flags: number; // ifi_flags (IFF_*)
  name?: string;
  mtu?: number;
  stats?: LinkStats;
  address?: Buffer; // IFLA_ADDRESS: the hardware address
  broadcast?: Buffer; // IFLA_BROADCAST
  operstate?: number; // IFLA_OPERSTATE (RFC 2863 IF_OPER_*)
  link?: number; // IFLA_LINK: the lower device (a veth's peer)
  linkNetnsid?: number; // IFLA_LINK_NETNSID: IFLA_LINK is in that namespace
  txqlen?: number; // IFLA_TXQLEN
  map?: LinkMap; // IFLA_MAP
}

const u64 = (b: Buffer, p: number) => b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 2 ** 32;

export const ifinfomsg = {
  size: 16,
  /** A request for every link: family AF_UNSPEC, all zero. */
  encode(): Buffer {
    return Buffer.alloc(16);
  },
  decode(b: Buffer, offset = 0, end = b.length): DecodeResult<Link> {
    if (end - offset < 16) return truncated('ifinfomsg', 16, end - offset, offset);
    const l: Link = { type: b.readUInt16LE(offset + 2), index: b.readInt32LE(offset + 4), flags: b.readUInt32LE(offset + 8) };
    const bad = walkAttrs(b, offset + 16, end, (t, p, n) => {
      if (t === IFLA_IFNAME) l.name = b.toString('latin1', p, p + n).replace(/\0.*$/s, '');
      else if (t === IFLA_MTU && n >= 4) l.mtu = b.readUInt32LE(p);
      else if (t === IFLA_ADDRESS) l.address = Buffer.from(b.subarray(p, p + n));
      else if (t === IFLA_BROADCAST) l.broadcast = Buffer.from(b.subarray(p, p + n));
      else if (t === IFLA_OPERSTATE && n >= 1) l.operstate = b[p];
      else if (t === IFLA_LINK && n >= 4) l.link = b.readUInt32LE(p);
      else if (t === IFLA_LINK_NETNSID && n >= 4) l.linkNetnsid = b.readInt32LE(p);
      else if (t === IFLA_TXQLEN && n >= 4) l.txqlen = b.readUInt32LE(p);
      else if (t === IFLA_MAP && n >= 28)
        l.map = { memStart: u64(b, p), memEnd: u64(b, p + 8), baseAddr: u64(b, p + 16), irq: b.readUInt16LE(p + 24), dma: b[p + 26]!, port: b[p + 27]! };
      else if (t === IFLA_STATS64) {
        const s: LinkStats = {};
        // u64 counters as numbers: exact below 2^53
        for (let k = 0; k < LINK_STATS64.length && 8 * k + 8 <= n; k++) s[LINK_STATS64[k]] = u64(b, p + 8 * k);
        l.stats = s;
      }
    });
    if (bad) return fail('ifinfomsg', bad, offset);
    return ok(l, end - offset);
  },
};

export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
// ifa_scope (enum rt_scope_t)
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

/**
 * struct ifaddrmsg with its attributes (<linux/if_addr.h>). For IPv4
 * IFA_LOCAL is the interface's address and IFA_ADDRESS the peer of a
 * point-to-point link (the same address otherwise); IPv6 sends IFA_LOCAL
 * only with a peer (inet6_fill_ifaddr).
 */
export interface IfAddr {
  family: number;
  prefixLen: number; // ifa_prefixlen
  flags: number; // IFA_FLAGS (32 bits), else ifa_flags
  scope: number; // ifa_scope
  index: number; // ifa_index
  address?: Buffer;
  local?: Buffer;
  label?: string;
  broadcast?: Buffer;
}

export const ifaddrmsg = {
  size: 8,
  /** A dump request for one family (AF_UNSPEC: both). */
  encode(family = 0): Buffer {
    const b = Buffer.alloc(8);
    b[0] = family;
    return b;
  },
  decode(b: Buffer, offset = 0, end = b.length): DecodeResult<IfAddr> {
    if (end - offset < 8) return truncated('ifaddrmsg', 8, end - offset, offset);
    const a: IfAddr = { family: b[offset], prefixLen: b[offset + 1], flags: b[offset + 2], scope: b[offset + 3], index: b.readUInt32LE(offset + 4) };
    const bad = walkAttrs(b, offset + 8, end, (t, p, n) => {
      if (t === IFA_ADDRESS) a.address = Buffer.from(b.subarray(p, p + n));
      else if (t === IFA_LOCAL) a.local = Buffer.from(b.subarray(p, p + n));
      else if (t === IFA_BROADCAST) a.broadcast = Buffer.from(b.subarray(p, p + n));
      else if (t === IFA_LABEL) a.label = b.toString('latin1', p, p + n).replace(/\0.*$/s, '');
      else if (t === IFA_FLAGS && n >= 4) a.flags = b.readUInt32LE(p);
    });
    if (bad) return fail('ifaddrmsg', bad, offset);
    return ok(a, end - offset);
  },
};

export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_METRICS = 8;
export const RTA_TABLE = 15;
export const RTAX_WINDOW = 3;
export const RTAX_RTT = 4;
export const RTAX_ADVMSS = 8;
export const RT_TABLE_MAIN = 254;
// rtm_type (enum rtn_type)
export const RTN_UNICAST = 1;
export const RTN_BLACKHOLE = 6;
export const RTN_UNREACHABLE = 7;
export const RTN_PROHIBIT = 8;
export const RTN_THROW = 9;

/** struct rtmsg with the attributes netstat -r shows */
export interface Route {
  family: number;
  dstLen: number; // rtm_dst_len
  table: number; // RTA_TABLE, else rtm_table
  protocol: number;
  scope: number;
  type: number; // rtm_type
  flags: number; // rtm_flags
  dst?: Buffer;
  gateway?: Buffer;
  oif?: number;
  priority?: number;
  metrics: Record<number, number>;
}

export const rtmsg = {
  size: 12,
  /** A dump request for one family. */
  encode(family: number): Buffer {
    const b = Buffer.alloc(12);
    b[0] = family;
    return b;
  },
  /** A route lookup (ip route get): the family, a host-length rtm_dst_len and RTA_DST (the address in network order). */
  encodeGet(family: number, dst: Uint8Array): Buffer {
    const b = Buffer.alloc(12);
    b[0] = family;
    b[1] = dst.length * 8;
    return Buffer.concat([b, encodeAttr(RTA_DST, dst)]);
  },
  decode(b: Buffer, offset = 0, end = b.length): DecodeResult<Route> {
    if (end - offset < 12) return truncated('rtmsg', 12, end - offset, offset);
    const r: Route = {
      family: b[offset],
      dstLen: b[offset + 1],
      table: b[offset + 4],
      protocol: b[offset + 5],
      scope: b[offset + 6],
      type: b[offset + 7],
      flags: b.readUInt32LE(offset + 8),
      metrics: {},
    };
    let nested: string | null = null;
    const bad = walkAttrs(b, offset + 12, end, (t, p, n) => {
      if (t === RTA_DST) r.dst = Buffer.from(b.subarray(p, p + n));
      else if (t === RTA_GATEWAY) r.gateway = Buffer.from(b.subarray(p, p + n));
      else if (t === RTA_OIF && n >= 4) r.oif = b.readUInt32LE(p);
      else if (t === RTA_PRIORITY && n >= 4) r.priority = b.readUInt32LE(p);
      else if (t === RTA_TABLE && n >= 4) r.table = b.readUInt32LE(p);
      else if (t === RTA_METRICS)
        nested ??= walkAttrs(b, p, p + n, (mt, mp, mn) => {
          if (mn >= 4) r.metrics[mt] = b.readUInt32LE(mp);
        });
    });
    if (bad ?? nested) return fail('rtmsg', (bad ?? nested)!, offset);
    return ok(r, end - offset);
  },
};
