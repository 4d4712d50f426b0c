// Many targets at once on one ICMP socket per family: fping's engine
// (fping.c main_loop, send_ping, wait_for_reply; seqmap.c) as a library,
// for sockit fping and for the exporter's continuous probing. The sockets
// are the probe registry's icmp method (a ping socket when the kernel
// allows it, a raw one otherwise), opened as fleet sockets that send to
// many destinations. Presentation is the caller's business.
//
// The API (stable: add to it, do not rename):
//
//   const fleet = new Fleet(targets, options, onEvent);  // opens the sockets; throws
//                                                       // IcmpPermissionError when neither
//                                                       // a ping nor a raw socket may be had
//   fleet.start();            // begin; events arrive through onEvent
//   fleet.add(target);        // another target, first ping now; returns its number
//   fleet.remove(n);          // stop probing target n (no more events for it)
//   fleet.stop();             // stop now; 'done' follows at once
//   fleet.mechanism(family);  // 'ping socket' | 'raw socket' | undefined
//   fleet.targets[n];         // FleetTarget: address, family, sends, timeoutMs
//
// Targets are numbered in the order given (then added). Events, each naming
// the target number and the ping's index (fping's [0], [1] ...):
//   sent     a ping went out (seq: its ICMP sequence on its family's socket)
//   reply    an echo reply: rttNs (kernel receive stamp minus send stamp), ttl,
//            bytes (ICMP header + data), from; dup when that ping was already
//            answered, late when it came after the target's timeout (fping
//            counts neither)
//   timeout  no reply within the target's timeout
//   error    'icmp' (an ICMP error about the ping: unreachable, time
//            exceeded ...), 'notice' (redirect, source quench), 'send'
//            (sendto(2) failed), 'local' (the local stack refused it)
//   done     nothing left to send or wait for (never in loop mode; after stop())
//
// Schedule, as fping's: every target's first ping is due at start; in count
// mode ping i+1 is due `periodMs` after ping i was due, in loop mode for
// ever; no two sends closer than `intervalMs`, kept on average: after a timer
// that wakes late (a busy machine, Node's millisecond timers) the sends catch
// up on the schedule a tenth of -i apart (ten intervals at most) instead of
// every later send being pushed back, as fping's wait pushes them; in the default mode (no
// count, no loop) a ping that times out is sent again, `retries` times, each
// time waiting `backoff` times longer. Replies are matched by identifier
// (the socket's: the kernel's for a ping socket, a BPF filter for a raw one)
// and sequence (one 16-bit space per socket, mapping back to target and
// index, fping's seqmap).
import { type Clock, type TimerHandle, type Timers, systemClock, systemTimers } from '../clock.js';
import { constants as os } from 'node:os';
import { type SystemError, isSystemError, systemError } from '../errors.js';
import type { IcmpProbe } from '../probe/icmp.js';
import type { Family, Probe, ProbeEvent, ProbeMethod } from '../probe/index.js';
import { probeMethod } from '../probe/registry.js';
import type { SendResult } from '../socket.js';
import { receiveBuffer } from './setup.js';

/** fping's defaults (options.h) */
export const DEFAULT_INTERVAL_MS = 10;
export const DEFAULT_PERIOD_MS = 1000;
export const DEFAULT_TIMEOUT_MS = 500;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF = 1.5;
export const DEFAULT_DATA_LEN = 56;
/** fping seqmap.c: a sequence number is not taken back for 10 s; replies older than that are not ours */
export const SEQ_EXPIRY_MS = 10_000;
/** sends per timer callback when the interval is 0, before yielding to the event loop (which reads the replies) */
const SEND_BATCH = 64;
/** after a late wake-up, sends catch up on the schedule at this fraction of -i apart */
const CATCH_UP_GAP = 0.1;
/** at most this many intervals are made up (a process stopped for minutes does not burst its backlog) */
const CATCH_UP_MAX = 10;
const SEQ_SPACE = 0x10000;

/** A target: a numeric address and its family (resolve names first). */
export interface FleetTargetSpec {
  address: string;
  family: Family;
}

