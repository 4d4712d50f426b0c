// --pcap without CAP_NET_RAW for stream and datagram sockets (connect,
// sock): a TCP socket shows neither its handshake nor its segments, only
// what connect(2) returned and the bytes read and written; a UDP socket
// shows each datagram and its peer. What can be said is written as packets
// rebuilt from that, each with a comment saying so (record.ts REBUILT):
// - connect's outcome as a handshake: SYN, then SYN-ACK and ACK (connected),
//   RST-ACK (refused), or nothing more (no answer, an unreachable);
// - the bytes as segments in order, sequence numbers counting from ISN 0,
//   one segment per read or write (at most 65495 bytes each);
// - a shutdown or close as our FIN, the peer's end of file as its FIN.
import type { Attempt } from '../connect.js';
import type { SockAddr } from '../native/index.js';
import { sourceAddressFor } from '../route.js';
import { portFlow } from './flowfilter.js';
import type { TcpFlags } from '../packet/tcp.js';
import { type IpEnds, tcpPacket, udpPacket } from './rebuild.js';
import { type FlowSpec, REBUILT, type Recording, defaultTtl, nowNs } from './record.js';

/** the most payload one rebuilt segment carries (an IPv4 packet of 65535 bytes) */
const MAX_SEGMENT = 65535 - 20 - 20;
const DEFAULT_WINDOW = 65535;

export interface End {
  address: string;
  port: number;
}

/**
 * An IPv4 or IPv6 socket address as address and port, as the wire has it:
 * an IPv4-mapped address (a v4 peer of an IPv6 socket) as the IPv4 one;
 * null for anything else.
 */
export function endOf(sa: SockAddr | null | undefined): End | null {
  if (!sa || !('port' in sa) || !('address' in sa)) return null;
  return { address: sa.address.split('%')[0]!.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, ''), port: sa.port };
}

const family = (e: End): 4 | 6 => (e.address.includes(':') ? 6 : 4);

/** One TCP connection's packets, rebuilt. Nothing is written unless the recording rebuilds. */
export class TcpRebuilder {
  /** next sequence number from us, and from the peer (ISN 0, the SYN counts one) */
  private seqOut = 1;
  private seqIn = 1;
  private finOut = false;
  private finIn = false;
  private synSent = false;

  private readonly ok: boolean;

  constructor(
    private readonly rec: Recording,
    private readonly local: End,
    private readonly remote: End,
    private readonly ttl: number,
  ) {
    // both ends of one family, or nothing can be rebuilt
    this.ok = family(local) === family(remote);
  }

  private ends(out: boolean): IpEnds {
    const [a, b] = out ? [this.local, this.remote] : [this.remote, this.local];
    return { family: family(a), src: a.address, dst: b.address, ttl: this.ttl };
  }

  private segment(out: boolean, ts: bigint, flags: TcpFlags, payload: Buffer, seq: number, ack: number, comment: string): void {
    const [s, d] = out ? [this.local, this.remote] : [this.remote, this.local];
    const packet = tcpPacket(this.ends(out), { srcPort: s.port, dstPort: d.port, seq, ack, flags, window: DEFAULT_WINDOW }, payload);
    this.rec.rebuilt(ts, packet, [comment]);
  }

  /**
   * connect(2) started at t0 and ended at t1 with `outcome` (an errno
   * code, or 'connected'); `active` false: the peer connected to us
   * (accept(2) returned at t1).
   */
  connect(t0: bigint, t1: bigint, outcome: 'connected' | string, active = true): void {
    this.syn(t0, active);
    this.answer(t1, outcome, active);
  }

  /**
   * The SYN alone, written as connect(2) is called: a file closed while the
   * attempt is in flight (a signal) holds it. answer() writes the rest.
   */
  syn(t0: bigint, active = true): void {
    if (!this.rec.rebuilding || !this.ok || this.synSent) return;
    this.synSent = true;
    this.segment(active, t0, { syn: true }, Buffer.alloc(0), 0, 0, REBUILT.handshake);
  }

  /** What the outcome of connect(2) at t1 shows of the handshake after the SYN. */
  answer(t1: bigint, outcome: 'connected' | string, active = true): void {
    if (!this.rec.rebuilding || !this.ok) return;
    const note = outcome === 'connected' ? REBUILT.handshake : `${REBUILT.handshake}; connect(2) failed with ${outcome}`;
    const none = Buffer.alloc(0);
    if (outcome === 'connected') {
      this.segment(!active, t1, { syn: true, ack: true }, none, 0, 1, note);
      this.segment(active, t1, { ack: true }, none, 1, 1, note);
    } else if (outcome === 'ECONNREFUSED') {
      this.segment(false, t1, { rst: true, ack: true }, none, 0, 1, note);
    }
  }

