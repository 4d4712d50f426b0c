// struct sockaddr_{in,in6,un,nl,ll} <-> typed objects, pure (Linux layouts;
// ports and IPv4/IPv6 addresses in network order, the rest host order).
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './packet/addr.js';

export interface InetAddress {
  family: 2;
  address: string;
  port: number;
}
export interface Inet6Address {
  family: 10;
  address: string;
  port: number;
  flowinfo?: number;
  scopeid?: number;
}
export interface UnixAddress {
  family: 1;
  path: string;
}
export interface NetlinkAddress {
  family: 16;
  pid: number;
  groups: number;
}
export interface PacketAddress {
  family: 17;
  protocol: number;
  ifindex: number;
  hatype?: number;
  pkttype?: number;
  addr?: Buffer;
}
export interface UnspecAddress {
  family: 0;
}
export type SockAddr = InetAddress | Inet6Address | UnixAddress | NetlinkAddress | PacketAddress | UnspecAddress;

// the host's byte order (what os.endianness() tells, without loading node:os)
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const u16 = (b: Buffer, o: number) => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32 = (b: Buffer, o: number) => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const i32 = (b: Buffer, o: number) => (LE ? b.readInt32LE(o) : b.readInt32BE(o));
function w16(b: Buffer, v: number, o: number) {
  if (LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}
function w32(b: Buffer, v: number, o: number) {
  if (LE) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}

const SUN_PATH = 108;

function port(p: number): number {
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RangeError(`port must be 0..65535, not ${p}`);
  return p;
}

/** Encode a socket address as the kernel's struct sockaddr. Throws on caller error. */
export function encode(sa: SockAddr): Buffer {
  switch (sa.family) {
    case 2: {
      const a = parseIPv4(sa.address);
      if (!a) throw new TypeError(`not an IPv4 address: ${sa.address}`);
      const b = Buffer.alloc(16);
      w16(b, 2, 0);
      b.writeUInt16BE(port(sa.port), 2);
      a.copy(b, 4);
      return b;
    }
    case 10: {
      const a = parseIPv6(sa.address);
      if (!a) throw new TypeError(`not an IPv6 address: ${sa.address}`);
      const b = Buffer.alloc(28);
      w16(b, 10, 0);
      b.writeUInt16BE(port(sa.port), 2);
      b.writeUInt32BE((sa.flowinfo ?? 0) >>> 0, 4);
      a.copy(b, 8);
      w32(b, sa.scopeid ?? 0, 24);
      return b;
    }
    case 1: {
      // abstract names start with NUL and are not terminated
      const p = Buffer.from(sa.path, 'utf8');
      if (p.length >= SUN_PATH) throw Object.assign(new RangeError(`unix socket path longer than ${SUN_PATH - 1} bytes: ${sa.path}`), { code: 'ENAMETOOLONG' });
      const abstract = p.length > 0 && p[0] === 0;
      const b = Buffer.alloc(2 + p.length + (abstract || p.length === 0 ? 0 : 1));
      w16(b, 1, 0);
      p.copy(b, 2);
      return b;
    }
    case 16: {
      const b = Buffer.alloc(12);
      w16(b, 16, 0);
      w32(b, sa.pid, 4);
      w32(b, sa.groups, 8);
      return b;
    }
    case 17: {
      const b = Buffer.alloc(20);
      w16(b, 17, 0);
      b.writeUInt16BE(sa.protocol, 2);
      w32(b, sa.ifindex, 4);
      w16(b, sa.hatype ?? 0, 8);
      b[10] = sa.pkttype ?? 0;
      const hw = sa.addr ?? Buffer.alloc(0);
      if (hw.length > 8) throw new RangeError('link-layer address longer than 8 bytes');
      b[11] = hw.length;
      hw.copy(b, 12);
      return b;
    }
    case 0: {
      const b = Buffer.alloc(16);
      return b;
    }
  }
}

/** Decode `len` bytes of a struct sockaddr; null when there is none. */
export function decode(b: Buffer, offset = 0, len = b.length - offset): SockAddr | null {
  if (len < 2) return null;
  const v = offset ? b.subarray(offset, offset + len) : b;
  const family = u16(v, 0);
  switch (family) {
    case 2:
      if (len < 8) return null;
      return { family: 2, address: formatIPv4(v, 4), port: v.readUInt16BE(2) };
    case 10:
      if (len < 24) return null;
      return { family: 10, address: formatIPv6(v, 8), port: v.readUInt16BE(2), flowinfo: v.readUInt32BE(4), scopeid: len >= 28 ? u32(v, 24) : 0 };
    case 1: {
      let end = len;
      if (len > 2 && v[2] !== 0) {
        const nul = v.indexOf(0, 2);
        if (nul >= 0 && nul < len) end = nul;
      }
      return { family: 1, path: v.toString('utf8', 2, end) };
    }
    case 16:
      if (len < 12) return null;
      return { family: 16, pid: u32(v, 4), groups: u32(v, 8) };
    case 17: {
      if (len < 12) return null;
      const halen = Math.min(v[11], 8, Math.max(0, len - 12));
      return { family: 17, protocol: v.readUInt16BE(2), ifindex: i32(v, 4), hatype: u16(v, 8), pkttype: v[10], addr: Buffer.from(v.subarray(12, 12 + halen)) };
    }
    case 0:
      return { family: 0 };
    default:
      return null;
  }
}

/** A socket end as sockit(1)'s JSON vocabulary names it. */
export type SocketEnd = { family: 4 | 6; address: string; port: number | null; scope_id?: number } | { family: 'unix'; path: string | null };

/**
 * A socket end for a JSON record: {"family": 4, "address", "port"} (IPv6 with
 * its scope_id when it has one), {"family": "unix", "path"} with `@name` for
 * an abstract name and null for an unnamed socket; null for none or another family.
 */
export function socketEnd(sa: SockAddr | null | undefined): SocketEnd | null {
  if (!sa) return null;
  if (sa.family === 2) return { family: 4, address: sa.address, port: sa.port };
  if (sa.family === 10) return { family: 6, address: sa.address, port: sa.port, ...(sa.scopeid ? { scope_id: sa.scopeid } : {}) };
  if (sa.family === 1) return { family: 'unix', path: sa.path === '' ? null : sa.path.startsWith('\0') ? `@${sa.path.slice(1)}` : sa.path };
  return null;
}
