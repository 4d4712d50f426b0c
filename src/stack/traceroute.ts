// The traceroute engine (UNP 28.6, with traceroute 2.x's parallel probing):
// probes go out through a ProbeMethod with increasing TTLs, up to
// `simProbes` unfinished at once; each waits as traceroute(8)'s
// -w MAX,HERE,NEAR rules say; results come out as typed events in hop
// order, as soon as each can be told; probing stops after the hop where
// the destination (or an unreachable error) answered. Presentation is the
// command's business.
import { type Clock, type TimerHandle, type Timers, systemClock, systemTimers } from './clock.js';
import { fromRelNs } from './native/index.js';
import { type SystemError, isSystemError, systemError } from './errors.js';
import { annotate } from './packet/icmp-names.js';
import type { ProbeEvent, ProbeMethod } from './probe/index.js';

export const DEF_HOPS = 30;
export const MAX_HOPS = 255;
export const DEF_NUM_PROBES = 3;
export const MAX_PROBES = 10;
export const DEF_SIM_PROBES = 16;
export const DEF_WAIT = { max: 5, here: 3, near: 10 };
/** traceroute's DEF_WAIT_PREC: 1 ms added to a round trip before scaling it */
const WAIT_PREC_NS = 1_000_000n;
export { DEF_DATA_LEN } from './probe/descriptor.js';
/** --mtu starts from this packet length */
export const MTU_PACKET_LEN = 65000;

export interface TracerouteOptions {
  firstHop: number;
  maxHops: number;
  /** probes per hop (-q) */
  nqueries: number;
  /** probes unfinished at once (-N) */
  simProbes: number;
  /** -w MAX,HERE,NEAR: seconds, and factors (0: rule off) */
  wait: { max: number; here: number; near: number };
  /** -z: seconds between sends */
  sendWait: number;
  /** bytes of IP + transport header the method puts before dataLen */
  headerLen: number;
  /** bytes after them (the packet is headerLen + dataLen) */
  dataLen: number;
  /** bytes at the start of dataLen the method writes itself (the ICMP header) */
  methodBytes: number;
  /** --mtu: shrink the probes to each "frag needed" MTU, noting F=NUM */
  mtuDiscovery: boolean;
  /** sequence number of the first probe (ICMP -p) */
  firstSeq: number;
}

/** What one probe came to, as printed in a hop line. */
export interface ProbeResult {
  hop: number;
  /** 0 .. nqueries-1 within the hop */
  index: number;
  /** who answered; null for no answer ('*') */
  from: string | null;
  /** round trip in ms; null without an answer */
  rttMs: number | null;
  /** TTL / hop limit the answer arrived with */
  ttl: number | null;
  /** traceroute's note: '!H', '!N', '!F-1400', 'F=1400' ... ('' for none) */
  annotation: string;
  /** this answer ends the trace (destination reached, or unreachable) */
  final: boolean;
  /** ICMP type and code of an error answer */
  icmp: { type: number; code: number } | null;
  /** TCP flags of a TCP answer */
  flags: string | null;
  /** the local stack refused the probe (IP_RECVERR origin local): EMSGSIZE and the path MTU */
  local: { code: string; errno: number; mtu: number } | null;
}

export type TracerouteEvent =
  | { type: 'probe'; probe: ProbeResult }
  | { type: 'hop'; hop: number; probes: ProbeResult[]; final: boolean }
  | { type: 'error'; error: SystemError | Error }
  | {
      type: 'done';
      /** the last hop reported */
      hops: number;
      /** the trace ended on a final answer (the destination, or an unreachable error) */
      final: boolean;
      /** the destination itself answered at the last hop */
      reached: boolean;
      probesSent: number;
      elapsedMs: number;
    };

interface ProbeState {
  /** CLOCK_MONOTONIC ns of the send; 0n: not sent */
  sendMono: bigint;
  /** CLOCK_REALTIME ns of the send (compared with kernel receive stamps) */
  sendReal: bigint;
  recvReal: bigint;
  done: boolean;
  final: boolean;
  from: string | null;
  recvTtl: number;
  err: string;
  seq: number;
  icmp: { type: number; code: number } | null;
  flags: string | null;
  local: { code: string; errno: number; mtu: number } | null;
}

