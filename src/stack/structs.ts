// The C structs socket options carry, as pure encode/decode over bytes
// (x86_64/aarch64 Linux layouts: int 4 bytes, long and time_t 8).
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './packet/addr.js';

export interface Linger {
  onoff: number;  // l_onoff
  linger: number; // l_linger, seconds
}

export const linger = {
  size: 8,
  encode(v: Linger): Buffer {
    const b = Buffer.alloc(8);
    b.writeInt32LE(v.onoff, 0);
    b.writeInt32LE(v.linger, 4);
    return b;
  },
  decode(b: Buffer): Linger {
    return { onoff: b.readInt32LE(0), linger: b.readInt32LE(4) };
  },
};

export interface Timeval {
  sec: number;  // tv_sec
  usec: number; // tv_usec
}

export const timeval = {
  size: 16,
  encode(v: Timeval): Buffer {
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(v.sec), 0);
    b.writeBigInt64LE(BigInt(v.usec), 8);
    return b;
  },
  decode(b: Buffer): Timeval {
    return { sec: Number(b.readBigInt64LE(0)), usec: Number(b.readBigInt64LE(8)) };
  },
  /** seconds (1.5) -> { sec: 1, usec: 500000 } */
  fromSeconds(s: number): Timeval {
    const sec = Math.floor(s);
    return { sec, usec: Math.round((s - sec) * 1e6) };
  },
};

export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

export const ucred = {
  size: 12,
  encode(v: Ucred): Buffer {
    const b = Buffer.alloc(12);
    b.writeInt32LE(v.pid, 0);
    b.writeUInt32LE(v.uid, 4);
    b.writeUInt32LE(v.gid, 8);
    return b;
  },
  decode(b: Buffer): Ucred {
    return { pid: b.readInt32LE(0), uid: b.readUInt32LE(4), gid: b.readUInt32LE(8) };
  },
};

export const int = {
  size: 4,
  encode(v: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    return b;
  },
  decode(b: Buffer): number {
    return b.length >= 4 ? b.readInt32LE(0) : b.length ? b[0] : 0;
  },
};

/** struct in_addr */
export const inAddr = {
  size: 4,
  encode(a: string): Buffer {
    const b = parseIPv4(a);
    if (!b) throw new TypeError(`not an IPv4 address: ${a}`);
    return b;
  },
  decode(b: Buffer): string {
    return formatIPv4(b, 0);
  },
};

export interface IpMreqn {
  multiaddr: string;
  address: string;  // local interface address (0.0.0.0: any)
  ifindex: number;
}

/** struct ip_mreqn (accepted by IP_ADD_MEMBERSHIP and IP_MULTICAST_IF) */
export const ipMreqn = {
  size: 12,
  encode(v: IpMreqn): Buffer {
    const b = Buffer.alloc(12);
    inAddr.encode(v.multiaddr).copy(b, 0);
    inAddr.encode(v.address).copy(b, 4);
    b.writeInt32LE(v.ifindex, 8);
    return b;
  },
  decode(b: Buffer): IpMreqn {
    return { multiaddr: formatIPv4(b, 0), address: formatIPv4(b, 4), ifindex: b.length >= 12 ? b.readInt32LE(8) : 0 };
  },
};

export interface Ipv6Mreq {
  multiaddr: string;
  ifindex: number;
}

/** struct ipv6_mreq */
export const ipv6Mreq = {
  size: 20,
  encode(v: Ipv6Mreq): Buffer {
    const b = Buffer.alloc(20);
    const a = parseIPv6(v.multiaddr);
    if (!a) throw new TypeError(`not an IPv6 address: ${v.multiaddr}`);
    a.copy(b, 0);
    b.writeInt32LE(v.ifindex, 16);
    return b;
  },
  decode(b: Buffer): Ipv6Mreq {
    return { multiaddr: formatIPv6(b, 0), ifindex: b.readInt32LE(16) };
  },
};

/** struct icmp6_filter: 256 bits, a set bit blocks that type (RFC 3542 3.2). */
export const icmp6Filter = {
  size: 32,
  encode(blocked: Set<number>): Buffer {
    const b = Buffer.alloc(32);
    for (const t of blocked) b[t >> 3] |= 1 << (t & 7);
    return b;
  },
  decode(b: Buffer): Set<number> {
    const s = new Set<number>();
    for (let t = 0; t < 256; t++) if (b[t >> 3] & (1 << (t & 7))) s.add(t);
    return s;
  },
};
