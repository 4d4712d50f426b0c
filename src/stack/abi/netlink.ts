// Netlink framing in host order (<linux/netlink.h>, netlink(7)): struct
// nlmsghdr, struct nlmsgerr, and the nlattr/rtattr TLVs that follow a
// message's fixed header. Pure functions over bytes; decoding never throws.
import { fail, ok, truncated, type DecodeResult } from '../packet/result.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

/** sizeof(struct nlmsghdr) */
export const NLMSG_HDRLEN = 16;

/** NLMSG_ALIGN / RTA_ALIGN / NLA_ALIGN: 4-byte alignment */
export const align4 = (n: number): number => (n + 3) & ~3;

export interface Nlmsghdr {
  len: number; // nlmsg_len, header included
  type: number; // nlmsg_type
  flags: number; // nlmsg_flags
  seq: number; // nlmsg_seq
  pid: number; // nlmsg_pid (port id)
}

export const nlmsghdr = {
  encodingLength: (payload: number): number => NLMSG_HDRLEN + payload,
  /** A request: the header then the payload (already aligned by its codec). */
  encode(h: Omit<Nlmsghdr, 'len'>, payload: Uint8Array): Buffer {
    const b = Buffer.alloc(align4(NLMSG_HDRLEN + payload.length));
    b.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
    b.writeUInt16LE(h.type, 4);
    b.writeUInt16LE(h.flags, 6);
    b.writeUInt32LE(h.seq >>> 0, 8);
    b.writeUInt32LE(h.pid >>> 0, 12);
    b.set(payload, NLMSG_HDRLEN);
    return b;
  },
  decode(b: Uint8Array, offset = 0, end = b.length): DecodeResult<Nlmsghdr> {
    if (end - offset < NLMSG_HDRLEN) return truncated('nlmsghdr', NLMSG_HDRLEN, end - offset, offset);
    const v = view(b);
    const h: Nlmsghdr = {
      len: v.getUint32(offset, true),
      type: v.getUint16(offset + 4, true),
      flags: v.getUint16(offset + 6, true),
      seq: v.getUint32(offset + 8, true),
      pid: v.getUint32(offset + 12, true),
    };
    if (h.len < NLMSG_HDRLEN) return fail('nlmsghdr', `nlmsg_len ${h.len} is shorter than the header`, offset);
    if (h.len > end - offset) return truncated('nlmsghdr', h.len, end - offset, offset);
    return ok(h, Math.min(align4(h.len), end - offset));
  },
};

/** struct nlmsgerr: a negative errno (0 for an ACK) and the request's header. */
export interface Nlmsgerr {
  error: number;
  request?: Nlmsghdr;
}

export const nlmsgerr = {
  decode(b: Uint8Array, offset: number, end: number): DecodeResult<Nlmsgerr> {
    if (end - offset < 4) return truncated('nlmsgerr', 4, end - offset, offset);
    const error = view(b).getInt32(offset, true);
    const r = end - offset >= 4 + NLMSG_HDRLEN ? headOnly(b, offset + 4) : undefined;
    return ok(r ? { error, request: r } : { error }, end - offset);
  },
};

function headOnly(b: Uint8Array, o: number): Nlmsghdr {
  const v = view(b);
  return {
    len: v.getUint32(o, true),
    type: v.getUint16(o + 4, true),
    flags: v.getUint16(o + 6, true),
    seq: v.getUint32(o + 8, true),
    pid: v.getUint32(o + 12, true),
  };
}

const views = new WeakMap<ArrayBufferLike, DataView>();
/** A DataView over a whole ArrayBuffer, cached: offsets below are absolute (b.byteOffset added). */
function view(b: Uint8Array): DataView {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) {
    let v = views.get(b.buffer);
    if (!v) views.set(b.buffer, (v = new DataView(b.buffer)));
    return v;
  }
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * One attribute of a TLV run (struct nlattr, struct rtattr: u16 len, u16
 * type). `type` has NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off.
 */
export interface Attr {
  type: number;
  /** payload offset and length within the buffer walked */
  offset: number;
  length: number;
}

/**
 * Walk the attributes in b[offset, end): calls fn for each, and returns
 * null, or a failure when one is malformed (the walk stops there).
 */
export function walkAttrs(b: Uint8Array, offset: number, end: number, fn: (type: number, offset: number, length: number) => void): string | null {
  let o = offset;
  while (end - o >= 4) {
    const len = b[o] | (b[o + 1] << 8);
    const type = (b[o + 2] | (b[o + 3] << 8)) & 0x3fff;
    if (len < 4) return `attribute ${type} at ${o}: length ${len} is shorter than its header`;
    if (len > end - o) return `attribute ${type} at ${o}: length ${len} overruns the message (${end - o} bytes left)`;
    fn(type, o + 4, len - 4);
    o += align4(len);
  }
  return null;
}

/** Encode one attribute (for requests and for tests' fake peers). */
export function encodeAttr(type: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(align4(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  b.set(payload, 4);
  return b;
}
