/**
 * Live capture on an AF_PACKET socket (packet(7)): the core of `sockit
 * capture` and of the privileged `--pcap` recording.
 *
 * API (stable: later changes add, never rename):
 *
 *   import { openLive, toCapturePacket } from '../stack/capture/live.js';
 *
 *   const cap = openLive({
 *     interface: 'veth0',      // a name, an ifindex, or 'any' (cooked, LINKTYPE_LINUX_SLL2)
 *     filter: 'icmp',          // a pcap-filter expression, or an Insn[] compiled for cap.linktype
 *     snaplen: 262144,         // bytes kept per packet (the filter's accept value)
 *     promiscuous: true,       // PACKET_ADD_MEMBERSHIP PACKET_MR_PROMISC (never on 'any')
 *     direction: 'inout',      // 'in' | 'out' | 'inout' (tcpdump -Q)
 *     mechanism: 'auto',       // 'ring' (TPACKET_V3 mmap) | 'recvmsg' | 'auto' (ring, else recvmsg)
 *     bufferBytes: 2 << 20,    // ring size, or SO_RCVBUF for recvmsg
 *     retireMs: 50,            // how long a ring block that is not full waits before it is handed over
 *     transient: false,        // true: p.data is a view valid only inside the 'packet' listener (no copy)
 *   });
 *   cap.linktype;              // LINKTYPE_ETHERNET, LINKTYPE_RAW, or LINKTYPE_LINUX_SLL2
 *   cap.snaplen; cap.ifindex; cap.interfaceName;
 *   cap.mechanism;             // 'tpacket_v3' | 'recvmsg'
 *   cap.kernelFilter;          // true when the filter runs in the kernel (SO_ATTACH_FILTER),
 *                              // false when the process runs it (VLAN tests, cooked `len`)
 *   cap.on('packet', (p: LivePacket) => { ... });   // or: for await (const p of cap) { ... }
 *   cap.on('error', (e) => { ... });
 *   cap.stats();               // { received, dropped, captured }: PACKET_STATISTICS, cumulative
 *   cap.pending();             // packets in ring blocks handed over but not yet read
 *   cap.ringGeometry();        // { blocks, blockSize } of the ring, null on the recvmsg path
 *   await cap.stop();          // waits for the block being filled (≤ retireMs), delivers it, closes
 *   cap.close();               // stops, unmaps, closes at once; returns the final stats; emits 'close'
 *   cap.flush();               // delivers, synchronously, what the socket holds now (recvmsg; a
 *                              // ring's handed-over blocks): --pcap's last read before close()
 *   cap.ref(false);            // the capture does not keep the process alive
 *   cap.onFrames((src, off, caplen, len, sec, nsec, head) => { ... });
 *                              // instead of 'packet': each packet is head (null, or a
 *                              // scratch prefix: the SLL2 header, or Ethernet addresses
 *                              // and the VLAN tag put back) then src[off, off + caplen),
 *                              // len its wire length; valid only during the call; no
 *                              // object per packet (the -w hot loop)
 *
 *   LivePacket = { tsNs (bigint, CLOCK_REALTIME, the kernel's stamp), sec, nsec, ifindex,
 *                  linktype, caplen, len, data (a Buffer the caller owns), direction
 *                  ('in' | 'out'), pkttype (PACKET_HOST ... PACKET_OUTGOING), protocol
 *                  (the ethertype), vlan?: { tci, tpid } (a tag the NIC stripped; for
 *                  Ethernet it is also put back into data, as libpcap does) }
 *   toCapturePacket(p, number, snaplen, interfaceId?) -> CapturePacket for CaptureWriter.
 *   linktypeForHatype(hatype, ifindex?) -> the link type openLive would give (no privilege needed).
 *
 * openLive throws PermissionError (with the exact fix) without CAP_NET_RAW,
 * and UsageError for an interface that does not exist or a bad expression,
 * before any packet is read. Packets start flowing on the next turn of the
 * event loop: attach the 'packet' listener (or start iterating) at once.
 *
 * Order of setup, so nothing unfiltered is ever delivered: socket with
 * protocol 0 (receives nothing), a reject-all filter, the ring, bind to the
 * interface with ETH_P_ALL, membership, then the real filter, then the
 * counters read once (reading them resets them).
 */
import { EventEmitter } from 'node:events';
import * as C from '../constants.js';
import { PermissionError, UsageError, isSystemError } from '../errors.js';
import { native, timeBase } from '../native/index.js';
import { Socket } from '../socket.js';
import * as bpf from '../bpf.js';
import { compileFilter, filterFunction, type Insn } from '../filter/index.js';
import * as tp from '../abi/tpacket.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW } from './linktype.js';
import type { CapturePacket } from './reader.js';