function blank(): ProbeState {
  return {
    sendMono: 0n,
    sendReal: 0n,
    recvReal: 0n,
    done: false,
    final: false,
    from: null,
    recvTtl: 0,
    err: '',
    seq: -1,
    icmp: null,
    flags: null,
    local: null,
  };
}

/** traceroute's guess of the hops back from a reply's TTL (initial 64, 128 or 255). */
export function ttl2hops(ttl: number): number {
  return (ttl <= 64 ? 65 : ttl <= 128 ? 129 : 256) - ttl;
}

export { annotate } from './packet/icmp-names.js';

/**
 * One trace. Call start(); events arrive through onEvent, in hop order,
 * ending with 'done' (or 'error' then 'done').
 */
export class TracerouteSession {
  private readonly o: TracerouteOptions;
  private readonly method: ProbeMethod;
  private readonly onEvent: (e: TracerouteEvent) => void;
  private readonly probes: ProbeState[];
  private readonly bySeq = new Map<number, number>();
  private start0 = 0;
  private end: number;
  private dataLen: number;
  private payload: Buffer;
  private nextSeq: number;
  private lastSend = 0n;
  private sent = 0;
  private timer: TimerHandle | null = null;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private scheduled = false;
  private finished = false;
  private t0 = 0n;
  private hop: ProbeResult[] = [];

  constructor(method: ProbeMethod, opts: TracerouteOptions, onEvent: (e: TracerouteEvent) => void, clock: Clock = systemClock, timers: Timers = systemTimers) {
    this.method = method;
    this.clock = clock;
    this.timers = timers;
    this.o = opts;
    this.onEvent = onEvent;
    this.probes = Array.from({ length: opts.maxHops * opts.nqueries }, blank);
    this.start0 = (opts.firstHop - 1) * opts.nqueries;
    this.end = this.probes.length;
    this.dataLen = opts.dataLen;
    this.payload = this.fill();
    this.nextSeq = opts.firstSeq;
  }

  /** traceroute's probe data: 0x40 + (i & 0x3f) at byte i after the transport header */
  private fill(): Buffer {
    const n = Math.max(0, this.dataLen - this.o.methodBytes);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = 0x40 + ((i + this.o.methodBytes) & 0x3f);
    return b;
  }

  /** The packet length now (it shrinks under --mtu). */
  get packetLen(): number {
    return this.o.headerLen + this.dataLen;
  }

  start(): void {
    this.t0 = this.clock.monoNs();
    this.method.start((e) => this.onProbeEvent(e));
    this.step();
  }

  /** Stop now (SIGINT): what was printed stays, the rest is not reported. */
  stop(): void {
    this.finish(false);
  }

  // ---- the loop (traceroute's do_it) ----

