// A capture file as a stream of records: pcap or pcapng told apart by the
// magic, read chunk by chunk from a file or standard input (bounded memory:
// one chunk and the record being read, never the whole file). Malformed or
// truncated input ends the stream with a typed event, never a throw.
import { createReadStream, readSync } from 'node:fs';
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
  /** the chunk being read and the read position in it (readPcap parses whole records in place) */
  buf = EMPTY;
  pos = 0;
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

/** the chunk size: see openSource */
const CHUNK = 1 << 16;

/**
 * Open a file (or '-' for standard input) as a stream of chunks. 64 KiB
 * chunks: 1 MiB ones, each its own allocation outside V8's heap and freed
 * only when a GC notices, let the RSS grow with the file (157 MiB for a 1M-
 * packet file, 83 MiB with these; the CPU time is the same).
 */
export function openSource(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path, { highWaterMark: CHUNK });
}

/**
 * The chunks of a file open for reading, read into two buffers used in
 * turn: no allocation per chunk (each fresh buffer costs its page faults,
 * about 0.25 s of CPU per 100 MB). A chunk, and the packets read from it,
 * stay valid until the chunk after the next one is read: for a reader that
 * is done with a batch before it asks for the next (dump's sinks are).
 */
export async function* fileChunks(fd: number): AsyncGenerator<Buffer> {
  const bufs = [Buffer.allocUnsafeSlow(CHUNK), Buffer.allocUnsafeSlow(CHUNK)];
  for (let i = 0; ; i ^= 1) {
    const n = readSync(fd, bufs[i]!, 0, CHUNK, null);
    if (n === 0) return;
    yield bufs[i]!.subarray(0, n);
  }
}

/** The records of a capture file, in order. */
export async function* readCapture(source: AsyncIterable<Buffer>): AsyncGenerator<CaptureEvent> {
  for await (const batch of readCaptureBatches(source)) yield* batch;
}

/**
 * The records of a capture file in order, in batches: every record held
 * whole by the chunk just read, parsed in one synchronous loop, so a reader
 * pays one await per chunk, not one per packet.
 */
export async function* readCaptureBatches(source: AsyncIterable<Buffer>): AsyncGenerator<CaptureEvent[]> {
  const src = new Chunks(source[Symbol.asyncIterator]());
  if (!(await src.fill(4))) {
    yield [{ kind: 'error', text: `truncated dump file; tried to read 4 file header bytes, only got ${src.available}`, truncated: true }];
    return;
  }
  const magic = src.peek(4);
  if (pcap.sniff(magic)) yield* readPcap(src);
  else if (magic.readUInt32LE(0) === ng.BT_SHB) yield* readPcapng(src);
  else yield [{ kind: 'error', text: 'unknown file format', truncated: false }];
}