  /** Bytes written (out) or read (in), as segments in order. */
  data(out: boolean, bytes: Buffer, ts: bigint = nowNs()): void {
    if (!this.rec.rebuilding || !this.ok) return;
    for (let off = 0; off < bytes.length; off += MAX_SEGMENT) {
      const chunk = bytes.subarray(off, off + MAX_SEGMENT);
      const [seq, ack] = out ? [this.seqOut, this.seqIn] : [this.seqIn, this.seqOut];
      this.segment(out, ts, { psh: true, ack: true }, chunk, seq >>> 0, ack >>> 0, REBUILT.tcp);
      if (out) this.seqOut += chunk.length;
      else this.seqIn += chunk.length;
    }
  }

  /** Our shutdown(SHUT_WR) or close(2) (out), or the peer's end of file (in): a FIN, once each way. */
  fin(out: boolean, ts: bigint = nowNs()): void {
    if (!this.rec.rebuilding || !this.ok || (out ? this.finOut : this.finIn)) return;
    const [seq, ack] = out ? [this.seqOut, this.seqIn] : [this.seqIn, this.seqOut];
    this.segment(out, ts, { fin: true, ack: true }, Buffer.alloc(0), seq >>> 0, ack >>> 0, REBUILT.tcp);
    if (out) {
      this.finOut = true;
      this.seqOut++;
    } else {
      this.finIn = true;
      this.seqIn++;
    }
  }
}

/** A UDP socket's datagrams, rebuilt: ours to a peer, or a peer's to us. */
export function rebuildDatagram(rec: Recording, out: boolean, local: End, peer: End, payload: Buffer, ttl: number, ts: bigint = nowNs()): void {
  if (!rec.rebuilding || family(local) !== family(peer)) return;
  const [a, b] = out ? [local, peer] : [peer, local];
  rec.rebuilt(ts, udpPacket({ family: family(a), src: a.address, dst: b.address, ttl }, a.port, b.port, payload), [REBUILT.ip]);
}

/** Our address toward `remote` (the kernel's choice unless given), '' when there is no route. */
function sourceToward(remote: string, given?: string): string {
  if (given) return given.split('%')[0]!;
  try {
    return sourceAddressFor(remote);
  } catch {
    return '';
  }
}

/**
 * The flows of a TCP or UDP client toward these peers, one each (each on
 * its route's interface): the peer with its port, our ports as they become
 * known (one FlowSpec.ports set for all), and the ICMP errors about what we
 * sent.
 */
export function streamFlows(proto: 'tcp' | 'udp', remotes: readonly End[], source?: string): FlowSpec[] {
  const ports = new Set<number>();
  return remotes.map((r) => {
    const local = sourceToward(r.address, source);
    return { family: family(r), local, remote: r.address, filter: portFlow(family(r), proto, local || r.address, r.address, r.port), ports };
  });
}

/** Where a connect attempt began: our port (bound before connect), the time, and its SYN once written. */
export interface Bound {
  port: number;
  t0: bigint;
  syn?: TcpRebuilder | null;
}

/**
 * An attempt's SYN, rebuilt as connect(2) is called (local: the bound
 * socket's address, remote: the peer): the rebuilder for rebuildAttempt,
 * or null when nothing is rebuilt.
 */
export function rebuildSyn(rec: Recording, local: SockAddr, remote: SockAddr, t0: bigint, source?: string): TcpRebuilder | null {
  const r = endOf(remote),
    l = endOf(local);
  if (!rec.rebuilding || !r || !l) return null;
  const address = sourceToward(r.address, source);
  if (!address) return null;
  const b = new TcpRebuilder(rec, { address, port: l.port }, r, defaultTtl(family(r)));
  b.syn(t0);
  return b;
}

/**
 * connect's attempt, rebuilt: its handshake (or what of it the outcome
 * shows), after the SYN rebuildSyn wrote when there is one. Returns the
 * connection's rebuilder (for the FIN of its close), or null when nothing
 * is rebuilt.
 */
export function rebuildAttempt(rec: Recording, a: Attempt, bound: Bound, source?: string): TcpRebuilder | null {
  const remote = endOf(a.remote);
  if (!rec.rebuilding || !remote) return null;
  const outcome = a.ok ? 'connected' : a.error.code;
  if (bound.syn) {
    bound.syn.answer(bound.t0 + a.elapsedNs, outcome);
    return bound.syn;
  }
  const local = (a.ok ? endOf(a.connected.local) : null) ?? { address: sourceToward(remote.address, source), port: bound.port };
  if (!local.address) return null;
  const b = new TcpRebuilder(rec, local, remote, defaultTtl(family(remote)));
  b.connect(bound.t0, bound.t0 + a.elapsedNs, outcome);
  return b;
}
