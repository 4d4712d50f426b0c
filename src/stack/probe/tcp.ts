// The TCP SYN probe method of traceroute 2.x (-T; the "half-open" technique
// of port scanners). SYNs built here (RFC 9293, options as the kernel's own
// sysctls would have them) go out on a raw IPPROTO_TCP socket connected to
// the target; the same socket hears the SYN-ACK or RST that means "reached"
// and, through IP_RECVERR, the ICMP errors routers send about the probes.
// Each probe's source port is held by a bound, never connected nor listening
// stream socket, so the kernel answers a SYN-ACK with a RST by itself: no
// connection is left behind at the target.
import { PermissionError } from '../errors.js';
import { sysctlNumber } from '../sysctl.js';
import * as C from '../constants.js';
import { type RecvResult, isSystemError } from '../native/index.js';
import { drainErrorQueue, errorQueueEvent } from './recverr.js';
import { relTime } from './index.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import { type SendResult, Socket, inetAddress } from '../socket.js';
import type { Family, Probe, ProbeEvent, ProbeMethod, SentProbe } from './index.js';
import { type TuneOptions, setTtl, tuneSocket } from './tune.js';
import { UsageError } from '../errors.js';
import { type MethodDescriptor, type MethodOption, ipHeaderLen } from './descriptor.js';

export const DEF_TCP_PORT = 80;

export interface TcpProbeOptions extends TuneOptions {
  target: string;
  family: Family;
  /** destination port (default 80) */
  port?: number;
  /** the SYN's maxseg option (-O mss=NUM); default the path MTU's */
  mss?: number;
}

/** No raw socket could be opened; `message` says what to change. */
export class TcpPermissionError extends PermissionError {
  override readonly name = 'TcpPermissionError';
  readonly code = 'EPERM';
  constructor() {
    super(
      'the TCP method needs a raw socket, which needs CAP_NET_RAW',
      [
        'use the default (UDP) method, which needs no privilege',
        'run as root',
        `sudo setcap cap_net_raw+ep "${process.execPath}" (which gives raw sockets to every Node program)`,
      ],
      'no permission',
    );
  }
}

interface Pending {
  holder: Socket;
  port: number;
  isn: number;
}

function sysctlOn(name: string): boolean {
  return sysctlNumber(`net.ipv4.tcp_${name}`) === 1;
}

/** The SYN's options as the kernel's settings would have them (traceroute -T's default "sysctl" mode). */
export function synOptions(mss: number): tcp.TcpOption[] {
  const opts: tcp.TcpOption[] = [{ kind: 'mss', value: mss }];
  const sack = sysctlOn('sack');
  if (sysctlOn('timestamps')) {
    opts.push(sack ? { kind: 'sackPermitted' } : { kind: 'nop' }, ...(sack ? [] : [{ kind: 'nop' } as const]));
    opts.push({ kind: 'timestamps', value: (Math.random() * 0x100000000) >>> 0, echo: 0 });
  } else if (sack) {
    opts.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sackPermitted' });
  }
  if (sysctlOn('window_scaling')) opts.push({ kind: 'nop' }, { kind: 'windowScale', shift: 2 });
  return opts;
}

export class TcpProbe implements ProbeMethod {
  readonly name = 'tcp';
  readonly family: Family;
  readonly target: string;
  readonly port: number;
  readonly mechanism = 'raw socket';
  readonly unprivileged = false;
  readonly headerBytes: number;
  /** bytes of the SYN (TCP header with options): the probe's whole payload */
  readonly segmentBytes: number;
  private readonly raw: Socket;
  private readonly source: string;
  private readonly options: tcp.TcpOption[];
  private readonly window: number;
  private readonly tune: TuneOptions;
  private readonly pending = new Map<number, Pending>();
  private readonly byPort = new Map<number, number>();
  private readonly buf = Buffer.allocUnsafe(65536);
  private ttl = -1;
  private last: SentProbe | undefined;

  constructor(o: TcpProbeOptions) {
    this.family = o.family;
    this.target = o.target;
    this.port = o.port ?? DEF_TCP_PORT;
    this.tune = { source: o.source, device: o.device };
    const v4 = o.family === 4;
    try {
      this.raw = Socket.open(v4 ? C.AF_INET : C.AF_INET6, C.SOCK_RAW, C.IPPROTO_TCP);
    } catch (e) {
      if (isSystemError(e) && (e.code === 'EPERM' || e.code === 'EACCES')) throw new TcpPermissionError();
      throw e;
    }
    try {
      tuneSocket(this.raw, o.family, o);
      // connected: only the target's segments, and ICMP errors about what we sent it
      this.raw.connectStart(inetAddress(o.target, 0));
      const local = this.raw.localAddress();
      this.source = local && 'address' in local ? local.address : '';
      let mtu = 576;
      try {
        mtu = Math.max(576, this.raw.getInt(v4 ? C.IPPROTO_IP : C.IPPROTO_IPV6, v4 ? C.IP_MTU : C.IPV6_MTU));
      } catch {
        /* keep 576 */
      }
      const mss = mtu - (v4 ? 20 : 40) - tcp.MIN_HEADER;
      this.window = Math.min(0xffff, 4 * mss);
      this.options = synOptions(o.mss ?? mss);
    } catch (e) {
      this.raw.close();
      throw e;
    }
    this.segmentBytes = tcp.encodingLength({ srcPort: 0, dstPort: 0, options: this.options });
    this.headerBytes = ipHeaderLen(o.family);
  }

