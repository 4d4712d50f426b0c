// The ping engine (UNP 28.5, with iputils' scheduling and statistics): it
// sends probes through a ProbeMethod, matches what comes back, keeps the
// counts exactly as iputils does and emits typed events. Presentation (the
// iputils text, flood dots, JSON) is the command's business.
import { type Clock, type TimerHandle, type Timers, systemClock, systemTimers, timeBase } from '../clock.js';
import { isSystemError, type SystemError } from '../errors.js';
import type { Probe, ProbeEvent, ProbeMethod } from '../probe/index.js';

/** iputils ping.h */
export const MININTERVAL = 10; // ms: flood's pace when nothing comes back
export const MINUSERINTERVAL = 2; // ms: the floor for unprivileged users
export const MAX_DUP_CHK = 0x10000;
/** data bytes that carry the send time and sequence (iputils: sizeof(struct timeval)) */
export const STAMP_BYTES = 16;
/** the bytes of the data pinger() rewrites for each probe: the send time (8) and the full sequence (4) */
const STAMPED = 12;
/** flood round trips answered within one send before the loop gets a turn (signals, timers, output) */
export const HELD_BURST = 256;

export interface PingOptions {
  /** stop after this many replies (+ errors); 0: no limit */
  count: number;
  /** ms between probes; 0 with flood */
  intervalMs: number;
  flood: boolean;
  /** probes sent before waiting for replies (-l) */
  preload: number;
  /** seconds before stopping whatever happens (-w); 0: none */
  deadlineS: number;
  /** ms to wait for a reply when none came (-W); default 10 s */
  lingerMs: number;
  /** ICMP data bytes (-s) */
  dataLen: number;
  /** fill pattern (-p), repeated over the data */
  pattern?: Buffer;
  adaptive: boolean;
  /** report probes with no answer yet when the next one goes (-O) */
  outstanding: boolean;
  /** root: no 2 ms floor for adaptive intervals */
  privileged: boolean;
  /** -q: iputils counts local errors only when it prints them */
  quiet: boolean;
  /** emit 'timeout' for probes unanswered this long (ms); defaults to lingerMs */
  probeTimeoutMs?: number;
  /** a broadcast or multicast destination: replies from anyone are expected, not "different address" */
  multicast?: boolean;
  /** the clocks the run reads (default: the kernel's) */
  clock?: Clock;
  /** the timers it arms (default: Node's) */
  timers?: Timers;
}

export interface DataMismatch {
  /** byte index into the data (after the ICMP header) */
  index: number;
  expected: number;
  actual: number;
  /** the received data from STAMP_BYTES on, for the dump */
  received: Buffer;
}

export type PingEvent =
  /** one object, rewritten for every probe: valid during the callback only */
  | { type: 'sent'; seq: number; ntransmitted: number }
  | {
      type: 'reply';
      seq: number;
      from: string;
      /** ICMP bytes received */
      bytes: number;
      ttl?: number;
      /** round trip in whole microseconds; undefined when the data is too short to time */
      rttUs?: number;
      dup: boolean;
      checksumOk: boolean;
      /** fewer bytes than were sent */
      truncated: boolean;
      /** answers a probe already reported as timed out */
      late: boolean;
      /** not from the address pinged */
      wrongSource: boolean;
      mismatch?: DataMismatch;
      /** the clock went backwards; rtt taken as 0 */
      clockWentBack?: number;
      /** IP options the reply carried (record route ...), when the method sees them */
      ipOptions?: Buffer;
      /** a node information reply (RFC 4620), the whole ICMPv6 message */
      nodeInfo?: Buffer;
    }
  | { type: 'icmp-error'; seq: number; from: string; icmpType: number; icmpCode: number; mtu: number }
  | { type: 'icmp-notice'; seq: number; from: string; icmpType: number; icmpCode: number; gateway?: string }
  | { type: 'local-error'; errno: number; code: string; info: number; counted: boolean }
  | { type: 'send-error'; error: SystemError }
  | { type: 'no-answer-yet'; seq: number }
  | { type: 'timeout'; seq: number }
  | { type: 'done'; stats: PingStats };

