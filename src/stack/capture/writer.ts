// Writing capture files: pcap (µs or ns) or pcapng (one section, an IDB for
// each link type and snaplen met), buffered and written synchronously so a
// write error surfaces where the packet was written.
import { closeSync, openSync, writeSync } from 'node:fs';
import * as pcap from './pcap.js';
import * as ng from './pcapng.js';
import type { CapturePacket } from './reader.js';

export type CaptureFormat = 'pcap' | 'pcapng';

const STAGE_BYTES = 1 << 20;

export class CaptureWriter {
  private readonly fd: number;
  private readonly ownFd: boolean;
  // records are staged in one buffer and written with one write(2) per flush
  private stage = Buffer.allocUnsafe(STAGE_BYTES);
  private used = 0;
  private started = false;
  private pcapLinktype = -1;
  private readonly ifaces = new Map<string, number>();

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
    if (this.format === 'pcap') this.writePcap(p);
    else this.writePcapng(p);
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

  private writePcap(p: CapturePacket): void {
    if (!this.started) this.header(p.linktype, p.snaplen);
    if (p.linktype !== this.pcapLinktype)
      throw new RangeError(`a pcap file holds one link type (${this.pcapLinktype}); packet ${p.number} has ${p.linktype}: use --format pcapng`);
    const n = pcap.RECORD_HEADER + p.data.length;
    if (this.used + n > this.stage.length) this.flush();
    if (n > this.stage.length) this.stage = Buffer.allocUnsafe(n);
    pcap.encodeRecordHeader({ sec: p.sec, frac: this.nano ? p.nsec : Math.floor(p.nsec / 1000), caplen: p.data.length, len: p.len }, this.stage, this.used);
    this.stage.set(p.data, this.used + pcap.RECORD_HEADER);
    this.used += n;
  }

  private writePcapng(p: CapturePacket): void {
    this.begin(p.linktype, p.snaplen);
    const key = `${p.linktype}/${p.snaplen}`;
    let id = this.ifaces.get(key);
    if (id === undefined) {
      id = this.ifaces.size;
      this.ifaces.set(key, id);
      this.push(ng.encodeInterface({ linktype: p.linktype, snaplen: p.snaplen, nano: this.nano }));
    }
    const ts = BigInt(p.sec) * (this.nano ? 1_000_000_000n : 1_000_000n) + BigInt(this.nano ? p.nsec : Math.floor(p.nsec / 1000));
    this.push(ng.encodeEnhancedPacket({ interfaceId: id, timestamp: ts, len: p.len, data: p.data }));
  }

  private push(b: Buffer): void {
    if (this.used + b.length > this.stage.length) this.flush();
    if (b.length > this.stage.length) this.stage = Buffer.allocUnsafe(b.length);
    this.stage.set(b, this.used);
    this.used += b.length;
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