export type Direction = 'in' | 'out' | 'inout';
export type Mechanism = 'tpacket_v3' | 'recvmsg';

export interface LiveOptions {
  /** an interface name, an ifindex, or 'any' */
  interface: string | number;
  filter?: string | Insn[];
  snaplen?: number;
  promiscuous?: boolean;
  direction?: Direction;
  mechanism?: 'auto' | 'ring' | 'recvmsg';
  bufferBytes?: number;
  retireMs?: number;
  /**
   * data of a plain frame is a view of the ring (or of the receive buffer),
   * valid only until the 'packet' listener returns: no copy per packet, for
   * a listener that prints or writes it at once. Iteration still gets copies.
   */
  transient?: boolean;
}

export interface LivePacket {
  /** CLOCK_REALTIME ns (a getter on the packets openLive makes: a bigint only when read) */
  tsNs: bigint;
  sec: number;
  nsec: number;
  ifindex: number;
  linktype: number;
  caplen: number;
  len: number;
  data: Buffer;
  direction: 'in' | 'out';
  pkttype: number;
  protocol: number;
  vlan?: { tci: number; tpid: number };
}

export interface LiveStats {
  /** packets the kernel filter accepted (tcpdump's "received by filter"), drops included */
  received: number;
  /** packets the kernel dropped for want of room (tcpdump's "dropped by kernel") */
  dropped: number;
  /** packets handed to 'packet' listeners */
  captured: number;
}

/**
 * A consumer of packets as bytes (see onFrames): head (null, or a prefix
 * valid only during the call) then src[off, off + caplen); len is the wire
 * length, head included.
 */
export type FrameSink = (src: Uint8Array, off: number, caplen: number, len: number, sec: number, nsec: number, head: Uint8Array | null) => void;

export const DEFAULT_SNAPLEN = 262144;
const MAX_FRAME = 65536 + 64;
/** how long a ring block that is not full waits before the kernel hands it over */
const RETIRE_MS = 50;
const SLL2_LEN = 20;
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);

/** Open a live capture; see the API at the top of this file. */
export function openLive(opts: LiveOptions): LiveCapture {
  return new LiveCapture(opts);
}

/** A live packet as a record CaptureWriter writes. */
export function toCapturePacket(p: LivePacket, number: number, snaplen: number, interfaceId = 0): CapturePacket {
  return { number, sec: p.sec, nsec: p.nsec, caplen: p.caplen, len: p.len, data: p.data, linktype: p.linktype, snaplen, interfaceId };
}

export function permissionFix(): PermissionError {
  return new PermissionError('capturing packets (an AF_PACKET socket) needs CAP_NET_RAW', [
    'run as root',
    'grant the capability: sudo setcap cap_net_raw+ep "$(command -v node)"',
  ]);
}

function interfaceIndex(name: string | number): number {
  if (typeof name === 'number') return name;
  if (name === 'any') return 0;
  if (/^\d+$/.test(name)) return Number(name);
  try {
    return native.if_nametoindex(name);
  } catch {
    throw new UsageError(`${name}: No such device exists`);
  }
}

/** The link type a capture on an interface of this hardware type (ARPHRD_*; 0 for any) has. */
export function linktypeForHatype(hatype: number, ifindex = 1): number {
  return ifindex === 0 ? LINKTYPE_LINUX_SLL2 : (rawLinktype(hatype) ?? LINKTYPE_LINUX_SLL2);
}

/** The pcap link type of an interface's hardware type on a SOCK_RAW socket; null: use cooked mode. */
function rawLinktype(hatype: number): number | null {
  if (hatype === tp.ARPHRD_ETHER || hatype === tp.ARPHRD_LOOPBACK) return LINKTYPE_ETHERNET;
  if (hatype === tp.ARPHRD_NONE) return LINKTYPE_RAW;
  return null;
}

/**
 * The program the kernel can run in place of `prog`, or null when only the
 * process can: the kernel sees Ethernet frames without the VLAN tag the NIC
 * took off, and a cooked socket's packets without the SLL2 header (loads of
 * its fields become ancillary loads, the rest move back 20 bytes).
 */