/** A target as the fleet keeps it. */
export interface FleetTarget extends FleetTargetSpec {
  /** pings sent (retries included, failed sends too) */
  sends: number;
  /** its timeout now (ms): grows by `backoff` with each retry, back to the first on a reply */
  timeoutMs: number;
  /** removed: no more pings or events */
  removed: boolean;
}

/** A socket a fleet sends on: a probe method that can send to any destination (IcmpProbe with fleet: true). */
export interface FleetMethod extends ProbeMethod {
  sendTo(probe: Probe, to: string): SendResult;
  sendQuickTo?(probe: Probe, to: string): number;
}

export interface FleetOptions {
  /** pings per target (fping -c, -C); 0 or absent: fping's default mode (one ping, retried) unless loop */
  count?: number;
  /** ping every target every periodMs until stop() (fping -l; continuous probing) */
  loop?: boolean;
  /** -i: ms between any two sends (default 10) */
  intervalMs?: number;
  /** -p: ms between pings to one target, count and loop modes (default 1000) */
  periodMs?: number;
  /** -t: ms to wait for a reply (default 500) */
  timeoutMs?: number;
  /** -r: retries in the default mode (default 3) */
  retries?: number;
  /** -B: timeout factor per retry in the default mode (default 1.5; 1 for none) */
  backoff?: number;
  /** -b: ICMP data bytes (default 56, zeros) */
  dataLen?: number;
  /** -R: random data in every ping */
  randomData?: boolean;
  /** -H: TTL / hop limit */
  ttl?: number;
  /** -O: IP_TOS / IPV6_TCLASS */
  tos?: number;
  /** -M: set DF (IP_PMTUDISC_DO) */
  dontFragment?: boolean;
  /** -S: source address per family */
  source?: { 4?: string; 6?: string };
  /** -I: SO_BINDTODEVICE */
  device?: string;
  /** only a ping socket, or only a raw one (default: ping socket, then raw) */
  mode?: 'dgram' | 'raw';
  /** the clocks the fleet reads (default: the kernel's) */
  clock?: Clock;
  /** the timers it arms (default: Node's) */
  timers?: Timers;
  /** opens a family's socket (default: the probe registry's icmp method, as a fleet socket) */
  open?: (family: Family) => FleetMethod;
}

export type FleetErrorKind = 'icmp' | 'notice' | 'send' | 'local';

export type FleetEvent =
  | { type: 'sent'; target: number; index: number; seq: number }
  | {
      type: 'reply';
      target: number;
      index: number;
      seq: number;
      /** who answered (fping notes it when it is not the target) */
      from: string;
      /** round trip in nanoseconds */
      rttNs: number;
      ttl?: number;
      /** ICMP bytes (header + data), as fping counts them */
      bytes: number;
      /** that ping was answered already */
      dup: boolean;
      /** later than the target's timeout */
      late: boolean;
    }
  | { type: 'timeout'; target: number; index: number; seq: number }
  | {
      type: 'error';
      kind: FleetErrorKind;
      target: number;
      index: number;
      seq?: number;
      /** the router or host that sent the ICMP message */
      from?: string;
      icmpType?: number;
      icmpCode?: number;
      /** errno name: the failed send's, the local error's */
      code?: string;
      /** the failed send's error */
      error?: SystemError;
    }
  | { type: 'done' };

/** What a sequence number of a socket stands for. */
enum Slot {
  Free = 0,
  Waiting = 1,
  Answered = 2,
  TimedOut = 3,
  /** answered through another send of the same ping (a retry's) */
  Settled = 4,
}

/** One family's socket and its sequence map (fping's seqmap, one per socket). */
class Channel {
  next = 0;
  readonly target = new Int32Array(SEQ_SPACE).fill(-1);
  readonly index = new Int32Array(SEQ_SPACE);
  readonly sentRelNs = new Float64Array(SEQ_SPACE);
  readonly sentAtMs = new Float64Array(SEQ_SPACE);
  readonly state = new Uint8Array(SEQ_SPACE);
  /** which send a slot holds, so a timeout armed for an earlier one is recognised */
  readonly sendNo = new Float64Array(SEQ_SPACE);
  constructor(
    readonly family: Family,
    readonly method: FleetMethod,
  ) {}
}

