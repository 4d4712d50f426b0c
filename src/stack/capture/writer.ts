// Writing capture files: pcap (µs or ns) or pcapng (one section, an IDB for
// each link type and snaplen met), buffered and written synchronously so a
// write error surfaces where the packet was written.
import { closeSync, openSync, writeSync } from 'node:fs';
import * as pcap from './pcap.js';
import * as ng from './pcapng.js';
import type { CapturePacket } from './reader.js';

export type CaptureFormat = 'pcap' | 'pcapng';

const STAGE_BYTES = 1 << 20;

/** src[off, off + n) into dst at at: a loop for small packets (no view allocated), set() for big ones. */
function copyBytes(src: Uint8Array, off: number, n: number, dst: Uint8Array, at: number): void {
  if (n <= 24) for (let i = 0; i < n; i++) dst[at + i] = src[off + i]!;
  else dst.set(src.subarray(off, off + n), at);
}

export class CaptureWriter {
  private readonly fd: number;
  private readonly ownFd: boolean;
  // records are staged in one buffer and written with one write(2) per flush
  private stage = Buffer.allocUnsafe(STAGE_BYTES);
  private view = new DataView(this.stage.buffer, this.stage.byteOffset, this.stage.length);
  private used = 0;
  private started = false;
  private pcapLinktype = -1;
  private readonly ifaces = new Map<string, number>();
  private lastLinktype = -1;
  private lastSnaplen = -1;
  private lastId = 0;

  /** '-' writes to standard output. Throws the open(2) error. */
  constructor(
    path: string,
    private readonly format: CaptureFormat,
    private readonly nano: boolean,
  ) {
    this.ownFd = path !== '-';
    this.fd = this.ownFd ? openSync(path, 'w') : 1;
  }

  /** Write one packet; throws a RangeError when a pcap file cannot hold its link type. */
  write(p: CapturePacket): void {
    if (this.format === 'pcap') {
      if (!this.started) this.header(p.linktype, p.snaplen);
      if (p.linktype !== this.pcapLinktype)
        throw new RangeError(`a pcap file holds one link type (${this.pcapLinktype}); packet ${p.number} has ${p.linktype}: use --format pcapng`);
    }
    this.writeFrame(p.linktype, p.snaplen, p.sec, p.nsec, p.len, null, p.data, 0, p.data.length);
  }

  /**
   * Write one packet given as bytes (live.ts FrameSink): head (or null) then
   * src[off, off + caplen), straight into the staging buffer, no object per
   * packet. begin() must have been called with the packets' link type.
   */
  writeFrame(
    linktype: number,
    snaplen: number,
    sec: number,
    nsec: number,
    len: number,
    head: Uint8Array | null,
    src: Uint8Array,
    off: number,
    caplen: number,
  ): void {
    const hl = head ? head.length : 0;
    const cap = hl + caplen;
    const frac = this.nano ? nsec : Math.floor(nsec / 1000);
    const ng = this.format === 'pcapng';
    // (an IDB the first time is staged before the room is looked for)
    const id = ng ? this.interfaceFor(linktype, snaplen) : 0;
    const need = ng ? 32 + ((cap + 3) & ~3) : pcap.RECORD_HEADER + cap;
    if (this.used + need > this.stage.length) this.flush();
    if (need > this.stage.length) this.grow(need);
    const b = this.stage,
      v = this.view;
    let o = this.used;
    if (ng) {
      const total = 32 + ((cap + 3) & ~3);
      const r = this.nano ? 1e9 : 1e6;
      // sec * r + frac as two 32-bit halves, exactly, without a bigint: sec = sh * 2^16 + sl
      const sh = Math.floor(sec / 65536),
        sl = sec % 65536;
      const a = sh * r,
        c = (a % 65536) * 65536 + sl * r + frac;
      v.setUint32(o, 6, true); // EPB
      v.setUint32(o + 4, total, true);
      v.setUint32(o + 8, id, true);
      v.setUint32(o + 12, Math.floor(a / 65536) + Math.floor(c / 4294967296), true);
      v.setUint32(o + 16, c % 4294967296, true);
      v.setUint32(o + 20, cap, true);
      v.setUint32(o + 24, len >>> 0, true);
      if (head) b.set(head, o + 28);
      copyBytes(src, off, caplen, b, o + 28 + hl);
      for (let i = o + 28 + cap; i < o + total - 4; i++) b[i] = 0;
      v.setUint32(o + total - 4, total, true);
      this.used = o + total;
    } else {
      if (linktype !== this.pcapLinktype)
        throw new RangeError(`a pcap file holds one link type (${this.pcapLinktype}); a packet has ${linktype}: use --format pcapng`);
      v.setUint32(o, sec >>> 0, true);
      v.setUint32(o + 4, frac >>> 0, true);
      v.setUint32(o + 8, cap, true);
      v.setUint32(o + 12, len >>> 0, true);
      o += pcap.RECORD_HEADER;
      if (head) b.set(head, o);
      copyBytes(src, off, caplen, b, o + hl);
      this.used = o + cap;
    }
    if (this.used >= STAGE_BYTES >> 1) this.flush();
  }

  /** Only the file header: what an empty result still writes. */
  begin(linktype: number, snaplen: number): void {
    if (this.format === 'pcap' && !this.started) this.header(linktype, snaplen);
    else if (!this.started) {
      this.push(ng.encodeSectionHeader());
      this.started = true;
    }
  }

  private header(linktype: number, snaplen: number): void {
    this.push(pcap.encodeFileHeader({ nano: this.nano, snaplen, linktype }));
    this.pcapLinktype = linktype;
    this.started = true;
  }

  /** The interface id for a link type and snaplen, its IDB staged the first time (the last one is remembered). */
  private interfaceFor(linktype: number, snaplen: number): number {
    if (linktype === this.lastLinktype && snaplen === this.lastSnaplen) return this.lastId;
    this.begin(linktype, snaplen);
    const key = `${linktype}/${snaplen}`;
    let id = this.ifaces.get(key);
    if (id === undefined) {
      id = this.ifaces.size;
      this.ifaces.set(key, id);
      this.push(ng.encodeInterface({ linktype, snaplen, nano: this.nano }));
    }
    this.lastLinktype = linktype;
    this.lastSnaplen = snaplen;
    this.lastId = id;
    return id;
  }

  private push(b: Buffer): void {
    if (this.used + b.length > this.stage.length) this.flush();
    if (b.length > this.stage.length) this.grow(b.length);
    this.stage.set(b, this.used);
    this.used += b.length;
  }

  /** A staging buffer of at least n bytes (empty: called after a flush). */
  private grow(n: number): void {
    this.stage = Buffer.allocUnsafe(n);
    this.view = new DataView(this.stage.buffer, this.stage.byteOffset, this.stage.length);
  }

  /** Write what is staged: whole records, in one write(2) unless the kernel takes less. */
  flush(): void {
    for (let off = 0; off < this.used; ) off += writeSync(this.fd, this.stage, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    this.flush();
    if (this.ownFd) closeSync(this.fd);
  }
}