export function kernelProgram(prog: readonly Insn[], cooked: boolean): Insn[] | null {
  const out: Insn[] = [];
  for (const ins of prog) {
    const cls = ins.code & 0x07,
      mode = ins.code & 0xe0,
      size = ins.code & 0x18;
    if (cls === bpf.JMP && (ins.code & 0x08) === bpf.K && VLAN_TPIDS.has(ins.k)) return null;
    if (!cooked) {
      out.push({ ...ins });
      continue;
    }
    if (cls === bpf.LD || cls === bpf.LDX) {
      if (mode === bpf.LEN) return null;
      if (mode === bpf.ABS && cls === bpf.LD) {
        if (ins.k >= SLL2_LEN) out.push({ ...ins, k: ins.k - SLL2_LEN });
        else {
          const ad = ancillary(ins.k, size);
          if (ad === null) return null;
          out.push({ ...ins, k: (tp.SKF_AD_OFF + ad) >>> 0 });
        }
        continue;
      }
      if (mode === bpf.IND || mode === bpf.MSH || mode === bpf.ABS) {
        if (ins.k < SLL2_LEN) return null;
        out.push({ ...ins, k: ins.k - SLL2_LEN });
        continue;
      }
    }
    if (cls === bpf.RET && (ins.code & 0x18) === bpf.K && ins.k > SLL2_LEN) out.push({ ...ins, k: ins.k - SLL2_LEN });
    else out.push({ ...ins });
  }
  return out;
}

function ancillary(k: number, size: number): number | null {
  if (k === 0 && size === bpf.H) return tp.SKF_AD_PROTOCOL;
  if (k === 4 && size === bpf.W) return tp.SKF_AD_IFINDEX;
  if (k === 8 && size === bpf.H) return tp.SKF_AD_HATYPE;
  if (k === 10 && size === bpf.B) return tp.SKF_AD_PKTTYPE;
  return null;
}

// the kernel's stamps as seconds and nanoseconds without a bigint per packet: timeBase split once
const BASE_SEC = Number(timeBase / 1_000_000_000n),
  BASE_NSEC = Number(timeBase % 1_000_000_000n);

const REJECT_ALL = bpf.encode([bpf.stmt(bpf.RET | bpf.K, 0)]);

/** A LivePacket with one shape for every packet (no bigint until tsNs is read). */
class Packet implements LivePacket {
  caplen: number;
  readonly direction: 'in' | 'out';
  readonly vlan?: { tci: number; tpid: number };
  constructor(
    readonly sec: number,
    readonly nsec: number,
    readonly ifindex: number,
    readonly linktype: number,
    readonly len: number,
    public data: Buffer,
    readonly pkttype: number,
    readonly protocol: number,
    vlan: { tci: number; tpid: number } | undefined,
  ) {
    this.caplen = data.length;
    this.direction = pkttype === tp.PACKET_OUTGOING ? 'out' : 'in';
    if (vlan) this.vlan = vlan;
  }

  get tsNs(): bigint {
    return BigInt(this.sec) * 1_000_000_000n + BigInt(this.nsec);
  }
}

interface Ring {
  buf: ArrayBuffer;
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  i32: Int32Array;
  blockSize: number;
  blockNr: number;
  next: number;
}

interface Events {
  packet: [LivePacket];
  error: [Error];
  close: [LiveStats];
}

export class LiveCapture extends EventEmitter<Events> implements AsyncIterable<LivePacket> {
  readonly ifindex: number;
  readonly interfaceName: string;
  readonly linktype: number;
  readonly snaplen: number;
  readonly mechanism: Mechanism;
  readonly kernelFilter: boolean;
  readonly direction: Direction;
  private readonly sock: Socket;
  private readonly cooked: boolean;
  /** the filter run in user space (the kernel's refused it): compiled once to a function */
  private readonly userFilter: ((data: Uint8Array, wirelen: number) => number) | null;
  private readonly loIfindex: number;
  private readonly retireMs: number;
  private readonly transient: boolean;
  private ring: Ring | null = null;
  private recvBuf: Buffer | null = null;
  private received = 0;
  private dropped = 0;
  private captured = 0;
  private closed = false;
  private queue: LivePacket[] = [];
  private waiter: ((r: IteratorResult<LivePacket>) => void) | null = null;
  private iterating = false;
  private paused = false;
  private sink: FrameSink | null = null;
  /** scratch prefixes for the sink: a cooked header, Ethernet addresses and a VLAN tag */
  private readonly sllHead = Buffer.alloc(SLL2_LEN);
  private readonly vlanHead = Buffer.alloc(16);