interface Due {
  due: number;
  order: number;
}
interface PingDue extends Due {
  target: number;
  index: number;
}
interface TimeoutDue extends Due {
  family: Family;
  seq: number;
  sendNo: number;
}

/** A binary min-heap by due time, then by insertion (fping's queues keep equal times in order). */
class DueHeap<T extends Due> {
  private readonly a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Due, y: Due): boolean {
  return x.due < y.due || (x.due === y.due && x.order < y.order);
}

/** fping's engine over many targets. See the API at the top of this file. */
export class Fleet {
  readonly targets: FleetTarget[] = [];
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly count: number;
  private readonly loop: boolean;
  private readonly intervalMs: number;
  private readonly periodMs: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoff: number;
  private readonly randomData: boolean;
  private readonly channels = new Map<Family, Channel>();
  private readonly openMethod: (family: Family) => FleetMethod;
  private readonly probe: Probe;
  private readonly pings = new DueHeap<PingDue>();
  private readonly timeouts = new DueHeap<TimeoutDue>();
  /** non-loop modes: per target, per ping index, the sequence waiting for it (-1: none) and whether it was answered */
  private readonly waitingSeq: Int32Array[] = [];
  private readonly answered: Uint8Array[] = [];
  private order = 0;
  private sendNo = 0;
  /** sends with a live timeout */
  private waiting = 0;
  /** when the last send was due by the schedule (ms), for -i */
  private lastPlan = -Infinity;
  /** when the last send went (ms), for the catch-up gap */
  private lastSend = -Infinity;
  private timer: TimerHandle | null = null;
  private timerDue = Infinity;
  private started = false;
  private finished = false;

  constructor(
    targets: readonly FleetTargetSpec[],
    o: FleetOptions,
    private readonly onEvent: (e: FleetEvent) => void,
  ) {
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? systemTimers;
    this.count = o.loop ? 0 : Math.max(0, o.count ?? 0);
    this.loop = !!o.loop;
    this.intervalMs = o.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.periodMs = o.periodMs ?? DEFAULT_PERIOD_MS;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = o.retries ?? DEFAULT_RETRIES;
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.randomData = !!o.randomData;
    const dataLen = o.dataLen ?? DEFAULT_DATA_LEN;
    this.probe = { seq: 0, payload: Buffer.alloc(dataLen) };
    this.openMethod = o.open ?? ((family) => openFleetSocket(family, o, dataLen, Math.max(targets.length, 1)));
    try {
      for (const t of targets) this.add(t);
    } catch (e) {
      this.closeSockets();
      throw e;
    }
  }

  /** 'ping socket' or 'raw socket' for a family that has targets. */
  mechanism(family: Family): string | undefined {
    return this.channels.get(family)?.method.mechanism;
  }

  /** Add a target; its first ping is due now (at start, before start()). Opens its family's socket if needed. */
  add(spec: FleetTargetSpec): number {
    this.channel(spec.family);
    const n = this.targets.length;
    this.targets.push({ address: spec.address, family: spec.family, sends: 0, timeoutMs: this.timeoutMs, removed: false });
    if (!this.loop) {
      const k = Math.max(this.count, 1);
      this.waitingSeq.push(new Int32Array(k).fill(-1));
      this.answered.push(new Uint8Array(k));
    }
    this.pings.push({ due: this.started ? this.clock.nowMs() : -Infinity, order: this.order++, target: n, index: 0 });
    if (this.started && !this.finished) this.arm(this.clock.nowMs());
    return n;
  }