async function* readPcap(src: Chunks): AsyncGenerator<CaptureEvent[]> {
  if (!(await src.fill(pcap.FILE_HEADER))) {
    // libpcap has read the magic already: it counts the rest
    yield [{ kind: 'error', text: `truncated dump file; tried to read ${pcap.FILE_HEADER} file header bytes, only got ${src.available - 4}`, truncated: true }];
    return;
  }
  const fh = pcap.decodeFileHeader(src.take(pcap.FILE_HEADER));
  if (!fh.ok) {
    yield [{ kind: 'error', text: fh.error, truncated: false }];
    return;
  }
  const h = fh.value;
  yield [{ kind: 'start', start: { format: 'pcap', linktype: h.linktype, snaplen: h.snaplen, nano: h.nano } }];
  const max = pcap.maxCaplen(h.snaplen);
  const fracNs = h.nano ? 1 : 1000;
  const le = h.littleEndian;
  /** a packet of the record header at buf[p] */
  const packet = (number: number, buf: Buffer, p: number, caplen: number, data: Buffer): CaptureEvent => ({
    kind: 'packet',
    packet: {
      number,
      sec: le ? buf.readUInt32LE(p) : buf.readUInt32BE(p),
      nsec: (le ? buf.readUInt32LE(p + 4) : buf.readUInt32BE(p + 4)) * fracNs,
      caplen,
      len: le ? buf.readUInt32LE(p + 12) : buf.readUInt32BE(p + 12),
      data,
      linktype: h.linktype,
      snaplen: h.snaplen,
      interfaceId: 0,
      fcsLength: h.fcsLength,
    },
  });
  let number = 0;
  for (;;) {
    // the records the buffer holds whole, in place
    const batch: CaptureEvent[] = [];
    const buf = src.buf;
    let p = src.pos;
    while (buf.length - p >= pcap.RECORD_HEADER) {
      const caplen = le ? buf.readUInt32LE(p + 8) : buf.readUInt32BE(p + 8);
      if (caplen > max || buf.length - p - pcap.RECORD_HEADER < caplen) break;
      batch.push(packet(++number, buf, p, caplen, buf.subarray(p + pcap.RECORD_HEADER, p + pcap.RECORD_HEADER + caplen)));
      p += pcap.RECORD_HEADER + caplen;
    }
    src.pos = p;
    if (batch.length) yield batch;
    // one record across chunks (or the end, or a bad record): read as libpcap reads it
    if (src.available < pcap.RECORD_HEADER && !(await src.fill(pcap.RECORD_HEADER))) {
      if (src.available > 0)
        yield [{ kind: 'error', text: `truncated dump file; tried to read ${pcap.RECORD_HEADER} header bytes, only got ${src.available}`, truncated: true }];
      return;
    }
    const head = src.take(pcap.RECORD_HEADER);
    const caplen = le ? head.readUInt32LE(8) : head.readUInt32BE(8);
    if (caplen > max) {
      yield [{ kind: 'error', text: `invalid packet capture length ${caplen}, bigger than snaplen of ${max}`, truncated: false }];
      return;
    }
    if (src.available < caplen && !(await src.fill(caplen))) {
      yield [{ kind: 'error', text: `truncated dump file; tried to read ${caplen} captured bytes, only got ${src.available}`, truncated: true }];
      return;
    }
    yield [packet(++number, head, 0, caplen, src.take(caplen))];
  }
}

const SKIPPED: Record<number, string> = {
  [ng.BT_NRB]: 'name resolution block',
  [ng.BT_ISB]: 'interface statistics block',
  [ng.BT_DSB]: 'decryption secrets block',
};

/**
 * What a pcapng file's reader keeps from block to block: the section's byte
 * order and interfaces, and the events not yet handed over. Each block held
 * whole is read into events by block(), synchronously.
 */
class PcapngState {
  /** the section's byte order */
  le = true;
  /** the section's interfaces, by id */
  interfaces: ng.Interface[] = [];
  started = false;
  number = 0;
  /** the events of the blocks held whole, handed over before each wait for more input and at the end */
  batch: CaptureEvent[] = [];

  flush(): CaptureEvent[] {
    const b = this.batch;
    this.batch = [];
    return b;
  }

  /** The events not yet handed over and, last, the malformed input that ends the file. */
  fail(text: string): CaptureEvent[] {
    this.batch.push({ kind: 'error', text, truncated: false });
    return this.flush();
  }

  /** One whole block's events into the batch; the error that ends the file, if any. */
  block(type: number, block: Buffer): string | undefined {
    switch (type) {
      case ng.BT_SHB:
        return this.sectionHeader(block);
      case ng.BT_IDB:
        return this.interfaceDescription(block);
      case ng.BT_EPB:
      case ng.BT_PB:
      case ng.BT_SPB:
        return this.packetBlock(type, block);
      default:
        if (SKIPPED[type]) this.batch.push({ kind: 'note', text: `skipped a ${SKIPPED[type]}` });
        else this.batch.push({ kind: 'note', text: `skipped a block of unknown type 0x${type.toString(16).padStart(8, '0')}` });
        return undefined;
    }
  }

  private sectionHeader(block: Buffer): string | undefined {
    const shb = ng.decodeSectionHeader(block, this.le);
    if (!shb.ok) return shb.error;
    this.interfaces = []; // interface ids are per section
    return undefined;
  }