  send(p: Probe): SendResult {
    // hold the source port for as long as the probe is out
    const holder = Socket.open(this.family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_STREAM);
    let port: number;
    try {
      holder.bind(inetAddress(this.tune.source ?? (this.family === 4 ? '0.0.0.0' : '::'), 0));
      port = (holder.localAddress() as { port: number }).port;
    } catch (e) {
      holder.close();
      throw e;
    }
    const isn = (Math.random() * 0x100000000) >>> 0;
    const seg = tcp.encode({ srcPort: port, dstPort: this.port, seq: isn, flags: { syn: true }, window: this.window, options: this.options }, undefined, {
      src: this.source,
      dst: this.target,
    });
    if (p.ttl !== undefined && p.ttl !== this.ttl) {
      setTtl(this.raw, this.family, p.ttl);
      this.ttl = p.ttl;
    }
    this.release(p.seq);
    this.pending.set(p.seq, { holder, port, isn });
    this.byPort.set(port, p.seq);
    this.last = { protocol: C.IPPROTO_TCP, transport: seg, source: this.source, ttl: p.ttl };
    return this.raw.send(seg);
  }

  /** The last SYN, as built here (the raw socket sends it as it is). */
  get lastSent(): SentProbe | undefined {
    return this.last;
  }

  start(onEvent: (e: ProbeEvent) => void): void {
    this.raw.onReadable((ready) => {
      if (ready.error) drainErrorQueue(this.raw, this.buf, 16, (r) => this.onError(r, onEvent));
      for (let i = 0; i < 16 && !this.raw.isClosed; i++) {
        const r = this.raw.recv(this.buf);
        if (!r) break;
        this.onSegment(r, onEvent);
      }
    });
  }

  private onSegment(r: RecvResult, onEvent: (e: ProbeEvent) => void): void {
    let data: Buffer = this.buf.subarray(0, Math.min(r.bytes, this.buf.length));
    let ttl = r.control.hopLimit;
    if (this.family === 4) {
      // a raw IPv4 socket delivers the IP header too
      const ip = ipv4.decode(data);
      if (!ip.ok) return;
      ttl = ip.value.header.ttl;
      data = ip.value.payload;
    }
    const d = tcp.decode(data);
    if (!d.ok) return;
    const seg = d.value;
    if (seg.srcPort !== this.port) return;
    const seq = this.byPort.get(seg.dstPort);
    if (seq === undefined) return;
    const p = this.pending.get(seq)!;
    // a SYN-ACK or a RST answering our SYN acknowledges its sequence number
    if (!seg.flags.ack || seg.ack !== (p.isn + 1) >>> 0) return;
    if (!(seg.flags.rst || seg.flags.syn)) return;
    const from = r.address && 'address' in r.address ? r.address.address : this.target;
    onEvent({
      type: 'reply',
      seq,
      from,
      ttl,
      rxRelNs: relTime(r.control.timestampNs),
      bytes: data.length,
      checksumOk: true,
      flags: tcp.flagString(seg.flags),
    });
  }

  // the error queue returns the quoted segment from its TCP header on
  private onError(r: RecvResult, onEvent: (e: ProbeEvent) => void): void {
    const q = this.buf.subarray(0, Math.min(r.bytes, this.buf.length));
    let seq: number | undefined;
    if (q.length >= 8 && q.readUInt16BE(2) === this.port) {
      const s = this.byPort.get(q.readUInt16BE(0));
      if (s !== undefined && q.readUInt32BE(4) === this.pending.get(s)!.isn) seq = s;
    }
    const e = errorQueueEvent(this.family, seq, r);
    if (e) onEvent(e);
  }

  release(seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    p.holder.close();
    this.pending.delete(seq);
    this.byPort.delete(p.port);
  }

  ref(on: boolean): void {
    this.raw.ref(on);
  }

  close(): void {
    for (const p of this.pending.values()) p.holder.close();
    this.pending.clear();
    this.byPort.clear();
    this.raw.close();
  }
}

const TCP_OPTIONS: readonly MethodOption[] = [
  { name: 'sysctl', description: "the SYN's options as the tcp_sack, tcp_timestamps and tcp_window_scaling sysctls say (the default)" },
  { name: 'mss=NUM', description: 'NUM for the maxseg option' },
  { name: 'info', description: 'print the TCP flags of final replies (<syn,ack>: something listens on the port; <rst,ack>: nothing does)' },
];

/** The -O words of the TCP method (mod-tcp.c's tcp_options, the ones sockit has). */
function tcpOptions(words: readonly string[] = []): { mss?: number; info: boolean } {
  const r: { mss?: number; info: boolean } = { info: false };
  for (const w of words) {
    const mss = /^mss=(\d+)$/.exec(w);
    if (mss && Number(mss[1]) <= 0xffff) r.mss = Number(mss[1]);
    else if (w === 'info') r.info = true;
    else if (w !== 'sysctl') throw new UsageError(`the tcp method has no option \`${w}' (it has ${TCP_OPTIONS.map((o) => o.name).join(', ')})`);
  }
  return r;
}

/** traceroute -T (mod-tcp.c): half-open SYNs on a raw socket; the SYN is the whole probe, whatever packetlen says. */
export const tcpMethod: MethodDescriptor = {
  name: 'tcp',
  flag: 'T',
  description: 'TCP SYNs to one port (default 80), answered by a SYN-ACK or RST at the destination',
  port: { meaning: 'the destination port of every probe', default: DEF_TCP_PORT },
  options: TCP_OPTIONS,
  unprivileged: 'no',
  open(o) {
    const { mss, info } = tcpOptions(o.methodOptions);
    const method = new TcpProbe({ ...o, mss });
    const seg = method.segmentBytes;
    return { method, layout: { headerLen: ipHeaderLen(o.family), dataLen: seg, methodBytes: seg, sized: false }, firstSeq: 1, showFlags: info };
  },
};