  private kick(): void {
    if (this.scheduled || this.finished) return;
    this.scheduled = true;
    this.timers.setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  private step(): void {
    if (this.finished) return;
    if (this.timer) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    const nq = this.o.nqueries;
    const now = this.clock.monoNs();
    let next = 0n;
    let num = 0;
    for (let n = this.start0; n < this.end; n++) {
      const pb = this.probes[n];
      // only the first probe not yet printed can expire
      if (n === this.start0 && !pb.done && pb.sendMono) {
        const expire = pb.sendMono + this.timeoutNs(n);
        if (expire > now) next = expire;
        else {
          this.done(n);
          this.checkExpired(n);
        }
      }
      if (pb.done) {
        if (n === this.start0) {
          this.report(n);
          this.start0++;
        }
        if (pb.final) this.end = (Math.floor(n / nq) + 1) * nq;
        continue;
      }
      if (!pb.sendMono) {
        const sendWaitNs = BigInt(Math.round(this.o.sendWait * 1e9));
        if (sendWaitNs && this.lastSend + sendWaitNs > now) {
          next = this.lastSend + sendWaitNs;
          break;
        }
        if (!this.send(n)) {
          if (this.finished) return;
          // the socket buffer is full: try again shortly
          if (!next) next = now + 10_000_000n;
          break;
        }
        this.lastSend = pb.sendMono;
      }
      if (!next) next = pb.sendMono + this.timeoutNs(n);
      if (++num >= this.o.simProbes) break;
    }
    if (this.start0 >= this.end) {
      this.finish(true);
      return;
    }
    if (next) {
      const ms = Math.max(0, Math.ceil(Number(next - this.clock.monoNs()) / 1e6));
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        this.step();
      }, ms);
    }
  }

  /** traceroute's get_timeout: HERE x a round trip from this hop, else NEAR x one from a later hop, at most MAX. */
  private timeoutNs(n: number): bigint {
    const { max, here, near } = this.o.wait;
    const maxNs = BigInt(Math.round(max * 1e9));
    const scaled = (p: ProbeState, factor: number): bigint | null => {
      if (!p.done || !p.recvReal) return null;
      const rtt = p.recvReal - p.sendReal;
      if (rtt <= 0n) return null;
      const v = BigInt(Math.round(Number(rtt + WAIT_PREC_NS) * factor));
      return v < maxNs ? v : maxNs;
    };
    if (here) {
      const first = n - (n % this.o.nqueries);
      for (let i = first; i < first + this.o.nqueries; i++) {
        const v = scaled(this.probes[i], here);
        if (v !== null) return v;
      }
    }
    if (near) {
      for (let i = n + 1; i < this.probes.length && this.probes[i].sendMono; i++) {
        const v = scaled(this.probes[i], near);
        if (v !== null) return v;
      }
    }
    return maxNs;
  }

  private send(n: number): boolean {
    const pb = this.probes[n];
    const seq = this.nextSeq;
    const ttl = Math.floor(n / this.o.nqueries) + 1;
    let monoNs: bigint;
    let realNs: bigint;
    try {
      const r = this.method.send({ seq, ttl, payload: this.payload });
      if (r.bytes < 0) return false;
      monoNs = r.monoNs;
      realNs = r.realNs;
    } catch (e) {
      // traceroute: EMSGSIZE and EHOSTUNREACH count as sent, the error queue says more
      if (isSystemError(e) && (e.code === 'EMSGSIZE' || e.code === 'EHOSTUNREACH')) {
        monoNs = this.clock.monoNs();
        realNs = this.clock.realNs();
      } else if (isSystemError(e) && (e.code === 'ENOBUFS' || e.code === 'EAGAIN')) {
        this.method.release?.(seq);
        return false;
      } else {
        this.method.release?.(seq);
        this.onEvent({ type: 'error', error: e instanceof Error ? e : new Error(String(e)) });
        this.finish(false);
        return false;
      }
    }
    this.nextSeq = (seq + 1) & 0xffff;
    pb.sendMono = monoNs;
    pb.sendReal = realNs;
    pb.seq = seq;
    this.bySeq.set(seq, n);
    this.sent++;
    return true;
  }

  /** traceroute's probe_done: the method lets go of the probe; later answers are ignored. */
  private done(n: number): void {
    const pb = this.probes[n];
    if (pb.seq >= 0) {
      this.method.release?.(pb.seq);
      if (this.bySeq.get(pb.seq) === n) this.bySeq.delete(pb.seq);
    }
    pb.seq = -1;
    pb.done = true;
  }

  // ---- answers (traceroute's recv_reply) ----

  private onProbeEvent(e: ProbeEvent): void {
    if (this.finished || e.type === 'icmp-notice') return;
    let n = e.seq === undefined ? undefined : this.bySeq.get(e.seq);
    if (n === undefined && e.type === 'local-error') n = this.oldestOutstanding();
    if (n === undefined) return;
    const pb = this.probes[n];
    if (pb.done) return;
    let info = 0;
    if (e.type === 'reply') {
      pb.from = e.from;
      pb.final = true;
      pb.flags = e.flags ?? null;
    } else if (e.type === 'icmp-error') {
      pb.from = e.from;
      pb.icmp = { type: e.icmpType, code: e.icmpCode };
      info = e.mtu;
      const a = annotate(this.method.family, e.icmpType, e.icmpCode, e.mtu);
      if (a !== null) {
        if (a) pb.err = a;
        pb.final = true;
      }
    } else {
      // a local error: only "message too long" with the MTU means something here
      if (e.code !== 'EMSGSIZE' || !e.info) {
        this.onEvent({ type: 'error', error: systemError('recvmsg', e.errno, e.code) });
        this.finish(false);
        return;
      }
      info = e.info;
      pb.err = `!F-${e.info}`;
      pb.local = { code: e.code, errno: e.errno, mtu: e.info };
      pb.final = true;
    }
    const rx = e.type !== 'local-error' ? e.rxRelNs : undefined;
    pb.recvReal = rx !== undefined ? fromRelNs(rx) : this.clock.realNs();
    pb.recvTtl = (e.type !== 'local-error' ? e.ttl : undefined) ?? 0;
    if (this.o.mtuDiscovery && info >= this.o.headerLen && info < this.o.headerLen + this.dataLen) {
      // the next hop needs smaller packets: resend this probe that size, noting F=NUM
      this.dataLen = info - this.o.headerLen;
      this.payload = this.fill();
      this.done(n);
      this.probes[n] = { ...blank(), err: `F=${info}` };
    } else {
      this.done(n);
    }
    this.kick();
  }

  private oldestOutstanding(): number | undefined {
    for (let n = this.start0; n < this.end; n++) {
      const pb = this.probes[n];
      if (pb.sendMono && !pb.done) return n;
    }
    return undefined;
  }

  /**
   * traceroute's check_expired: "* * ... final" may mean the final hop
   * answered only the later of several probes sent at once (unreachable
   * errors are often rate limited); then the final answer moves up to the
   * expired probe's place.
   */
  private checkExpired(n: number): void {
    const nq = this.o.nqueries;
    const probes = this.probes;
    let pfp = false;
    for (let i = n - (n % nq); i < n; i++) {
      if (!probes[i].done || !probes[i].final) return;
      pfp = true;
    }
    let f = -1;
    for (let i = n + 1; i < probes.length && probes[i].sendMono; i++) {
      if (probes[i].done) {
        if (!probes[i].final) return;
        f = i;
        break;
      }
    }
    if (f < 0) return;
    const fp = probes[f];
    if (!fp.err) return;
    let replace = pfp || (n % nq) + (f - n) < nq;
    if (!replace)
      for (let i = n - 1; i >= 0; i--)
        if (probes[i].from !== null && probes[i].from === fp.from) {
          replace = true;
          break;
        }
    if (!replace && fp.recvTtl) {
      let back = ttl2hops(fp.recvTtl);
      for (let i = n - 1; i >= 0; i--) {
        const p = probes[i];
        if (p.done && !p.final && p.recvTtl) {
          const hops = ttl2hops(p.recvTtl);
          if (hops < back) {
            back = back - hops + Math.floor(i / nq) + 1;
            break;
          }
        }
      }
      replace = back <= Math.floor(n / nq) + 1;
    }
    if (!replace) return;
    probes[n] = fp;
    // the final's old place is left sent-but-silent: it expires as '*'
    probes[f] = { ...blank(), sendMono: 1n };
  }

  // ---- results ----

  private report(n: number): void {
    const nq = this.o.nqueries;
    const pb = this.probes[n];
    const hop = Math.floor(n / nq) + 1;
    const index = n % nq;
    const answered = pb.from !== null;
    const probe: ProbeResult = {
      hop,
      index,
      from: pb.from,
      // a local error ("!F-1500") has a time but no address, as in traceroute
      rttMs: pb.recvReal ? Number(pb.recvReal - pb.sendReal) / 1e6 : null,
      ttl: answered && pb.recvTtl ? pb.recvTtl : null,
      annotation: pb.err,
      final: pb.final,
      icmp: pb.icmp,
      flags: pb.flags,
      local: pb.local,
    };
    this.onEvent({ type: 'probe', probe });
    this.hop.push(probe);
    if (index === nq - 1) {
      const probes = this.hop;
      this.hop = [];
      this.onEvent({ type: 'hop', hop, probes, final: probes.some((p) => p.final) });
    }
  }

  private finish(complete: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.method.close();
    const nq = this.o.nqueries;
    const lastHop = Math.floor((this.start0 - 1) / nq) + 1;
    const last = complete && this.start0 > 0 ? this.probes.slice((lastHop - 1) * nq, lastHop * nq) : [];
    this.onEvent({
      type: 'done',
      hops: lastHop,
      final: last.some((p) => p.final),
      reached: last.some((p) => p.final && p.from === this.method.target),
      probesSent: this.sent,
      elapsedMs: Number(this.clock.monoNs() - this.t0) / 1e6,
    });
  }
}
