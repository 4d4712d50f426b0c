// A capture file as a stream of records: pcap or pcapng told apart by the
// magic, read chunk by chunk from a file or standard input (bounded memory:
// one chunk and the record being read, never the whole file). Malformed or
// truncated input ends the stream with a typed event, never a throw.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import * as pcap from './pcap.js';
import * as ng from './pcapng.js';

export interface CapturePacket {
  /** 1-based position among the packets of the file */
  number: number;
  sec: number;
  /** nanoseconds after sec */
  nsec: number;
  caplen: number;
  len: number;
  data: Buffer;
  linktype: number;
  snaplen: number;
  interfaceId: number;
  /** FCS bytes at the end of the frame (pcap FCS bits, if_fcslen) */
  fcsLength?: number;
}

export interface CaptureStart {
  format: 'pcap' | 'pcapng';
  /** the file's (or first interface's) link type and snapshot length */
  linktype: number;
  snaplen: number;
  /** timestamps finer than microseconds */
  nano: boolean;
}

export type CaptureEvent =
  | { kind: 'start'; start: CaptureStart }
  | { kind: 'packet'; packet: CapturePacket }
  /** something skipped that the reader says so about (a DSB, an unknown block) */
  | { kind: 'note'; text: string }
  /** the end: a truncated or malformed file, in libpcap's words */
  | { kind: 'error'; text: string; truncated: boolean };

const EMPTY: Buffer = Buffer.alloc(0);

/** A buffered view over an async iterator of chunks. */
class Chunks {
  private buf = EMPTY;
  private pos = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  get available(): number {
    return this.buf.length - this.pos;
  }

  /** Wait until n bytes are buffered; false when the input ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const chunk = r.value as Buffer;
      this.buf = this.available > 0 ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
      this.pos = 0;
    }
    return this.available >= n;
  }

  peek(n: number): Buffer {
    return this.buf.subarray(this.pos, this.pos + n);
  }

  take(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += Math.min(n, this.available);
    return b;
  }
}

/**
 * Open a file (or '-' for standard input) as a stream of chunks. 64 KiB
 * chunks: 1 MiB ones, each its own allocation outside V8's heap and freed
 * only when a GC notices, let the RSS grow with the file (157 MiB for a 1M-
 * packet file, 83 MiB with these; the CPU time is the same).
 */
export function openSource(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 16 });
}

/** The records of a capture file, in order. */
export async function* readCapture(source: AsyncIterable<Buffer>): AsyncGenerator<CaptureEvent> {
  const src = new Chunks(source[Symbol.asyncIterator]());
  if (!(await src.fill(4))) {
    yield { kind: 'error', text: `truncated dump file; tried to read 4 file header bytes, only got ${src.available}`, truncated: true };
    return;
  }
  const magic = src.peek(4);
  if (pcap.sniff(magic)) yield* readPcap(src);
  else if (magic.readUInt32LE(0) === ng.BT_SHB) yield* readPcapng(src);
  else yield { kind: 'error', text: 'unknown file format', truncated: false };
}

async function* readPcap(src: Chunks): AsyncGenerator<CaptureEvent> {
  if (!(await src.fill(pcap.FILE_HEADER))) {
    // libpcap has read the magic already: it counts the rest
    yield { kind: 'error', text: `truncated dump file; tried to read ${pcap.FILE_HEADER} file header bytes, only got ${src.available - 4}`, truncated: true };
    return;
  }
  const fh = pcap.decodeFileHeader(src.take(pcap.FILE_HEADER));
  if (!fh.ok) {
    yield { kind: 'error', text: fh.error, truncated: false };
    return;
  }
  const h = fh.value;
  yield { kind: 'start', start: { format: 'pcap', linktype: h.linktype, snaplen: h.snaplen, nano: h.nano } };
  const max = pcap.maxCaplen(h.snaplen);
  const fracNs = h.nano ? 1 : 1000;
  for (let number = 1; ; number++) {
    if (src.available < pcap.RECORD_HEADER && !(await src.fill(pcap.RECORD_HEADER))) {
      if (src.available > 0)
        yield { kind: 'error', text: `truncated dump file; tried to read ${pcap.RECORD_HEADER} header bytes, only got ${src.available}`, truncated: true };
      return;
    }
    const rh = pcap.decodeRecordHeader(src.take(pcap.RECORD_HEADER), 0, h.littleEndian);
    if (!rh.ok) return;
    const r = rh.value;
    if (r.caplen > max) {
      yield { kind: 'error', text: `invalid packet capture length ${r.caplen}, bigger than snaplen of ${max}`, truncated: false };
      return;
    }
    if (src.available < r.caplen && !(await src.fill(r.caplen))) {
      yield { kind: 'error', text: `truncated dump file; tried to read ${r.caplen} captured bytes, only got ${src.available}`, truncated: true };
      return;
    }
    const data = src.take(r.caplen);
    yield {
      kind: 'packet',
      packet: {
        number,
        sec: r.sec,
        nsec: r.frac * fracNs,
        caplen: r.caplen,
        len: r.len,
        data,
        linktype: h.linktype,
        snaplen: h.snaplen,
        interfaceId: 0,
        fcsLength: h.fcsLength,
      },
    };
  }
}