  constructor(opts: LiveOptions) {
    super();
    this.snaplen = opts.snaplen && opts.snaplen > 0 ? Math.min(opts.snaplen, DEFAULT_SNAPLEN) : DEFAULT_SNAPLEN;
    this.direction = opts.direction ?? 'inout';
    this.retireMs = opts.retireMs ?? RETIRE_MS;
    this.transient = opts.transient === true;
    this.ifindex = interfaceIndex(opts.interface);
    this.interfaceName = this.ifindex === 0 ? 'any' : safeName(this.ifindex);
    this.loIfindex = loopbackIndex();
    let cooked = this.ifindex === 0;
    let sock = open(cooked);
    let linktype = LINKTYPE_LINUX_SLL2;
    try {
      if (!cooked) {
        bindTo(sock, this.ifindex);
        const sa = sock.localAddress();
        const raw = sa && sa.family === C.AF_PACKET ? rawLinktype(sa.hatype ?? 0) : LINKTYPE_ETHERNET;
        if (raw === null) {
          // a link type libpcap would also capture cooked (tunnels, PPP ...)
          sock.close();
          cooked = true;
          sock = open(true);
        } else linktype = raw;
      }
      this.cooked = cooked;
      this.linktype = linktype;
      this.sock = sock;
      const ring = opts.mechanism === 'recvmsg' ? null : setupRing(sock, opts, this.snaplen, opts.mechanism === 'ring');
      this.ring = ring;
      this.mechanism = ring ? 'tpacket_v3' : 'recvmsg';
      if (!ring) setRcvbuf(sock, opts.bufferBytes ?? 2 << 20);
      // a raw socket is bound already (to learn its hardware type); PACKET_RX_RING keeps the binding
      if (cooked) bindTo(sock, this.ifindex);
      if (opts.promiscuous !== false && this.ifindex !== 0) {
        sock.setsockopt(tp.SOL_PACKET, tp.PACKET_ADD_MEMBERSHIP, tp.packetMreq(this.ifindex, tp.PACKET_MR_PROMISC));
      }
      if (this.direction === 'in') {
        try {
          sock.setsockopt(tp.SOL_PACKET, tp.PACKET_IGNORE_OUTGOING, 1);
        } catch {
          /* kernels before 4.20: the process drops them */
        }
      }
      const prog = typeof opts.filter === 'string' || opts.filter === undefined ? compileFilter(opts.filter ?? '', linktype, this.snaplen) : opts.filter;
      const kprog = kernelProgram(prog, cooked);
      this.kernelFilter = kprog !== null;
      this.userFilter = kprog === null ? filterFunction(prog) : null;
      const attached = kprog ?? [bpf.stmt(bpf.RET | bpf.K, cooked ? this.snaplen - SLL2_LEN : this.snaplen)];
      sock.setsockopt(C.SOL_SOCKET, C.SO_ATTACH_FILTER, bpf.encode(attached));
      this.drain();
      this.readStats();
      this.received = this.dropped = 0;
    } catch (e) {
      if (this.ring) native.munmap(this.ring.buf);
      sock.close();
      throw e;
    }
    sock.onReadable(() => this.onReadable());
  }

  /** Cumulative counters (each PACKET_STATISTICS read resets the kernel's, so they are summed here). */
  stats(): LiveStats {
    if (!this.closed) this.readStats();
    return { received: this.received, dropped: this.dropped, captured: this.captured };
  }

  /** The mapped ring's geometry; null on the recvmsg path. */
  ringGeometry(): { blocks: number; blockSize: number } | null {
    return this.ring ? { blocks: this.ring.blockNr, blockSize: this.ring.blockSize } : null;
  }

  /** Packets read so far by the kernel into the ring but not yet delivered (for drop accounting). */
  pending(): number {
    const r = this.ring;
    if (!r || this.closed) return 0;
    let n = 0;
    for (let i = 0; i < r.blockNr; i++) {
      const base = (i * r.blockSize) >>> 2;
      if (Atomics.load(r.i32, base + (tp.BD.BLOCK_STATUS >>> 2)) & tp.TP_STATUS_USER) n += r.u32[base + (tp.BD.NUM_PKTS >>> 2)]!;
    }
    return n;
  }

  /**
   * Hand every packet to `sink` as bytes instead of emitting 'packet' (and
   * instead of iteration): from the ring, without an object per packet.
   */
  onFrames(sink: FrameSink): void {
    this.sink = sink;
  }

  /** Whether the capture keeps the process alive (default true); a recorder riding on a command's own sockets says false. */
  ref(on: boolean): void {
    this.sock.ref(on);
  }

