// pcapng (draft-ietf-opsawg-pcapng): blocks of type, total length, body,
// total length again. A Section Header Block sets the byte order of the
// section that follows; Interface Description Blocks number the interfaces
// the packet blocks refer to. Pure codecs over one whole block.
import { type DecodeResult, fail, ok, truncated } from '../packet/result.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_PB = 0x00000002; // obsolete Packet Block
export const BT_SPB = 0x00000003;
export const BT_NRB = 0x00000004;
export const BT_ISB = 0x00000005;
export const BT_EPB = 0x00000006;
export const BT_DSB = 0x0000000a;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** libpcap's ceiling on a block (sf-pcapng.c MAX_BLOCKSIZE) */
export const MAX_BLOCKSIZE = 16 * 1024 * 1024;

const OPT_ENDOFOPT = 0,
  OPT_COMMENT = 1;
const IF_NAME = 2,
  IF_DESCRIPTION = 3,
  IF_TSRESOL = 9,
  IF_FCSLEN = 13,
  IF_TSOFFSET = 14;

export interface Interface {
  linktype: number;
  snaplen: number;
  name?: string;
  description?: string;
  /** timestamp units per second (if_tsresol; 10^6 when absent) */
  unitsPerSecond: bigint;
  /** seconds added to every timestamp (if_tsoffset) */
  tsoffset: bigint;
  fcsLength?: number;
}

export interface Option {
  code: number;
  value: Buffer;
}

export interface SectionHeader {
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  options: Option[];
}

export interface PacketBlock {
  interfaceId: number;
  /** raw timestamp in the interface's units (undefined for a Simple Packet Block) */
  timestamp?: bigint;
  caplen: number;
  len: number;
  data: Buffer;
  options: Option[];
}

const u16 = (b: Buffer, o: number, le: boolean) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32 = (b: Buffer, o: number, le: boolean) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
const pad4 = (n: number) => (n + 3) & ~3;

/** The byte order a Section Header Block announces, from its first 12 bytes. */
export function sectionByteOrder(buf: Buffer, offset = 0): DecodeResult<boolean> {
  if (buf.length - offset < 12) return truncated('pcapng', 12, buf.length - offset, offset);
  if (buf.readUInt32LE(offset + 8) === BYTE_ORDER_MAGIC) return ok(true, 12);
  if (buf.readUInt32BE(offset + 8) === BYTE_ORDER_MAGIC) return ok(false, 12);
  return fail('pcapng', 'unknown byte-order magic in section header', offset + 8);
}

/** Options from `start` to `end` of a block body (draft 3.5); a bad one ends the list with a failure. */
export function decodeOptions(buf: Buffer, start: number, end: number, le: boolean): DecodeResult<Option[]> {
  const options: Option[] = [];
  let p = start;
  while (p + 4 <= end) {
    const code = u16(buf, p, le),
      length = u16(buf, p + 2, le);
    if (code === OPT_ENDOFOPT) break;
    if (p + 4 + length > end) return fail('pcapng-option', `option ${code} of ${length} bytes overruns its block`, p);
    options.push({ code, value: buf.subarray(p + 4, p + 4 + length) });
    p += 4 + pad4(length);
  }
  return ok(options, end - start);
}

export function decodeSectionHeader(block: Buffer, le: boolean): DecodeResult<SectionHeader> {
  if (block.length < 28) return truncated('pcapng-shb', 28, block.length, 0);
  const major = u16(block, 12, le);
  if (major !== 1) return fail('pcapng-shb', `unsupported pcapng savefile version ${major}.${u16(block, 14, le)}`, 12);
  const options = decodeOptions(block, 24, block.length - 4, le);
  return ok({ littleEndian: le, versionMajor: major, versionMinor: u16(block, 14, le), options: options.ok ? options.value : [] }, block.length);
}

/** if_tsresol (draft 4.2): MSB clear, 10^-n; set, 2^-n. */
export function unitsPerSecond(tsresol: number): bigint | null {
  const n = BigInt(tsresol & 0x7f);
  if (tsresol & 0x80) return n > 63n ? null : 1n << n;
  return n > 19n ? null : 10n ** n;
}

export function decodeInterface(block: Buffer, le: boolean): DecodeResult<Interface> {
  if (block.length < 20) return truncated('pcapng-idb', 20, block.length, 0);
  const idb: Interface = { linktype: u16(block, 8, le), snaplen: u32(block, 12, le), unitsPerSecond: 1_000_000n, tsoffset: 0n };
  const options = decodeOptions(block, 16, block.length - 4, le);
  if (!options.ok) return options;
  for (const o of options.value) {
    if (o.code === IF_NAME) idb.name = o.value.toString('utf8');
    else if (o.code === IF_DESCRIPTION) idb.description = o.value.toString('utf8');
    else if (o.code === IF_TSRESOL && o.value.length >= 1) {
      const u = unitsPerSecond(o.value[0]!);
      if (u === null) return fail('pcapng-idb', `if_tsresol ${o.value[0]} is too fine`, 16);
      idb.unitsPerSecond = u;
    } else if (o.code === IF_TSOFFSET && o.value.length >= 8) {
      idb.tsoffset = le ? o.value.readBigInt64LE(0) : o.value.readBigInt64BE(0);
    } else if (o.code === IF_FCSLEN && o.value.length >= 1) idb.fcsLength = o.value[0];
  }
  return ok(idb, block.length);
}

