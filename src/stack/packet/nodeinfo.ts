// ICMPv6 Node Information queries and replies (RFC 4620): what iputils'
// `ping -N` sends and prints. Pure encode/decode; the checksum is left 0
// for the kernel, which fills it on a raw ICMPv6 socket (RFC 3542 3.1).
import { formatIPv4, formatIPv6 } from './addr.js';
import { type DecodeResult, fail, ok, truncated } from './result.js';

export const QUERY = 139;
export const REPLY = 140;

// Qtypes
export const QTYPE_NOOP = 0;
export const QTYPE_NODENAME = 2;
export const QTYPE_NODEADDR = 3;
export const QTYPE_IPV4ADDR = 4;

// query codes: what the subject is
export const SUBJECT_IPV6 = 0;
export const SUBJECT_NAME = 1;
export const SUBJECT_IPV4 = 2;

// reply codes
export const SUCCESS = 0;
export const REFUSED = 1;
export const UNKNOWN_QTYPE = 2;

// flags of the Node Addresses and IPv4 Addresses qtypes
export const FLAG_TRUNCATE = 0x0001;
export const FLAG_ALL = 0x0002;
export const FLAG_COMPAT = 0x0004;
export const FLAG_LINKLOCAL = 0x0008;
export const FLAG_SITELOCAL = 0x0010;
export const FLAG_GLOBAL = 0x0020;

export const HEADER = 16;
export const NONCE_BYTES = 8;

export interface NodeInfo {
  /** QUERY or REPLY */
  type: number;
  /** a query's subject type, a reply's result */
  code: number;
  qtype: number;
  flags: number;
  /** 8 bytes the reply echoes */
  nonce: Buffer;
  /** a query's subject, a reply's answer */
  data: Buffer;
}

export function encodingLength(m: NodeInfo): number {
  return HEADER + m.data.length;
}

/** The message, checksum 0 (the kernel's to fill). */
export function encode(m: NodeInfo, buf?: Buffer, offset = 0): Buffer {
  const out = buf ?? Buffer.alloc(encodingLength(m));
  out[offset] = m.type;
  out[offset + 1] = m.code;
  out.writeUInt16BE(0, offset + 2);
  out.writeUInt16BE(m.qtype, offset + 4);
  out.writeUInt16BE(m.flags, offset + 6);
  if (m.nonce.length !== NONCE_BYTES) throw new RangeError(`nodeinfo: the nonce is ${NONCE_BYTES} bytes, not ${m.nonce.length}`);
  m.nonce.copy(out, offset + 8);
  m.data.copy(out, offset + HEADER);
  return out;
}

/** A query or reply (types 139 and 140); the data is a view of buf. */
export function decode(buf: Buffer, offset = 0): DecodeResult<NodeInfo> {
  const have = buf.length - offset;
  if (have < HEADER) return truncated('nodeinfo', HEADER, have, offset);
  const type = buf[offset]!;
  if (type !== QUERY && type !== REPLY) return fail('nodeinfo', `not a node information message: type ${type}`, offset);
  return ok(
    {
      type,
      code: buf[offset + 1]!,
      qtype: buf.readUInt16BE(offset + 4),
      flags: buf.readUInt16BE(offset + 6),
      nonce: buf.subarray(offset + 8, offset + HEADER),
      data: buf.subarray(offset + HEADER),
    },
    have,
  );
}

/**
 * A name in DNS wire form, lower-cased, uncompressed (RFC 4620 section 3.3):
 * a fully qualified name ends with the root label, a single-label one gets a
 * second zero byte after it. Throws RangeError for an empty label or one
 * over 63 bytes, or a name over 255.
 */
