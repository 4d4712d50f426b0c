// The classic libpcap file format (pcap-savefile(5); draft-ietf-opsawg-pcap):
// a 24-byte file header, then records of a 16-byte header and the bytes.
// Pure codecs: decode never throws, it returns a value or a typed failure.
import { type DecodeResult, fail, ok, truncated } from '../packet/result.js';

export const MAGIC_US = 0xa1b2c3d4;
export const MAGIC_NS = 0xa1b23c4d;
export const FILE_HEADER = 24;
export const RECORD_HEADER = 16;
/** libpcap's ceiling for a record without a trustworthy snaplen (pcap-int.h MAXIMUM_SNAPLEN) */
export const MAXIMUM_SNAPLEN = 262144;

export interface PcapFileHeader {
  littleEndian: boolean;
  /** timestamps in nanoseconds (magic a1b23c4d) rather than microseconds */
  nano: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** the link type, LINKTYPE_* (the low 16 bits of the field) */
  linktype: number;
  /** FCS length in bytes when the F bit is set (pcap-savefile(5) LT_FCS_LENGTH), else undefined */
  fcsLength?: number;
}

export interface PcapRecordHeader {
  sec: number;
  /** µs or ns after sec, as the file header says */
  frac: number;
  caplen: number;
  len: number;
}

/** 'le' / 'be' / null for the four magic numbers in either byte order. */
export function sniff(buf: Buffer, offset = 0): { littleEndian: boolean; nano: boolean } | null {
  if (buf.length - offset < 4) return null;
  const le = buf.readUInt32LE(offset),
    be = buf.readUInt32BE(offset);
  if (le === MAGIC_US || le === MAGIC_NS) return { littleEndian: true, nano: le === MAGIC_NS };
  if (be === MAGIC_US || be === MAGIC_NS) return { littleEndian: false, nano: be === MAGIC_NS };
  return null;
}

export function decodeFileHeader(buf: Buffer, offset = 0): DecodeResult<PcapFileHeader> {
  const have = buf.length - offset;
  if (have < FILE_HEADER) return truncated('pcap', FILE_HEADER, have, offset);
  const s = sniff(buf, offset);
  if (!s) return fail('pcap', 'unknown file format', offset);
  const u16 = (o: number) => (s.littleEndian ? buf.readUInt16LE(offset + o) : buf.readUInt16BE(offset + o));
  const u32 = (o: number) => (s.littleEndian ? buf.readUInt32LE(offset + o) : buf.readUInt32BE(offset + o));
  const versionMajor = u16(4);
  if (versionMajor !== 2) return fail('pcap', `archaic pcap savefile format ${versionMajor}.${u16(6)}`, offset + 4);
  const lt = u32(20);
  const fcs = (lt & 0x10000000) !== 0 ? ((lt >>> 29) & 7) * 2 : undefined;
  return ok(
    {
      littleEndian: s.littleEndian,
      nano: s.nano,
      versionMajor,
      versionMinor: u16(6),
      snaplen: u32(16),
      linktype: lt & 0xffff,
      fcsLength: fcs,
    },
    FILE_HEADER,
  );
}

export function decodeRecordHeader(buf: Buffer, offset: number, littleEndian: boolean): DecodeResult<PcapRecordHeader> {
  const have = buf.length - offset;
  if (have < RECORD_HEADER) return truncated('pcap-record', RECORD_HEADER, have, offset);
  const r = littleEndian
    ? { sec: buf.readUInt32LE(offset), frac: buf.readUInt32LE(offset + 4), caplen: buf.readUInt32LE(offset + 8), len: buf.readUInt32LE(offset + 12) }
    : { sec: buf.readUInt32BE(offset), frac: buf.readUInt32BE(offset + 4), caplen: buf.readUInt32BE(offset + 8), len: buf.readUInt32BE(offset + 12) };
  return ok(r, RECORD_HEADER);
}

/** The largest caplen libpcap accepts for a file's snaplen (sf-pcap.c pcap_next_packet). */
export function maxCaplen(snaplen: number): number {
  return Math.max(snaplen, MAXIMUM_SNAPLEN);
}

export function encodeFileHeader(h: { nano: boolean; snaplen: number; linktype: number }): Buffer {
  const b = Buffer.alloc(FILE_HEADER);
  b.writeUInt32LE(h.nano ? MAGIC_NS : MAGIC_US, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(h.snaplen >>> 0, 16);
  b.writeUInt32LE(h.linktype >>> 0, 20);
  return b;
}

export function encodeRecordHeader(r: PcapRecordHeader, buf = Buffer.alloc(RECORD_HEADER), offset = 0): Buffer {
  buf.writeUInt32LE(r.sec >>> 0, offset);
  buf.writeUInt32LE(r.frac >>> 0, offset + 4);
  buf.writeUInt32LE(r.caplen >>> 0, offset + 8);
  buf.writeUInt32LE(r.len >>> 0, offset + 12);
  return buf;
}

export const encodingLength = (caplen: number): number => RECORD_HEADER + caplen;