/** The counters iputils keeps, in its units (microseconds, milliseconds). */
export class PingStats {
  ntransmitted = 0;
  nreceived = 0;
  nrepeats = 0;
  nchecksum = 0;
  nerrors = 0;
  tmin = Number.MAX_SAFE_INTEGER; // us
  tmax = 0;
  tsum = 0; // us, an integer
  tsum2 = 0; // us^2, a double as in iputils
  /** smoothed rtt times 8, us (iputils' rtt) */
  rtt = 0;
  pipesize = -1;
  /** whether replies carry timing (data >= 16 bytes) */
  timing = false;
  /** ms from the first probe to the last, rounded as iputils does */
  elapsedMs = 0;
  /** the same in microseconds, for ipg */
  elapsedUs = 0;
  /** iputils prints ipg/ewma when the interval is 0, with -f or with -A */
  showIpg = false;
  deadline = 0;
  npackets = 0;

  /** percentage lost, as iputils' (float) cast then %g gives it */
  get lossPercent(): number {
    if (!this.ntransmitted) return 0;
    return Math.fround(((this.ntransmitted - this.nreceived) * 100) / this.ntransmitted);
  }

  /** iputils' finish(): min, avg, max, mdev in microseconds (integers), or null without replies/timing */
  rttSummary(): { min: number; avg: number; max: number; mdev: number } | null {
    if (!this.nreceived || !this.timing) return null;
    const total = this.nreceived + this.nrepeats;
    const tmavg = Math.trunc(this.tsum / total);
    let tmvar: number;
    if (this.tsum < 0x7fffffff) {
      // (tsum2 - (tsum * tsum) / total) / total, with the integer division done in 64 bits
      const sq = Number((BigInt(this.tsum) * BigInt(this.tsum)) / BigInt(total));
      tmvar = Math.trunc((this.tsum2 - sq) / total);
    } else {
      tmvar = Math.trunc(this.tsum2 / total - tmavg * tmavg);
    }
    return { min: this.tmin, avg: tmavg, max: this.tmax, mdev: llsqrt(tmvar) };
  }

  /** ipg and ewma in microseconds, when iputils prints them */
  ipgEwma(): { ipg: number; ewma: number } | null {
    if (!(this.nreceived && this.showIpg && this.ntransmitted > 1)) return null;
    return { ipg: Math.trunc(this.elapsedUs / (this.ntransmitted - 1)), ewma: Math.trunc(this.rtt / 8) };
  }

  /** iputils' exit status: 1 when nothing came back, or a deadline run fell short of -c */
  get exitCode(): number {
    return !this.nreceived || (this.deadline && this.nreceived < this.npackets) ? 1 : 0;
  }
}

/**
 * iputils' llsqrt, to the bit: Newton's iteration stopped at the first step
 * that does not decrease, returning that step (so 8 gives 3, not 2).
 * Non-positive input comes back as is.
 */
export function llsqrt(a: number): number {
  if (a <= 0) return a;
  const A = BigInt(a);
  let prev: bigint | null = null;
  let x = A;
  while (prev === null || x < prev) {
    prev = x;
    x = (x + A / x) / 2n;
  }
  return Number(x);
}

/** The data iputils sends: byte i is i, or the -p pattern repeated. */
export function fillData(dataLen: number, pattern?: Buffer): Buffer {
  const d = Buffer.alloc(dataLen);
  if (pattern?.length) for (let i = 0; i < dataLen; i++) d[i] = pattern[i % pattern.length];
  else for (let i = 0; i < dataLen; i++) d[i] = i & 0xff;
  return d;
}

/**
 * One ping run. Call start(); events arrive through onEvent; the run ends
 * with a 'done' event (count reached, deadline, linger, or stop()).
 */