const SKIPPED: Record<number, string> = {
  [ng.BT_NRB]: 'name resolution block',
  [ng.BT_ISB]: 'interface statistics block',
  [ng.BT_DSB]: 'decryption secrets block',
};

async function* readPcapng(src: Chunks): AsyncGenerator<CaptureEvent> {
  let le = true;
  let interfaces: ng.Interface[] = [];
  let started = false;
  let number = 0;
  for (;;) {
    if (src.available < 8 && !(await src.fill(8))) {
      if (src.available > 0) yield { kind: 'error', text: `truncated pcapng dump file; tried to read 8 bytes, only got ${src.available}`, truncated: true };
      return;
    }
    const head = src.peek(8);
    let type = le ? head.readUInt32LE(0) : head.readUInt32BE(0);
    if (head.readUInt32LE(0) === ng.BT_SHB) {
      // a new section may change the byte order (draft 4.1)
      if (!(await src.fill(12))) {
        yield { kind: 'error', text: `truncated pcapng dump file; tried to read 12 bytes, only got ${src.available}`, truncated: true };
        return;
      }
      const order = ng.sectionByteOrder(src.peek(12));
      if (!order.ok) {
        yield { kind: 'error', text: 'unknown file format', truncated: false };
        return;
      }
      le = order.value;
      type = ng.BT_SHB;
    }
    const total = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
    if (total < 12 || total % 4 !== 0) {
      yield { kind: 'error', text: `block in pcapng dump file has a length of ${total} < 12 or not a multiple of 4`, truncated: false };
      return;
    }
    if (total > ng.MAX_BLOCKSIZE) {
      yield { kind: 'error', text: `pcapng block size ${total} > maximum ${ng.MAX_BLOCKSIZE}`, truncated: false };
      return;
    }
    if (src.available < total && !(await src.fill(total))) {
      yield { kind: 'error', text: `truncated pcapng dump file; tried to read ${total} bytes, only got ${src.available}`, truncated: true };
      return;
    }
    const block = src.take(total);
    if ((le ? block.readUInt32LE(total - 4) : block.readUInt32BE(total - 4)) !== total) {
      yield { kind: 'error', text: "block total length in header and trailer don't match", truncated: false };
      return;
    }
    let packet: ng.PacketBlock | undefined;
    switch (type) {
      case ng.BT_SHB: {
        const shb = ng.decodeSectionHeader(block, le);
        if (!shb.ok) {
          yield { kind: 'error', text: shb.error, truncated: false };
          return;
        }
        interfaces = []; // interface ids are per section
        break;
      }
      case ng.BT_IDB: {
        const idb = ng.decodeInterface(block, le);
        if (!idb.ok) {
          yield { kind: 'error', text: idb.error, truncated: false };
          return;
        }
        interfaces.push(idb.value);
        if (!started) {
          started = true;
          yield {
            kind: 'start',
            start: { format: 'pcapng', linktype: idb.value.linktype, snaplen: idb.value.snaplen, nano: idb.value.unitsPerSecond > 1_000_000n },
          };
        }
        break;
      }
      case ng.BT_EPB:
      case ng.BT_PB:
      case ng.BT_SPB: {
        const r =
          type === ng.BT_EPB
            ? ng.decodeEnhancedPacket(block, le)
            : type === ng.BT_PB
              ? ng.decodeObsoletePacket(block, le)
              : ng.decodeSimplePacket(block, le, interfaces[0]?.snaplen ?? 0);
        if (!r.ok) {
          yield { kind: 'error', text: r.error, truncated: false };
          return;
        }
        packet = r.value;
        break;
      }
      default:
        if (SKIPPED[type]) yield { kind: 'note', text: `skipped a ${SKIPPED[type]}` };
        else yield { kind: 'note', text: `skipped a block of unknown type 0x${type.toString(16).padStart(8, '0')}` };
    }
    if (!packet) continue;
    const iface = interfaces[packet.interfaceId];
    if (!iface) {
      yield {
        kind: 'error',
        text: `a packet arrived on interface ${packet.interfaceId}, but there's no Interface Description Block for that interface`,
        truncated: false,
      };
      return;
    }
    const { sec, nsec } = time(packet.timestamp ?? 0n, iface);
    yield {
      kind: 'packet',
      packet: {
        number: ++number,
        sec,
        nsec,
        caplen: packet.caplen,
        len: packet.len,
        data: packet.data,
        linktype: iface.linktype,
        snaplen: iface.snaplen,
        interfaceId: packet.interfaceId,
        fcsLength: iface.fcsLength,
      },
    };
  }
}

/** A timestamp in an interface's units as seconds and nanoseconds (if_tsresol, if_tsoffset). */
export function time(ts: bigint, iface: ng.Interface): { sec: number; nsec: number } {
  const ups = iface.unitsPerSecond;
  const sec = ts / ups + iface.tsoffset;
  const frac = ts % ups;
  return { sec: Number(sec), nsec: Number((frac * 1_000_000_000n) / ups) };
}