  /**
   * Deliver, now, every packet the socket holds (recvmsg), or that the
   * kernel has handed over in ring blocks: what a recorder reads before it
   * closes (--pcap), so the last packets of a run are not left behind.
   */
  flush(): void {
    if (this.closed) return;
    const paused = this.paused;
    this.paused = false;
    try {
      if (this.ring) this.readRing();
      else this.readBatch(Number.MAX_SAFE_INTEGER);
    } finally {
      this.paused = paused;
    }
  }

  /**
   * Stop gracefully: wait for the kernel to hand over the ring block it is
   * filling (at most the block timeout), deliver everything queued, then
   * close. What close() alone would leave unread in the kernel is captured.
   */
  async stop(): Promise<LiveStats> {
    if (this.closed) return this.close();
    if (this.ring) await new Promise((r) => setTimeout(r, this.retireMs + 10));
    if (!this.closed) {
      this.paused = false;
      try {
        if (this.ring) this.readRing();
        else
          for (let i = 0; i < 64 && !this.closed && this.readBatch(256); i++) {
            /* until the queue is empty (or 16k packets) */
          }
      } catch (e) {
        this.emit('error', e as Error);
      }
    }
    return this.close();
  }

  /** Stop, unmap and close at once (packets the kernel still holds are left unread); returns the final counters. */
  close(): LiveStats {
    if (this.closed) return { received: this.received, dropped: this.dropped, captured: this.captured };
    const s = this.stats();
    this.closed = true;
    this.sock.close();
    if (this.ring) native.munmap(this.ring.buf);
    this.ring = null;
    this.emit('close', s);
    this.finishIterator();
    return s;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  [Symbol.asyncIterator](): AsyncIterator<LivePacket> {
    this.iterating = true;
    return {
      next: () => {
        const p = this.queue.shift();
        if (p) {
          this.resumeIfDrained();
          return Promise.resolve({ value: p, done: false });
        }
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private readStats(): void {
    const b = this.sock.getsockopt(tp.SOL_PACKET, tp.PACKET_STATISTICS, 12);
    const s = tp.decodeStats(b);
    this.received += s.packets;
    this.dropped += s.drops;
  }

  /** Read and discard whatever was queued before the real filter went on. */
  private drain(): void {
    if (this.ring) {
      for (let i = 0; i < this.ring.blockNr; i++) this.releaseBlock(i);
      return;
    }
    const b = Buffer.allocUnsafe(64);
    while (this.sock.recvFast(b, 0) >= 0) {
      /* discard */
    }
  }

  private onReadable(): void {
    if (this.closed || this.paused) return;
    try {
      if (this.ring) this.readRing();
      else this.readBatch(256);
    } catch (e) {
      this.emit('error', e as Error);
    }
  }

  private deliver(p: LivePacket): void {
    if (p.direction === 'out' && (this.direction === 'in' || p.ifindex === this.loIfindex)) return;
    if (p.direction === 'in' && this.direction === 'out') return;
    if (this.userFilter) {
      const keep = this.userFilter(p.data, p.len);
      if (keep === 0) return;
      if (keep < p.caplen) {
        p.data = p.data.subarray(0, keep);
        p.caplen = keep;
      }
    }
    this.captured++;
    if (this.sink) return this.sink(p.data, 0, p.caplen, p.len, p.sec, p.nsec, null);
    this.emit('packet', p);
    if (this.iterating) {
      if (this.transient) p.data = Buffer.from(p.data);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w({ value: p, done: false });
      } else {
        this.queue.push(p);
        // a consumer slower than the wire: let the kernel count the drops
        if (this.queue.length >= 8192) this.paused = true;
      }
    }
  }

  private resumeIfDrained(): void {
    if (this.paused && this.queue.length < 1024) {
      this.paused = false;
      setImmediate(() => this.onReadable());
    }
  }

  private finishIterator(): void {
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined, done: true });
    }
  }

  // ---- recvmsg batches ----