export class PingSession {
  readonly stats = new PingStats();
  private readonly o: PingOptions;
  private readonly method: ProbeMethod;
  private readonly onEvent: (e: PingEvent) => void;
  private readonly data: Buffer;
  /** the one probe description, refilled for each send */
  private readonly probe: Probe;
  private readonly rcvd = new Uint8Array(MAX_DUP_CHK / 8);
  /** send stamps (CLOCK_REALTIME ns since native timeBase) by 16-bit sequence, with the full sequence they belong to */
  private readonly sentReal = new Float64Array(MAX_DUP_CHK);
  /** clock.nowMs() at each send, for probe timeouts */
  private readonly sentAt = new Float64Array(MAX_DUP_CHK);
  private readonly sentSeq = new Int32Array(MAX_DUP_CHK).fill(-1);
  private readonly timedOut = new Uint8Array(MAX_DUP_CHK / 8);
  /** probes answered by an ICMP error (not replies, but not waiting either) */
  private readonly errored = new Uint8Array(MAX_DUP_CHK / 8);
  private interval: number;
  private acked = 0;
  private tokens = 0;
  // iputils keeps CLOCK_MONOTONIC_RAW in whole milliseconds for its token
  // bucket; clock.nowMs() is the same monotonic clock, in ms
  private curTime = -1;
  private startTime = 0;
  private rttAddend = 0;
  private oomCount = 0;
  private exiting = false;
  private finished = false;
  private exitScheduled = false;
  private timer: TimerHandle | null = null;
  /** when the armed timer fires (clock.nowMs()) */
  private timerDue = 0;
  private exitTimer: TimerHandle | null = null;
  private deadlineTimer: TimerHandle | null = null;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private timeoutScan = 0; // next seq (full) to check for probe timeouts
  /** flood with a method that can read the reply in the send's call (sendHolding) */
  private readonly holding: boolean;
  /** delivering a held reply: its follow-up probe is the running tick()'s to send */
  private inHeld = false;
  /** held replies since the loop last had a turn */
  private heldRun = 0;
  /** compare each reply's data with what was sent (not in flood or quiet mode, as iputils) */
  private readonly checkData: boolean;
  private readonly sentEvent: Extract<PingEvent, { type: 'sent' }> = { type: 'sent', seq: 0, ntransmitted: 0 };
  /** epoch ms at clock.nowMs() zero: send times travel in the data as epoch ms */
  private readonly epochOffsetMs: number;

  constructor(method: ProbeMethod, opts: PingOptions, onEvent: (e: PingEvent) => void) {
    this.method = method;
    this.o = opts;
    this.onEvent = onEvent;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.epochOffsetMs = BASE_MS + this.clock.realRelNs() / 1e6 - this.clock.nowMs();
    this.interval = opts.flood && opts.intervalMs === 0 ? 0 : opts.intervalMs;
    this.data = fillData(opts.dataLen, opts.pattern);
    this.stats.timing = opts.dataLen >= STAMP_BYTES;
    // pinger() rewrites only the send time and the full sequence in the data
    this.probe = { seq: 0, payload: this.data, changed: this.stats.timing ? STAMPED : 0 };
    // iputils checks the echoed data only for the replies it prints a line for
    this.checkData = !opts.quiet && !opts.flood;
    this.stats.showIpg = this.interval === 0 || opts.flood || opts.adaptive;
    this.stats.deadline = opts.deadlineS;
    this.stats.npackets = opts.count;
    this.holding = opts.flood && this.interval === 0 && !opts.adaptive && typeof method.sendHolding === 'function';
  }

  get inFlight(): number {
    // iputils in_flight(): transmitted minus acked, 16-bit
    const diff = (this.stats.ntransmitted - this.acked) & 0xffff;
    return diff <= 0x7fff ? diff : 0;
  }

  start(): void {
    this.method.start((e) => this.onProbeEvent(e));
    this.startTime = this.clock.nowMs();
    if (this.o.deadlineS) this.deadlineTimer = this.timers.setTimeout(() => this.stop(), this.o.deadlineS * 1000);
    this.tick();
  }

  /** SIGINT, the deadline, the linger timer: stop sending and report. */
  stop(): void {
    this.exiting = true;
    this.finish();
  }

  // ---- sending (iputils pinger + main_loop's send part) ----