  /** an IDB; the first of the file is the start event */
  private interfaceDescription(block: Buffer): string | undefined {
    const idb = ng.decodeInterface(block, this.le);
    if (!idb.ok) return idb.error;
    this.interfaces.push(idb.value);
    if (!this.started) {
      this.started = true;
      this.batch.push({
        kind: 'start',
        start: { format: 'pcapng', linktype: idb.value.linktype, snaplen: idb.value.snaplen, nano: idb.value.unitsPerSecond > 1_000_000n },
      });
    }
    return undefined;
  }

  /** an enhanced, obsolete or simple packet block, on an interface of the section */
  private packetBlock(type: number, block: Buffer): string | undefined {
    const le = this.le;
    const r =
      type === ng.BT_EPB
        ? ng.decodeEnhancedPacket(block, le)
        : type === ng.BT_PB
          ? ng.decodeObsoletePacket(block, le)
          : ng.decodeSimplePacket(block, le, this.interfaces[0]?.snaplen ?? 0);
    if (!r.ok) return r.error;
    const packet = r.value;
    const iface = this.interfaces[packet.interfaceId];
    if (!iface) return `a packet arrived on interface ${packet.interfaceId}, but there's no Interface Description Block for that interface`;
    const { sec, nsec } = time(packet.timestamp ?? 0n, iface);
    this.batch.push({
      kind: 'packet',
      packet: {
        number: ++this.number,
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
    });
    return undefined;
  }
}

/**
 * The blocks of a pcapng file: each one's framing checked here (a section
 * header's byte order, the total length in header and trailer), its
 * contents read by PcapngState.
 */
async function* readPcapng(src: Chunks): AsyncGenerator<CaptureEvent[]> {
  const st = new PcapngState();
  for (;;) {
    if (src.available < 8 && st.batch.length) yield st.flush();
    if (src.available < 8 && !(await src.fill(8))) {
      if (src.available > 0) yield [{ kind: 'error', text: `truncated pcapng dump file; tried to read 8 bytes, only got ${src.available}`, truncated: true }];
      return;
    }
    const head = src.peek(8);
    let type = st.le ? head.readUInt32LE(0) : head.readUInt32BE(0);
    if (head.readUInt32LE(0) === ng.BT_SHB) {
      // a new section may change the byte order (draft 4.1)
      if (src.available < 12 && st.batch.length) yield st.flush();
      if (!(await src.fill(12))) {
        yield [{ kind: 'error', text: `truncated pcapng dump file; tried to read 12 bytes, only got ${src.available}`, truncated: true }];
        return;
      }
      const order = ng.sectionByteOrder(src.peek(12));
      if (!order.ok) {
        yield st.fail('unknown file format');
        return;
      }
      st.le = order.value;
      type = ng.BT_SHB;
    }
    const le = st.le;
    const total = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
    if (total < 12 || total % 4 !== 0) {
      yield st.fail(`block in pcapng dump file has a length of ${total} < 12 or not a multiple of 4`);
      return;
    }
    if (total > ng.MAX_BLOCKSIZE) {
      yield st.fail(`pcapng block size ${total} > maximum ${ng.MAX_BLOCKSIZE}`);
      return;
    }
    if (src.available < total && st.batch.length) yield st.flush();
    if (src.available < total && !(await src.fill(total))) {
      yield [{ kind: 'error', text: `truncated pcapng dump file; tried to read ${total} bytes, only got ${src.available}`, truncated: true }];
      return;
    }
    const block = src.take(total);
    if ((le ? block.readUInt32LE(total - 4) : block.readUInt32BE(total - 4)) !== total) {
      yield st.fail("block total length in header and trailer don't match");
      return;
    }
    const error = st.block(type, block);
    if (error !== undefined) {
      yield st.fail(error);
      return;
    }
  }
}

/** A timestamp in an interface's units as seconds and nanoseconds (if_tsresol, if_tsoffset). */
export function time(ts: bigint, iface: ng.Interface): { sec: number; nsec: number } {
  const ups = iface.unitsPerSecond;
  const sec = ts / ups + iface.tsoffset;
  const frac = ts % ups;
  return { sec: Number(sec), nsec: Number((frac * 1_000_000_000n) / ups) };
}