export function encodeName(name: string, fqdn: boolean): Buffer {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length === 0 || b.length > 63) throw new RangeError(`inappropriate subject name: ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from(fqdn ? [0] : [0, 0]));
  const out = Buffer.concat(parts);
  if (out.length - (fqdn ? 0 : 1) > 255) throw new RangeError(`inappropriate subject name: ${name}`);
  return out;
}

export interface ReplyName {
  /** the labels joined with dots, as the reply has them */
  name: string;
  /** false for a single-label name (RFC 4620's two zero bytes) */
  fqdn: boolean;
}

/**
 * A Node Name reply's data: a 32-bit TTL, then names in DNS wire form, which
 * may use compression pointers (offsets from the start of the data). A name
 * that runs off the end stops the walk with `truncated` set, after the names
 * before it (iputils prints those, then "parse error").
 */
export function decodeNames(data: Buffer): DecodeResult<{ ttl: number; names: ReplyName[]; truncated: boolean }> {
  if (data.length < 4) return truncated('nodeinfo', 4, data.length, 0);
  const ttl = data.readUInt32BE(0);
  const names: ReplyName[] = [];
  let p = 4;
  while (p < data.length) {
    const n = expandName(data, p);
    if (!n) return ok({ ttl, names, truncated: true }, p);
    p += n.used;
    let fqdn = true;
    if (p < data.length && data[p] === 0) {
      fqdn = false;
      p++;
    }
    names.push({ name: n.name, fqdn });
  }
  return ok({ ttl, names, truncated: false }, data.length);
}

/** dn_expand: the name at p, and the bytes it takes at p (a pointer ends it). */
function expandName(msg: Buffer, p: number): { name: string; used: number } | null {
  const labels: string[] = [];
  let used = -1;
  let at = p;
  let total = 0;
  for (let hops = 0; hops < 64; hops++) {
    if (at >= msg.length) return null;
    const len = msg[at]!;
    if (len === 0) {
      if (used < 0) used = at + 1 - p;
      return { name: labels.join('.'), used };
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= msg.length) return null;
      if (used < 0) used = at + 2 - p;
      at = ((len & 0x3f) << 8) | msg[at + 1]!;
      continue;
    }
    if (len & 0xc0 || at + 1 + len > msg.length) return null;
    total += len + 1;
    if (total > 255) return null;
    labels.push(escapeLabel(msg.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return null;
}

/** ns_name_ntop's presentation form: its special characters after a backslash, unprintables as \DDD. */
function escapeLabel(b: Buffer): string {
  let s = '';
  for (const c of b) {
    if ('".;\\()@$'.includes(String.fromCharCode(c))) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

export interface ReplyAddress {
  ttl: number;
  address: string;
}

/**
 * A Node Addresses (IPv6) or IPv4 Addresses reply's data: TTL and address
 * pairs; a pair cut short stops the walk with `truncated` set.
 */
export function decodeAddresses(data: Buffer, family: 4 | 6): { addresses: ReplyAddress[]; truncated: boolean } {
  const size = 4 + (family === 4 ? 4 : 16);
  const addresses: ReplyAddress[] = [];
  for (let p = 0; p < data.length; p += size) {
    if (p + size > data.length) return { addresses, truncated: true };
    addresses.push({ ttl: data.readUInt32BE(p), address: family === 4 ? formatIPv4(data, p + 4) : formatIPv6(data, p + 4) });
  }
  return { addresses, truncated: false };
}

/** TTL and address pairs for a reply (responders, tests). */
export function encodeAddresses(list: { ttl?: number; address: Buffer }[]): Buffer {
  return Buffer.concat(
    list.flatMap((a) => {
      const ttl = Buffer.alloc(4);
      ttl.writeUInt32BE(a.ttl ?? 0);
      return [ttl, a.address];
    }),
  );
}

/** A node information reply, read once (for the text and for --json). */
export interface NodeInfoAnswer {
  code: number;
  qtype: number;
  flags: number;
  /** the sequence in the nonce */
  seq: number;
  /** Node Name: its TTL and names; undefined when the data is too short for the TTL */
  ttl?: number;
  names?: ReplyName[];
  addresses?: ReplyAddress[];
  /** a name or address ran off the end (those before it are kept) */
  cut?: boolean;
  tooShort?: boolean;
}

/** A whole reply message's answer (RFC 4620 6), or null when it is not one. */
export function nodeInfoAnswer(wire: Buffer): NodeInfoAnswer | null {
  const d = decode(wire);
  if (!d.ok) return null;
  const m = d.value;
  const a: NodeInfoAnswer = { code: m.code, qtype: m.qtype, flags: m.flags, seq: m.nonce.readUInt16BE(0) };
  if (m.code !== SUCCESS) return a;
  if (m.qtype === QTYPE_NODENAME) {
    const names = decodeNames(m.data);
    if (!names.ok) a.tooShort = true;
    else Object.assign(a, { ttl: names.value.ttl, names: names.value.names, cut: names.value.truncated });
  } else if (m.qtype === QTYPE_NODEADDR || m.qtype === QTYPE_IPV4ADDR) {
    const list = decodeAddresses(m.data, m.qtype === QTYPE_IPV4ADDR ? 4 : 6);
    Object.assign(a, { addresses: list.addresses, cut: list.truncated });
  }
  return a;
}