  private tick(): void {
    if (this.finished) return;
    if (this.checkDone()) return;
    let next: number;
    do {
      next = this.pinger();
      next = this.scheduleExit(next);
      if (this.finished) return;
      if (next <= 0 && this.heldRun >= HELD_BURST) {
        // replies keep coming back inside the sends: let the loop run
        // (SIGINT, -w, stdout) before the next burst
        this.heldRun = 0;
        this.timers.setImmediate(() => this.tick());
        return;
      }
    } while (next <= 0);
    this.heldRun = 0;
    // replies from now on come through the event loop
    if (this.holding) this.method.watchSocket?.();
    // a timer already due by then can stay: firing early only re-runs pinger,
    // and flood mode calls tick() once per reply
    const due = this.clock.nowMs() + next;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.tick();
    }, next);
  }

  private pinger(): number {
    const s = this.stats;
    const o = this.o;
    if (this.exiting || (o.count && s.ntransmitted >= o.count && !o.deadlineS)) return 1000;
    const now = this.clock.nowMs();
    if (this.curTime < 0) {
      this.curTime = now;
      this.tokens = this.interval * (o.preload - 1);
    } else {
      let ntokens = Math.trunc(now - this.curTime);
      if (!this.interval) {
        // unlimited flood: with nothing back, 100 probes a second
        if (ntokens < MININTERVAL && this.inFlight >= o.preload) return MININTERVAL - ntokens;
      }
      ntokens += this.tokens;
      const cap = this.interval * o.preload;
      if (cap < ntokens) ntokens = cap;
      if (ntokens < this.interval) return this.interval - ntokens;
      this.curTime = now;
      this.tokens = ntokens - this.interval;
    }

    if (o.outstanding && s.ntransmitted > 0 && !this.rcvdTest(s.ntransmitted & 0xffff)) {
      this.onEvent({ type: 'no-answer-yet', seq: s.ntransmitted % MAX_DUP_CHK });
    }
    this.scanTimeouts(now);

    const seq = s.ntransmitted + 1;
    const idx = seq & 0xffff;
    this.rcvdClear(idx);
    this.timedOut[idx >> 3] &= ~(1 << (idx & 7));
    this.errored[idx >> 3] &= ~(1 << (idx & 7));
    if (this.stats.timing) {
      // the send time (epoch ms) and the full sequence travel in the data,
      // for replies too late to find their send stamp in the table
      const d = this.data;
      // the double big-endian, byte by byte (writeDoubleBE's method load stayed an IC call in the optimized pinger)
      f64[0] = this.epochOffsetMs + now;
      for (let i = 0; i < 8; i++) d[i] = f64Bytes[LITTLE_ENDIAN ? 7 - i : i];
      d[8] = seq >>> 24;
      d[9] = (seq >>> 16) & 0xff;
      d[10] = (seq >>> 8) & 0xff;
      d[11] = seq & 0xff;
    }
    try {
      const m = this.method;
      this.probe.seq = idx;
      let bytes: number;
      let sent: number;
      let held = false;
      if (this.holding) {
        bytes = m.sendHolding!(this.probe, 0);
        sent = m.lastSendRelNs!;
        held = true;
      } else if (m.sendQuick) {
        bytes = m.sendQuick(this.probe);
        sent = m.lastSendRelNs!;
      } else {
        const r = m.send(this.probe);
        bytes = r.bytes;
        sent = Number(r.realNs - timeBase);
      }
      if (bytes < 0) {
        // socket buffer full (EAGAIN): try again shortly
        this.tokens += this.interval;
        return MININTERVAL;
      }
      this.sentReal[idx] = sent;
      this.sentAt[idx] = now;
      this.sentSeq[idx] = seq | 0;
      this.oomCount = 0;
      this.advanceTransmitted();
      const sentEvent = this.sentEvent;
      sentEvent.seq = idx;
      sentEvent.ntransmitted = s.ntransmitted;
      this.onEvent(sentEvent);
      if (held) {
        this.inHeld = true;
        try {
          if (m.deliverHeld!()) this.heldRun++;
        } finally {
          this.inHeld = false;
        }
        if (this.finished) return 1000;
      }
      return this.interval - this.tokens;
    } catch (e) {
      return this.sendFailed(e);
    }
  }

  private sendFailed(e: unknown): number {
    if (!isSystemError(e)) throw e;
    if (e.code === 'ENOBUFS' || e.code === 'ENOMEM') {
      // device queue overflow: slow down (adaptive mode), give up after the linger time
      this.tokens = 0;
      this.rttAddend += this.stats.rtt < 8 * 50000 ? this.stats.rtt / 8 : 50000;
      if (this.o.adaptive) this.updateInterval();
      const nores = Math.min(schint(this.interval / 2), 500);
      this.oomCount++;
      if (this.oomCount * nores < this.o.lingerMs) return nores;
    }
    // a hard local error: count the probe as sent. EMSGSIZE and friends also
    // queue an IP_RECVERR entry, which arrives as a local-error event.
    this.advanceTransmitted();
    if (e.code !== 'EMSGSIZE') this.onEvent({ type: 'send-error', error: e });
    this.tokens = 0;
    return schint(this.interval);
  }

  private advanceTransmitted(): void {
    this.stats.ntransmitted++;
    // invalidate acked when the 16-bit sequence wraps
    if (((this.stats.ntransmitted - this.acked) & 0xffff) > 0x7fff) this.acked = (this.stats.ntransmitted + 1) & 0xffff;
  }

  /** iputils schedule_exit: once the last probe is out, wait 2 rtt (or the linger) and stop. */
  private scheduleExit(next: number): number {
    const o = this.o;
    if (!(o.count && this.stats.ntransmitted >= o.count && !o.deadlineS)) return next;
    if (this.exitScheduled) return next;
    this.exitScheduled = true;
    let waitUs: number;
    if (this.stats.nreceived) {
      waitUs = 2 * this.stats.tmax;
      if (waitUs < 1000 * this.interval) waitUs = 1000 * this.interval;
    } else {
      waitUs = o.lingerMs * 1000;
    }
    if (next < 0 || next < waitUs / 1000) next = Math.trunc(waitUs / 1000);
    this.exitTimer = this.timers.setTimeout(() => this.stop(), waitUs / 1000);
    return next;
  }

  private updateInterval(): void {
    const est = this.stats.rtt ? this.stats.rtt / 8 : this.interval * 1000;
    this.interval = Math.trunc((est + this.rttAddend + 500) / 1000);
    if (!this.o.privileged && this.interval < MINUSERINTERVAL) this.interval = MINUSERINTERVAL;
  }

  // ---- receiving (iputils parse_reply + gather_statistics) ----

  private onProbeEvent(e: ProbeEvent): void {
    if (this.finished) return;
    switch (e.type) {
      case 'reply':
        this.onReply(e);
        break;
      case 'icmp-error':
        // v4 acknowledges the sequence (pipe size); v6 does not (iputils)
        if (this.method.family === 4) this.acknowledge(e.seq);
        this.errored[(e.seq & 0xffff) >> 3] |= 1 << (e.seq & 7);
        this.stats.nerrors++;
        this.onEvent({ type: 'icmp-error', seq: e.seq, from: e.from, icmpType: e.icmpType, icmpCode: e.icmpCode, mtu: e.mtu });
        break;
      case 'icmp-notice':
        this.onEvent({ type: 'icmp-notice', seq: e.seq, from: e.from, icmpType: e.icmpType, icmpCode: e.icmpCode, gateway: e.gateway });
        break;
      case 'local-error':
        if (!this.o.quiet) this.stats.nerrors++;
        this.onEvent({ type: 'local-error', errno: e.errno, code: e.code, info: e.info, counted: !this.o.quiet });
        break;
    }
    if (this.checkDone()) return;
    // a reply read by the send itself: the tick() sending is already looping
    if (this.inHeld) return;
    // flood and preload: the next probe goes as soon as there is room; -A:
    // iputils' main loop re-runs pinger after each reply, so the adapted
    // interval counts from the reply that changed it
    if ((this.interval === 0 && this.inFlight < this.o.preload) || this.o.adaptive) this.tick();
  }

  private onReply(e: Extract<ProbeEvent, { type: 'reply' }>): void {
    const s = this.stats;
    const seq = e.seq;
    s.nreceived++;
    const csfailed = !e.checksumOk;
    if (!csfailed) this.acknowledge(seq);

    let rttUs: number | undefined;
    let clockWentBack: number | undefined;
    const data = e.data ?? NO_DATA;
    if (s.timing && e.bytes >= 8 + STAMP_BYTES && data.length >= STAMP_BYTES) {
      const fullSeq = (data[8] << 24) | (data[9] << 16) | (data[10] << 8) | data[11];
      // the stamp taken just before sendto(2); the one in the data for a
      // reply so late its slot was reused
      const rx = e.rxRelNs ?? this.clock.realRelNs();
      rttUs = this.sentSeq[seq] === fullSeq ? Math.trunc((rx - this.sentReal[seq]) / 1000) : Math.trunc((BASE_MS + rx / 1e6 - data.readDoubleBE(0)) * 1000);
      if (rttUs < 0) {
        clockWentBack = rttUs;
        rttUs = 0;
      }
      if (!csfailed) {
        s.tsum += rttUs;
        s.tsum2 += rttUs * rttUs;
        if (rttUs < s.tmin) s.tmin = rttUs;
        if (rttUs > s.tmax) s.tmax = rttUs;
        if (!s.rtt) s.rtt = rttUs * 8;
        else s.rtt += rttUs - Math.trunc(s.rtt / 8);
        if (this.o.adaptive) this.updateInterval();
      }
    }

    let dup = false;
    if (csfailed) {
      s.nchecksum++;
      s.nreceived--;
    } else if (this.rcvdTest(seq)) {
      s.nrepeats++;
      s.nreceived--;
      dup = true;
    } else {
      this.rcvdSet(seq);
    }

    const truncated = e.bytes < this.o.dataLen + 8;
    let mismatch: DataMismatch | undefined;
    if (!truncated && this.checkData) {
      const sent = this.data;
      const end = Math.min(this.o.dataLen, data.length);
      for (let i = STAMP_BYTES; i < end; i++) {
        if (data[i] !== sent[i]) {
          mismatch = { index: i, expected: this.data[i], actual: data[i], received: Buffer.from(data.subarray(STAMP_BYTES, this.o.dataLen)) };
          break;
        }
      }
    }
    const late = (this.timedOut[seq >> 3] & (1 << (seq & 7))) !== 0;
    this.onEvent({
      type: 'reply',
      seq,
      from: e.from,
      bytes: e.bytes,
      ttl: e.ttl,
      rttUs,
      dup,
      checksumOk: !csfailed,
      truncated,
      late,
      // (iputils does not compare a node information reply's source: a name subject may be anyone's)
      wrongSource: !this.o.multicast && !e.nodeInfo && e.from !== this.method.target,
      mismatch,
      clockWentBack,
      ipOptions: e.ipOptions && Buffer.from(e.ipOptions),
      nodeInfo: e.nodeInfo && Buffer.from(e.nodeInfo),
    });
  }

  private acknowledge(seq: number): void {
    const diff = (this.stats.ntransmitted - seq) & 0xffff;
    if (diff <= 0x7fff) {
      if (diff + 1 > this.stats.pipesize) this.stats.pipesize = diff + 1;
      const ahead = ((seq - this.acked) << 16) >> 16; // int16_t(seq - acked)
      if (ahead > 0 || ((this.stats.ntransmitted - this.acked) & 0xffff) > 0x7fff) this.acked = seq;
    }
  }

  private rcvdTest(seq: number): boolean {
    const b = seq % MAX_DUP_CHK;
    return (this.rcvd[b >> 3] & (1 << (b & 7))) !== 0;
  }

  private rcvdSet(seq: number): void {
    const b = seq % MAX_DUP_CHK;
    this.rcvd[b >> 3] |= 1 << (b & 7);
  }

  private rcvdClear(seq: number): void {
    const b = seq % MAX_DUP_CHK;
    this.rcvd[b >> 3] &= ~(1 << (b & 7));
  }

  /** Report probes unanswered for longer than the probe timeout (once each). */
  private scanTimeouts(now: number | null): void {
    const limit = this.o.probeTimeoutMs ?? this.o.lingerMs;
    const last = this.stats.ntransmitted;
    while (this.timeoutScan < last) {
      const full = this.timeoutScan + 1;
      const idx = full & 0xffff;
      if (this.sentSeq[idx] === (full | 0)) {
        if (now !== null && now - this.sentAt[idx] < limit) break;
        if (!this.rcvdTest(idx) && !(this.errored[idx >> 3] & (1 << (idx & 7)))) {
          this.timedOut[idx >> 3] |= 1 << (idx & 7);
          this.onEvent({ type: 'timeout', seq: idx });
        }
      }
      this.timeoutScan++;
    }
  }

  // ---- ending ----

  private checkDone(): boolean {
    const s = this.stats;
    const o = this.o;
    if (this.exiting || (o.count && s.nreceived + s.nerrors >= o.count) || (o.deadlineS && s.nerrors)) {
      this.finish();
      return true;
    }
    return false;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of [this.timer, this.exitTimer, this.deadlineTimer]) if (t) this.timers.clearTimeout(t);
    this.method.close();
    this.scanTimeouts(null);
    const s = this.stats;
    // iputils: "time" runs from setup to the last send decision
    const end = this.curTime < 0 ? this.startTime : this.curTime;
    s.elapsedUs = Math.trunc((end - this.startTime) * 1000);
    s.elapsedMs = Math.trunc(end - this.startTime + 0.5);
    this.onEvent({ type: 'done', stats: s });
  }
}

const NO_DATA = Buffer.alloc(0);
/** scratch for the send time's bytes */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** native timeBase in epoch milliseconds, for send times carried in the data */
const BASE_MS = Number(timeBase) / 1e6;

/** iputils SCHINT: intervals below MININTERVAL count as MININTERVAL. */
function schint(ms: number): number {
  return Math.max(ms, MININTERVAL);
}