function timestamp(block: Buffer, o: number, le: boolean): bigint {
  return (BigInt(u32(block, o, le)) << 32n) | BigInt(u32(block, o + 4, le));
}

/** An Enhanced Packet Block (draft 4.3). */
export function decodeEnhancedPacket(block: Buffer, le: boolean): DecodeResult<PacketBlock> {
  if (block.length < 32) return truncated('pcapng-epb', 32, block.length, 0);
  const caplen = u32(block, 20, le);
  if (28 + caplen + 4 > block.length) return fail('pcapng-epb', `captured length ${caplen} overruns its block of ${block.length}`, 20);
  const options = decodeOptions(block, 28 + pad4(caplen), block.length - 4, le);
  return ok(
    {
      interfaceId: u32(block, 8, le),
      timestamp: timestamp(block, 12, le),
      caplen,
      len: u32(block, 24, le),
      data: block.subarray(28, 28 + caplen),
      options: options.ok ? options.value : [],
    },
    block.length,
  );
}

/** The obsolete Packet Block (draft appendix A): a 16-bit interface id and a drops count. */
export function decodeObsoletePacket(block: Buffer, le: boolean): DecodeResult<PacketBlock> {
  if (block.length < 32) return truncated('pcapng-pb', 32, block.length, 0);
  const caplen = u32(block, 20, le);
  if (28 + caplen + 4 > block.length) return fail('pcapng-pb', `captured length ${caplen} overruns its block of ${block.length}`, 20);
  return ok(
    {
      interfaceId: u16(block, 8, le),
      timestamp: timestamp(block, 12, le),
      caplen,
      len: u32(block, 24, le),
      data: block.subarray(28, 28 + caplen),
      options: [],
    },
    block.length,
  );
}

/** A Simple Packet Block (draft 4.4): interface 0, no timestamp, caplen from the snaplen. */
export function decodeSimplePacket(block: Buffer, le: boolean, snaplen: number): DecodeResult<PacketBlock> {
  if (block.length < 16) return truncated('pcapng-spb', 16, block.length, 0);
  const len = u32(block, 8, le);
  let caplen = Math.min(len, block.length - 16);
  if (snaplen > 0) caplen = Math.min(caplen, snaplen);
  return ok({ interfaceId: 0, caplen, len, data: block.subarray(12, 12 + caplen), options: [] }, block.length);
}

export function commentsOf(options: Option[]): string[] {
  return options.filter((o) => o.code === OPT_COMMENT).map((o) => o.value.toString('utf8'));
}

// ---------- writing (little-endian, one section) ----------

function block(type: number, body: Buffer): Buffer {
  const total = 12 + pad4(body.length);
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

function optionsBytes(opts: Option[]): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const o of opts) {
    const h = Buffer.alloc(4 + pad4(o.value.length));
    h.writeUInt16LE(o.code, 0);
    h.writeUInt16LE(o.value.length, 2);
    o.value.copy(h, 4);
    parts.push(h);
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt
  return Buffer.concat(parts);
}

export function encodeSectionHeader(options: Option[] = []): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length not given
  return block(BT_SHB, Buffer.concat([body, optionsBytes(options)]));
}

/** An IDB; `nano` asks for if_tsresol 9 (nanoseconds), else microseconds (the default). */
export function encodeInterface(i: { linktype: number; snaplen: number; name?: string; description?: string; nano?: boolean }): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(i.linktype, 0);
  body.writeUInt32LE(i.snaplen >>> 0, 4);
  const opts: Option[] = [];
  if (i.name) opts.push({ code: IF_NAME, value: Buffer.from(i.name) });
  if (i.description) opts.push({ code: IF_DESCRIPTION, value: Buffer.from(i.description) });
  if (i.nano) opts.push({ code: IF_TSRESOL, value: Buffer.from([9]) });
  return block(BT_IDB, Buffer.concat([body, optionsBytes(opts)]));
}

/** An EPB; `comments` become opt_comment options (draft 3.5), as Wireshark shows them. */
export function encodeEnhancedPacket(p: { interfaceId: number; timestamp: bigint; len: number; data: Buffer; comments?: readonly string[] }): Buffer {
  const opts = optionsBytes((p.comments ?? []).map((c) => ({ code: OPT_COMMENT, value: Buffer.from(c) })));
  const total = 32 + pad4(p.data.length) + opts.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(BT_EPB, 0);
  b.writeUInt32LE(total, 4);
  b.writeUInt32LE(p.interfaceId, 8);
  b.writeUInt32LE(Number(p.timestamp >> 32n), 12);
  b.writeUInt32LE(Number(p.timestamp & 0xffffffffn), 16);
  b.writeUInt32LE(p.data.length, 20);
  b.writeUInt32LE(p.len >>> 0, 24);
  p.data.copy(b, 28);
  opts.copy(b, 28 + pad4(p.data.length));
  b.writeUInt32LE(total, total - 4);
  return b;
}