  /** Stop probing target n: its pings are not sent, its replies and timeouts not reported. */
  remove(n: number): void {
    const t = this.targets[n];
    if (!t || t.removed) return;
    t.removed = true;
    // its live timeouts no longer hold the fleet open
    for (const ch of this.channels.values()) {
      if (ch.family !== t.family) continue;
      for (let s = 0; s < SEQ_SPACE; s++) {
        if (ch.target[s] === n && ch.state[s] === Slot.Waiting) {
          ch.state[s] = Slot.Settled;
          this.waiting--;
        }
      }
    }
    if (this.started) this.checkDone();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.clock.nowMs();
    // the first pings were queued before start: they are due now
    for (const ch of this.channels.values()) ch.method.start((e) => this.onProbeEvent(ch, e));
    this.rebaseQueued(now);
    this.run();
  }

  /** Stop sending and waiting; 'done' is emitted at once. */
  stop(): void {
    if (this.finished) return;
    this.finish();
  }

  private rebaseQueued(now: number): void {
    const queued: PingDue[] = [];
    for (let p = this.pings.pop(); p; p = this.pings.pop()) queued.push(p);
    for (const p of queued) this.pings.push(p.due === -Infinity ? { ...p, due: now } : p);
  }

  private channel(family: Family): Channel {
    let ch = this.channels.get(family);
    if (!ch) {
      ch = new Channel(family, this.openMethod(family));
      this.channels.set(family, ch);
      if (this.started) ch.method.start((e) => this.onProbeEvent(ch!, e));
    }
    return ch;
  }

  // ---- the main loop (fping's main_loop): timeouts first, then one send per -i ----

  private run(): void {
    this.timer = null;
    this.timerDue = Infinity;
    if (this.finished) return;
    const now = this.clock.nowMs();
    let sends = 0;
    for (;;) {
      const t = this.liveTimeout();
      if (t && t.due <= now) {
        this.timeouts.pop();
        this.expire(t, now);
        continue;
      }
      const p = this.pings.peek();
      if (p && p.due <= now && this.maySend(now)) {
        if (sends >= SEND_BATCH) {
          this.timerDue = now;
          this.timer = this.timers.setImmediate(() => this.run());
          return;
        }
        this.pings.pop();
        this.sendPing(p, now);
        sends++;
        continue;
      }
      break;
    }
    if (this.finished || this.checkDone()) return;
    this.arm(now);
  }

  private maySend(now: number): boolean {
    return this.intervalMs <= 0 || this.nextSendAt() <= now;
  }

  /** the earliest a send may go: its slot in the schedule, and a catch-up gap after the last one */
  private nextSendAt(): number {
    return Math.max(this.lastPlan + this.intervalMs, this.lastSend + this.intervalMs * CATCH_UP_GAP);
  }

  /** The earliest timeout still armed (dropping those whose ping was settled). */
  private liveTimeout(): TimeoutDue | undefined {
    for (;;) {
      const t = this.timeouts.peek();
      if (!t) return undefined;
      const ch = this.channels.get(t.family)!;
      if (ch.state[t.seq] === Slot.Waiting && ch.sendNo[t.seq] === t.sendNo) return t;
      this.timeouts.pop();
    }
  }

  /** Arm the one timer for the next timeout or the next send -i allows. */
  private arm(now: number): void {
    let next = Infinity;
    const t = this.liveTimeout();
    if (t) next = t.due;
    const p = this.pings.peek();
    if (p) next = Math.min(next, Math.max(p.due, this.intervalMs > 0 ? this.nextSendAt() : p.due));
    if (next === Infinity) return;
    if (this.timer && this.timerDue <= next) return;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timerDue = next;
    this.timer = this.timers.setTimeout(() => this.run(), Math.max(0, next - now));
  }

  private sendPing(p: PingDue, now: number): void {
    const t = this.targets[p.target]!;
    if (t.removed) return;
    // -i on average: after a late wake-up the next sends catch up on the schedule instead of delaying every later send
    const plan = Math.max(p.due, this.lastPlan + this.intervalMs);
    this.lastPlan = Math.max(plan, now - this.intervalMs * CATCH_UP_MAX);
    this.lastSend = now;
    this.transmit(p.target, p.index, now);
    if (this.loop || p.index + 1 < this.count) {
      this.pings.push({ due: p.due + this.periodMs, order: this.order++, target: p.target, index: p.index + 1 });
    }
  }