  /** Up to max packets; false once the socket has nothing more queued. */
  private readBatch(max: number): boolean {
    const room = this.snaplen + 4;
    if (!this.recvBuf) this.recvBuf = Buffer.allocUnsafe(room);
    // packets straight to the sink when the kernel ran the whole filter: no object per packet
    const sink = this.userFilter ? null : this.sink;
    for (let i = 0; i < max && !this.closed && !this.paused; i++) {
      const n = this.sock.recvFast(this.recvBuf, C.MSG_TRUNC);
      if (n < 0) return false;
      const sa = native.last.rawAddress();
      if (sa.length < tp.SLL.ADDR || sa.readUInt16LE(0) !== C.AF_PACKET) continue;
      // ns since timeBase (a double, exact), so no bigint is made per packet
      let rel = native.last.timestampRelNs();
      if (Number.isNaN(rel)) rel = Number(native.clock(0) - timeBase);
      const t = BASE_NSEC + rel;
      const carry = Math.floor(t / 1e9);
      const sec = BASE_SEC + carry,
        nsec = t - carry * 1e9;
      const auxLen = native.last.auxLen();
      const status = native.last.auxStatus();
      const tagged = auxLen >= 0 && ((status & tp.TP_STATUS_VLAN_VALID) !== 0 || native.last.auxVlanTci() !== 0);
      const got = Math.min(n, this.snaplen - (this.cooked ? SLL2_LEN : 0));
      const wire = auxLen >= 0 ? auxLen : n;
      const ifindex = sa.readInt32LE(tp.SLL.IFINDEX),
        pkttype = sa[tp.SLL.PKTTYPE]!;
      if (sink) {
        if (this.wanted(pkttype, ifindex)) {
          this.captured++;
          if (this.cooked) {
            this.cookedHead(sa, 0, ifindex, pkttype);
            sink(this.recvBuf, 0, got, wire + SLL2_LEN, sec, nsec, this.sllHead);
          } else if (tagged && this.linktype === LINKTYPE_ETHERNET && got >= 12) {
            const v = this.vlanHead;
            v.set(this.recvBuf.subarray(0, 12), 0);
            v.writeUInt16BE(status & tp.TP_STATUS_VLAN_TPID_VALID ? native.last.auxVlanTpid() : 0x8100, 12);
            v.writeUInt16BE(native.last.auxVlanTci() & 0xffff, 14);
            sink(this.recvBuf, 12, Math.min(got + 4, this.snaplen) - 16, wire + 4, sec, nsec, v);
          } else sink(this.recvBuf, 0, got, wire, sec, nsec, null);
        }
        continue;
      }
      const vlan = tagged ? { tci: native.last.auxVlanTci(), tpid: status & tp.TP_STATUS_VLAN_TPID_VALID ? native.last.auxVlanTpid() : 0x8100 } : undefined;
      const halen = Math.min(sa[tp.SLL.HALEN]!, 8, sa.length - tp.SLL.ADDR);
      this.deliver(
        this.frame(
          this.recvBuf,
          0,
          got,
          wire,
          sec,
          nsec,
          sa.readInt32LE(tp.SLL.IFINDEX),
          sa[tp.SLL.PKTTYPE]!,
          sa.readUInt16BE(tp.SLL.PROTOCOL),
          sa.readUInt16LE(tp.SLL.HATYPE),
          sa.subarray(tp.SLL.ADDR, tp.SLL.ADDR + halen),
          vlan,
        ),
      );
    }
    return true;
  }

  /**
   * One packet as a capture file holds it: Ethernet with any stripped VLAN
   * tag put back after the addresses, or a cooked SLL2 header in front.
   */
  private frame(
    src: Uint8Array,
    off: number,
    got: number,
    wire: number,
    sec: number,
    nsec: number,
    ifindex: number,
    pkttype: number,
    protocol: number,
    hatype: number,
    hwaddr: Uint8Array,
    vlan: { tci: number; tpid: number } | undefined,
  ): LivePacket {
    let data: Buffer;
    let len = wire;
    if (this.cooked) {
      const keep = Math.min(got, this.snaplen - SLL2_LEN);
      data = Buffer.allocUnsafe(SLL2_LEN + keep);
      data.writeUInt16BE(protocol, 0);
      data.writeUInt16BE(0, 2);
      data.writeUInt32BE(ifindex >>> 0, 4);
      data.writeUInt16BE(hatype, 8);
      data[10] = pkttype;
      const halen = Math.min(hwaddr.length, 8);
      data[11] = halen;
      data.fill(0, 12, 20);
      data.set(hwaddr.subarray(0, halen), 12);
      data.set(src.subarray(off, off + keep), SLL2_LEN);
      len += SLL2_LEN;
    } else if (vlan && this.linktype === LINKTYPE_ETHERNET && got >= 12) {
      const keep = Math.min(got + 4, this.snaplen);
      data = Buffer.allocUnsafe(keep);
      data.set(src.subarray(off, off + 12), 0);
      data.writeUInt16BE(vlan.tpid, 12);
      data.writeUInt16BE(vlan.tci, 14);
      data.set(src.subarray(off + 12, off + keep - 4), 16);
      len += 4;
    } else if (this.transient) {
      data = Buffer.from(src.buffer, src.byteOffset + off, got);
    } else {
      data = Buffer.allocUnsafe(got);
      data.set(src.subarray(off, off + got), 0);
    }
    return new Packet(sec, nsec, ifindex, this.linktype, len, data, pkttype, protocol, vlan);
  }

  // ---- TPACKET_V3 ring ----

  private readRing(): void {
    const r = this.ring!;
    // at most one lap of the ring per wake-up; a full ring wakes us again
    for (let n = 0; n < r.blockNr && !this.closed && !this.paused; n++) {
      const base = r.next * r.blockSize;
      const st = Atomics.load(r.i32, (base + tp.BD.BLOCK_STATUS) >>> 2);
      if ((st & tp.TP_STATUS_USER) === 0) return;
      this.readBlock(r, base);
      if (this.closed) return;
      this.releaseBlock(r.next);
      r.next = (r.next + 1) % r.blockNr;
    }
  }

  private readBlock(r: Ring, base: number): void {
    const count = r.u32[(base + tp.BD.NUM_PKTS) >>> 2]!;
    let h = base + r.u32[(base + tp.BD.OFFSET_TO_FIRST_PKT) >>> 2]!;
    // packets straight to the sink when the kernel ran the whole filter: no object per packet
    const sink = this.userFilter ? null : this.sink;
    for (let i = 0; i < count; i++) {
      const w = h >>> 2;
      const next = r.u32[w + (tp.T3.NEXT_OFFSET >>> 2)]!;
      const sec = r.u32[w + (tp.T3.SEC >>> 2)]!,
        nsec = r.u32[w + (tp.T3.NSEC >>> 2)]!;
      const snap = r.u32[w + (tp.T3.SNAPLEN >>> 2)]!;
      const wire = r.u32[w + (tp.T3.LEN >>> 2)]!;
      const status = r.u32[w + (tp.T3.STATUS >>> 2)]!;
      const mac = r.u16[(h + tp.T3.MAC) >>> 1]!;
      const tci = r.u32[w + (tp.T3.VLAN_TCI >>> 2)]!;
      const sll = h + tp.T3_SLL;
      const ifindex = r.u32[(sll + tp.SLL.IFINDEX) >>> 2]!;
      const pkttype = r.u8[sll + tp.SLL.PKTTYPE]!;
      const tagged = (status & tp.TP_STATUS_VLAN_VALID) !== 0 || tci !== 0;
      if (sink) {
        if (this.wanted(pkttype, ifindex)) {
          this.captured++;
          if (this.cooked) {
            this.cookedHead(r.u8, sll, ifindex, pkttype);
            sink(r.u8, h + mac, Math.min(snap, this.snaplen - SLL2_LEN), wire + SLL2_LEN, sec, nsec, this.sllHead);
          } else if (tagged && this.linktype === LINKTYPE_ETHERNET && snap >= 12) {
            const v = this.vlanHead;
            v.set(r.u8.subarray(h + mac, h + mac + 12), 0);
            v.writeUInt16BE(status & tp.TP_STATUS_VLAN_TPID_VALID ? r.u16[(h + tp.T3.VLAN_TPID) >>> 1]! : 0x8100, 12);
            v.writeUInt16BE(tci & 0xffff, 14);
            sink(r.u8, h + mac + 12, Math.min(snap + 4, this.snaplen) - 16, wire + 4, sec, nsec, v);
          } else sink(r.u8, h + mac, snap, wire, sec, nsec, null);
        }
        if (this.closed) return;
        h += next;
        continue;
      }
      const tpid = r.u16[(h + tp.T3.VLAN_TPID) >>> 1]!;
      const protocol = (r.u8[sll + tp.SLL.PROTOCOL]! << 8) | r.u8[sll + tp.SLL.PROTOCOL + 1]!;
      const hatype = r.u16[(sll + tp.SLL.HATYPE) >>> 1]!;
      const halen = Math.min(r.u8[sll + tp.SLL.HALEN]!, 8);
      const vlan = tagged ? { tci: tci & 0xffff, tpid: status & tp.TP_STATUS_VLAN_TPID_VALID ? tpid : 0x8100 } : undefined;
      const hw = r.u8.subarray(sll + tp.SLL.ADDR, sll + tp.SLL.ADDR + halen);
      this.deliver(this.frame(r.u8, h + mac, snap, wire, sec, nsec, ifindex, pkttype, protocol, hatype, hw, vlan));
      if (this.closed) return;
      h += next;
    }
  }