  /** fping's send_ping: a sequence number, the echo request, its timeout. */
  private transmit(n: number, index: number, now: number): void {
    const t = this.targets[n]!;
    const ch = this.channels.get(t.family)!;
    const seq = ch.next;
    ch.next = (seq + 1) % SEQ_SPACE;
    ch.target[seq] = n;
    ch.index[seq] = index;
    ch.sentAtMs[seq] = now;
    ch.sendNo[seq] = ++this.sendNo;
    t.sends++;
    if (this.randomData) for (let i = 0; i < this.probe.payload.length; i++) this.probe.payload[i] = Math.floor(Math.random() * 256);
    this.probe.seq = seq;
    let failure: SystemError | undefined;
    try {
      const m = ch.method;
      let bytes: number;
      if (m.sendQuickTo) {
        bytes = m.sendQuickTo(this.probe, t.address);
        ch.sentRelNs[seq] = m.lastSendRelNs ?? this.clock.realRelNs();
      } else {
        const r = m.sendTo(this.probe, t.address);
        bytes = r.bytes;
        ch.sentRelNs[seq] = this.clock.realRelNs();
      }
      if (bytes < 0) failure = eagain();
    } catch (e) {
      // fping counts EHOSTDOWN as sent (the neighbour is not answering ARP yet): it times out
      if (!isSystemError(e)) throw e;
      if (e.code !== 'EHOSTDOWN') failure = e;
    }
    this.onEvent({ type: 'sent', target: n, index, seq });
    if (failure) {
      ch.state[seq] = Slot.TimedOut;
      this.onEvent({ type: 'error', kind: 'send', target: n, index, seq, code: failure.code, error: failure });
      return;
    }
    ch.state[seq] = Slot.Waiting;
    this.waiting++;
    if (!this.loop) this.waitingSeq[n]![index] = seq;
    this.timeouts.push({ due: now + t.timeoutMs, order: this.order++, family: t.family, seq, sendNo: ch.sendNo[seq]! });
  }

  /** A timeout fired: report it; in the default mode, retry with backoff (fping sends the retry at once). */
  private expire(d: TimeoutDue, now: number): void {
    const ch = this.channels.get(d.family)!;
    const n = ch.target[d.seq]!;
    const index = ch.index[d.seq]!;
    ch.state[d.seq] = Slot.TimedOut;
    this.waiting--;
    const t = this.targets[n]!;
    if (t.removed) return;
    if (!this.loop && this.waitingSeq[n]![index] === d.seq) this.waitingSeq[n]![index] = -1;
    this.onEvent({ type: 'timeout', target: n, index, seq: d.seq });
    if (!this.loop && !this.count && t.sends < this.retries + 1) {
      t.timeoutMs *= this.backoff;
      this.lastPlan = Math.max(this.lastPlan, now);
      this.lastSend = now;
      this.transmit(n, index, now);
    }
  }

  // ---- receiving (fping's wait_for_reply and decode_icmp_*) ----

  private onProbeEvent(ch: Channel, e: ProbeEvent): void {
    if (this.finished) return;
    if (e.type === 'reply') this.onReply(ch, e);
    else if (e.type === 'icmp-error' || e.type === 'icmp-notice') this.onIcmp(ch, e);
    else if (e.type === 'local-error') this.onLocal(ch, e);
  }

  /** The target and index a sequence stands for, or -1 when it is not a live one of ours. */
  private owner(ch: Channel, seq: number): number {
    const n = ch.target[seq] ?? -1;
    if (n < 0 || ch.state[seq] === Slot.Free) return -1;
    if (this.clock.nowMs() - ch.sentAtMs[seq]! >= SEQ_EXPIRY_MS) return -1;
    return this.targets[n]!.removed ? -1 : n;
  }

  private onReply(ch: Channel, e: Extract<ProbeEvent, { type: 'reply' }>): void {
    const seq = e.seq & 0xffff;
    const n = this.owner(ch, seq);
    if (n < 0) return;
    const t = this.targets[n]!;
    const index = ch.index[seq]!;
    const rttNs = (e.rxRelNs ?? this.clock.realRelNs()) - ch.sentRelNs[seq]!;
    const base = { type: 'reply' as const, target: n, index, seq, from: e.from, rttNs, ttl: e.ttl, bytes: e.bytes };
    const dup = ch.state[seq] === Slot.Answered || (!this.loop && this.answered[n]![index] === 1);
    if (dup) return this.onEvent({ ...base, dup: true, late: false });
    // fping discards a reply later than the target's timeout (github #32)
    if (rttNs > t.timeoutMs * 1e6) return this.onEvent({ ...base, dup: false, late: true });
    if (ch.state[seq] === Slot.Waiting) this.waiting--;
    ch.state[seq] = Slot.Answered;
    if (!this.loop) {
      // the answered ping's other send (a retry) waits no longer
      const w = this.waitingSeq[n]![index]!;
      if (w >= 0 && w !== seq && ch.state[w] === Slot.Waiting) {
        ch.state[w] = Slot.Settled;
        this.waiting--;
      }
      this.waitingSeq[n]![index] = -1;
      this.answered[n]![index] = 1;
    }
    // fping: back to the first timeout after a reply
    t.timeoutMs = this.timeoutMs;
    this.onEvent({ ...base, dup: false, late: false });
    this.checkDone();
  }

  private onIcmp(ch: Channel, e: Extract<ProbeEvent, { type: 'icmp-error' | 'icmp-notice' }>): void {
    const seq = e.seq & 0xffff;
    const n = this.owner(ch, seq);
    if (n < 0) return;
    // the quote says where the echo request went: it must be where this sequence was sent
    if (e.to !== undefined && e.to !== this.targets[n]!.address) return;
    const kind = e.type === 'icmp-error' ? 'icmp' : 'notice';
    this.onEvent({ type: 'error', kind, target: n, index: ch.index[seq]!, seq, from: e.from, icmpType: e.icmpType, icmpCode: e.icmpCode });
  }

  private onLocal(ch: Channel, e: Extract<ProbeEvent, { type: 'local-error' }>): void {
    if (e.seq === undefined) return;
    const seq = e.seq & 0xffff;
    const n = this.owner(ch, seq);
    if (n < 0) return;
    this.onEvent({ type: 'error', kind: 'local', target: n, index: ch.index[seq]!, seq, code: e.code });
  }

  // ---- the end ----

  /** Done when nothing is queued or waited for (never in loop mode). */
  private checkDone(): boolean {
    if (this.finished) return true;
    if (this.loop || this.waiting > 0) return false;
    for (let p = this.pings.peek(); p; p = this.pings.peek()) {
      if (!this.targets[p.target]!.removed) return false;
      this.pings.pop();
    }
    this.finish();
    return true;
  }

  private finish(): void {
    this.finished = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.closeSockets();
    this.onEvent({ type: 'done' });
  }

  private closeSockets(): void {
    for (const ch of this.channels.values()) ch.method.close();
  }
}

function eagain(): SystemError {
  return systemError('sendto', os.errno.EAGAIN, 'EAGAIN');
}

/** The probe registry's icmp method as a fleet socket: ping socket first, raw second. */
export function openFleetSocket(family: Family, o: FleetOptions, dataLen: number, targets: number): FleetMethod {
  const opened = probeMethod('icmp')!.open({
    target: family === 4 ? '0.0.0.0' : '::',
    family,
    source: o.source?.[family],
    device: o.device,
    tos: o.tos,
    pmtu: o.dontFragment ? 'do' : undefined,
    packetLen: -1,
    // room for a burst of replies from many targets (iputils' sizing, a few send batches' worth; the kernel caps it at rmem_max)
    icmp: { fleet: true, mode: o.mode, ttl: o.ttl, rcvbuf: receiveBuffer(dataLen, 0, Math.min(targets, SEND_BATCH * 4)) },
  });
  return opened.method as IcmpProbe;
}