  /** Whether a packet of this type on this interface passes -Q (and is not loopback's second copy). */
  private wanted(pkttype: number, ifindex: number): boolean {
    if (pkttype === tp.PACKET_OUTGOING) return this.direction !== 'in' && ifindex !== this.loIfindex;
    return this.direction !== 'out';
  }

  /** The SLL2 header of a ring frame, into the scratch prefix. */
  private cookedHead(u8: Uint8Array, sll: number, ifindex: number, pkttype: number): void {
    const d = this.sllHead;
    d[0] = u8[sll + tp.SLL.PROTOCOL]!;
    d[1] = u8[sll + tp.SLL.PROTOCOL + 1]!;
    d[2] = d[3] = 0;
    d.writeUInt32BE(ifindex >>> 0, 4);
    d.writeUInt16BE(u8[sll + tp.SLL.HATYPE]! | (u8[sll + tp.SLL.HATYPE + 1]! << 8), 8);
    d[10] = pkttype;
    const halen = Math.min(u8[sll + tp.SLL.HALEN]!, 8);
    d[11] = halen;
    d.fill(0, 12, 20);
    for (let i = 0; i < halen; i++) d[12 + i] = u8[sll + tp.SLL.ADDR + i]!;
  }

  private releaseBlock(i: number): void {
    const r = this.ring!;
    Atomics.store(r.i32, (i * r.blockSize + tp.BD.BLOCK_STATUS) >>> 2, tp.TP_STATUS_KERNEL);
  }
}

function open(cooked: boolean): Socket {
  try {
    const s = Socket.open(C.AF_PACKET, cooked ? C.SOCK_DGRAM : C.SOCK_RAW, 0);
    try {
      s.setsockopt(C.SOL_SOCKET, C.SO_ATTACH_FILTER, REJECT_ALL);
      s.setsockopt(tp.SOL_PACKET, tp.PACKET_AUXDATA, 1);
      s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  } catch (e) {
    if (isSystemError(e) && (e.code === 'EPERM' || e.code === 'EACCES')) throw permissionFix();
    throw e;
  }
}

function bindTo(s: Socket, ifindex: number): void {
  // ETH_P_ALL in network order, as packet(7) wants sll_protocol
  s.bind({ family: C.AF_PACKET, protocol: tp.ETH_P_ALL, ifindex });
}

function setRcvbuf(s: Socket, bytes: number): void {
  try {
    s.setsockopt(C.SOL_SOCKET, C.SO_RCVBUFFORCE, bytes);
  } catch {
    s.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, bytes);
  }
}

/** PACKET_VERSION TPACKET_V3, PACKET_RX_RING and the mapping; null when the kernel refuses (and `must` is false). */
function setupRing(s: Socket, opts: LiveOptions, snaplen: number, must: boolean): Ring | null {
  const page = 4096;
  const total = Math.max(opts.bufferBytes ?? 2 << 20, 64 * 1024);
  // A block holds at least one whole frame: snaplen bytes, but no more than the largest packet
  // an interface with offloads hands up (64 KiB), as libpcap sizes them; a bigger packet (BIG TCP)
  // is cut to the block with its wire length kept. Small blocks: many of them, handed over often.
  let blockSize = 1 << 16;
  while (blockSize < tp.TPACKET3_HDRLEN + Math.min(snaplen, MAX_FRAME) + 64 + 48) blockSize <<= 1;
  blockSize = Math.ceil(blockSize / page) * page;
  const blockNr = Math.max(2, Math.floor(total / blockSize));
  const frameSize = 2048;
  try {
    s.setsockopt(tp.SOL_PACKET, tp.PACKET_VERSION, tp.TPACKET_V3);
    s.setsockopt(tp.SOL_PACKET, tp.PACKET_RX_RING, tp.tpacketReq3({ blockSize, blockNr, frameSize, retireBlkTov: opts.retireMs ?? RETIRE_MS }));
  } catch (e) {
    if (must) throw e;
    return null;
  }
  const buf = native.mmap(s.fd, blockSize * blockNr);
  return {
    buf,
    u8: new Uint8Array(buf),
    u16: new Uint16Array(buf),
    u32: new Uint32Array(buf),
    i32: new Int32Array(buf),
    blockSize,
    blockNr,
    next: 0,
  };
}

function safeName(ifindex: number): string {
  try {
    return native.if_indextoname(ifindex);
  } catch {
    throw new UsageError(`interface index ${ifindex}: No such device exists`);
  }
}

function loopbackIndex(): number {
  try {
    return native.if_nametoindex('lo');
  } catch {
    return -1;
  }
}
