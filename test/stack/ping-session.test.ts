// PingSession on a scripted clock and a scripted probe method (the
// ProbeMethod interface, not a kernel mock): iputils' scheduling, ending
// rules, statistics and exit status, without waiting on the wall clock.
import { describe, expect, it } from 'vitest';
import { type PingEvent, type PingOptions, PingSession } from '../../src/stack/ping/index.js';
import type { Probe, ProbeEvent, ProbeMethod } from '../../src/stack/probe/index.js';
import type { SendResult } from '../../src/stack/socket.js';
import { ScriptedTime } from '../helpers/scripted-time.js';

/** How the scripted network answers probe number `seq` (1-based): an rtt in ms, several (duplicates), or none. */
type Answer = (seq: number) => number | number[] | null;

/** A ProbeMethod whose network is a script on the scripted clock. */
class ScriptedMethod implements ProbeMethod {
  readonly name = 'scripted';
  readonly family = 4 as const;
  readonly mechanism = 'scripted';
  readonly unprivileged = true;
  readonly target = '192.0.2.1';
  readonly headerBytes = 28;
  readonly sent: { seq: number; at: number }[] = [];
  /** each probe's promise of how much of its data changed (Probe.changed) */
  readonly changed: (number | undefined)[] = [];
  /** each probe's data as sent */
  readonly payloads: Buffer[] = [];
  closed = false;
  private onEvent?: (e: ProbeEvent) => void;
  private count = 0;

  constructor(
    private readonly time: ScriptedTime,
    private readonly answer: Answer,
    private readonly from = '192.0.2.1',
    /** what the network does to the echoed data (a flipped byte ...) */
    private readonly mangle?: (data: Buffer) => void,
  ) {}

  send(p: Probe): SendResult {
    const n = ++this.count;
    this.sent.push({ seq: p.seq, at: this.time.now });
    this.changed.push(p.changed);
    // the session reuses its probe object: keep this one's sequence and data
    const seq = p.seq;
    const data = Buffer.from(p.payload);
    this.payloads.push(data);
    const echoed = Buffer.from(data);
    this.mangle?.(echoed);
    const rtts = this.answer(n);
    for (const rtt of rtts === null ? [] : Array.isArray(rtts) ? rtts : [rtts]) {
      this.time.setTimeout(() => {
        if (this.closed) return;
        this.onEvent?.({
          type: 'reply',
          seq,
          from: this.from,
          ttl: 64,
          rxRelNs: this.time.realRelNs(),
          bytes: 8 + data.length,
          data: echoed,
          checksumOk: true,
        });
      }, rtt);
    }
    return { bytes: 8 + data.length, monoNs: this.time.monoNs(), realNs: this.time.realNs() };
  }
  start(onEvent: (e: ProbeEvent) => void): void {
    this.onEvent = onEvent;
  }
  /** an ICMP error about probe `seq`, now */
  error(seq: number): void {
    this.onEvent?.({ type: 'icmp-error', seq, from: '198.51.100.1', icmpType: 11, icmpCode: 0, mtu: 0, reached: false });
  }
  ref(): void {}
  close(): void {
    this.closed = true;
  }
}

const BASE: PingOptions = {
  count: 0,
  intervalMs: 1000,
  flood: false,
  preload: 1,
  deadlineS: 0,
  lingerMs: 10_000,
  dataLen: 56,
  adaptive: false,
  outstanding: false,
  privileged: true,
  quiet: false,
};

/** Run a session to its end (or `limit` ms) on scripted time. */
function ping(opts: Partial<PingOptions>, answer: Answer, limit = 600_000, mangle?: (data: Buffer) => void) {
  const time = new ScriptedTime();
  const method = new ScriptedMethod(time, answer, undefined, mangle);
  const events: PingEvent[] = [];
  const session = new PingSession(method, { ...BASE, ...opts, clock: time, timers: time }, (e) => events.push(e));
  session.start();
  time.runUntil(limit);
  const done = events.find((e) => e.type === 'done');
  return { time, method, events, session, stats: session.stats, done, of: (type: PingEvent['type']) => events.filter((e) => e.type === type) };
}

describe('PingSession on scripted time', () => {
  it("-c 3 -i 1: probes at 0, 1, 2 s; ends on the third reply; iputils' statistics and status 0", () => {
    const r = ping({ count: 3 }, () => 10);
    expect(r.method.sent).toEqual([
      { seq: 1, at: 0 },
      { seq: 2, at: 1000 },
      { seq: 3, at: 2000 },
    ]);
    expect(r.done).toBeDefined();
    expect(r.time.now).toBe(600_000); // nothing kept running: the clock ran out with no timer left
    expect(r.time.pending).toBe(0);
    expect(r.method.closed).toBe(true);
    const s = r.stats;
    expect({ tx: s.ntransmitted, rx: s.nreceived, dup: s.nrepeats, err: s.nerrors }).toEqual({ tx: 3, rx: 3, dup: 0, err: 0 });
    expect(s.rttSummary()).toEqual({ min: 10_000, avg: 10_000, max: 10_000, mdev: 0 });
    // "time" runs from the start to the last send decision: 2000 ms
    expect(s.elapsedMs).toBe(2000);
    expect(s.exitCode).toBe(0);
    expect(r.of('reply').map((e) => (e as { rttUs?: number }).rttUs)).toEqual([10_000, 10_000, 10_000]);
  });

  it('puts the send time (epoch ms, a big-endian double) and the full sequence (big-endian uint32) at the start of the data', () => {
    const r = ping({ count: 3, intervalMs: 250 }, () => 5);
    const sends = r.method.payloads.map((d) => ({ ms: d.readDoubleBE(0), seq: d.readUInt32BE(8) }));
    expect(sends.map((x) => x.seq)).toEqual([1, 2, 3]);
    // 250 ms apart in epoch milliseconds, as the probes were
    expect(sends[1]!.ms - sends[0]!.ms).toBeCloseTo(250, 6);
    expect(sends[2]!.ms - sends[1]!.ms).toBeCloseTo(250, 6);
    expect(sends[0]!.ms).toBeGreaterThan(1.5e12); // an epoch time, not a monotonic one
  });

  it('promises the method that only the stamp and sequence (12 bytes) change from probe to probe, and keeps the promise', () => {
    const r = ping({ count: 4, intervalMs: 100 }, () => 5);
    expect(r.method.changed).toEqual([12, 12, 12, 12]);
    for (const d of r.method.payloads.slice(1)) expect(d.subarray(12).equals(r.method.payloads[0]!.subarray(12))).toBe(true);
    // too short for a stamp: nothing changes
    expect(ping({ count: 2, intervalMs: 100, dataLen: 8 }, () => 5).method.changed).toEqual([0, 0]);
  });

  it('checks the echoed data only where iputils prints a reply line: not with -f, not with -q', () => {
    const flip = (d: Buffer) => {
      d[20] ^= 0xff;
    };
    const shown = ping({ count: 2, intervalMs: 100 }, () => 5, undefined, flip);
    const m = shown.of('reply').map((e) => (e as { mismatch?: { index: number; expected: number; actual: number } }).mismatch);
    expect(m).toHaveLength(2);
    expect(m[0]).toMatchObject({ index: 20, expected: shown.method.payloads[0]![20], actual: shown.method.payloads[0]![20]! ^ 0xff });
    for (const opts of [{ flood: true, intervalMs: 0 }, { quiet: true }]) {
      const r = ping({ count: 2, intervalMs: 100, ...opts }, () => 5, undefined, flip);
      expect(r.of('reply')).toHaveLength(2);
      expect(r.of('reply').every((e) => (e as { mismatch?: unknown }).mismatch === undefined)).toBe(true);
    }
  });

  it('mdev and the ewma as iputils computes them (integer microseconds, llsqrt)', () => {
    const rtts = [10, 20, 45];
    const r = ping({ count: 3, intervalMs: 100 }, (n) => rtts[n - 1]!);
    // avg (10000+20000+45000)/3 = 25000; var = (10000²+20000²+45000²)/3 - 25000² = 216666666 (integer division)
    // llsqrt(216666666) = 14719
    expect(r.stats.rttSummary()).toEqual({ min: 10_000, avg: 25_000, max: 45_000, mdev: 14_719 });
    // rtt (x8): 80000, then += rtt - rtt/8: 80000 + 20000 - 10000 = 90000, + 45000 - 11250 = 123750
    expect(r.stats.rtt).toBe(123_750);
  });

  it('-c 2 with no answer: the last probe waits -W (linger), then the run ends with status 1 and a timeout for each', () => {
    const r = ping({ count: 2, lingerMs: 500 }, () => null);
    expect(r.method.sent.map((p) => p.at)).toEqual([0, 1000]);
    expect(r.of('done')).toHaveLength(1);
    expect(r.of('timeout').map((e) => (e as { seq: number }).seq)).toEqual([1, 2]);
    expect(r.stats.exitCode).toBe(1);
    expect(r.stats.lossPercent).toBe(100);
    // once the last probe is out, schedule_exit waits the linger: the end is 1500 ms
    const end = new ScriptedTime();
    const m = new ScriptedMethod(end, () => null);
    let at = -1;
    new PingSession(m, { ...BASE, count: 2, lingerMs: 500, clock: end, timers: end }, (e) => {
      if (e.type === 'done') at = end.now;
    }).start();
    end.runUntil(10_000);
    expect(at).toBe(1500);
  });

  it('-c 2 with replies: after the last probe it waits 2 x the longest rtt, at least an interval', () => {
    let at = -1;
    const time = new ScriptedTime();
    // the second reply never comes: the exit waits max(2 x 30 ms, 1000 ms) after the second probe
    const m = new ScriptedMethod(time, (n) => (n === 1 ? 30 : null));
    new PingSession(m, { ...BASE, count: 2, clock: time, timers: time }, (e) => {
      if (e.type === 'done') at = time.now;
    }).start();
    time.runUntil(60_000);
    expect(at).toBe(2000);
  });

  it('-w 3: stops at the deadline whatever came back; short of -c the status is 1, with no -c it is 0', () => {
    const r = ping({ deadlineS: 3 }, () => 5);
    expect(r.method.sent.map((p) => p.at)).toEqual([0, 1000, 2000]);
    expect(r.stats.nreceived).toBe(3);
    expect(r.stats.exitCode).toBe(0);
    const short = ping({ deadlineS: 3, count: 5 }, () => 5);
    expect(short.stats.ntransmitted).toBe(3);
    expect(short.stats.exitCode).toBe(1);
    // with a deadline, an ICMP error ends the run (iputils: deadline && nerrors)
    const time = new ScriptedTime();
    const m = new ScriptedMethod(time, () => null);
    const s = new PingSession(m, { ...BASE, deadlineS: 10, clock: time, timers: time }, () => {});
    s.start();
    time.runUntil(1500);
    m.error(2);
    expect(s.stats.nerrors).toBe(1);
    expect(m.closed).toBe(true);
    expect(s.stats.exitCode).toBe(1);
  });

  it('-l 3: three probes at once, then one per interval', () => {
    const r = ping({ count: 5, preload: 3 }, () => 10);
    expect(r.method.sent.map((p) => p.at)).toEqual([0, 0, 0, 1000, 2000]);
    expect(r.stats.pipesize).toBe(3);
  });

  it('-A: the interval follows the smoothed rtt (plus half a millisecond), from the reply that changed it; 2 ms for users', () => {
    const root = ping({ count: 4, adaptive: true, intervalMs: 1000 }, () => 40);
    // after the first reply (at 40 ms) the interval is (40000 + 500) / 1000 = 40 ms
    expect(root.method.sent.map((p) => p.at)).toEqual([0, 40, 80, 120]);
    const user = ping({ count: 4, adaptive: true, privileged: false, intervalMs: 1000 }, () => 0.5);
    // (500 us + 500) / 1000 = 1 ms, below the 2 ms floor for users: the token bucket
    // (whole ms) sends 2 ms after the first reply, then every 2 ms
    expect(user.method.sent.map((p) => p.at)).toEqual([0, 2.5, 4.5, 6.5]);
  });

  it('duplicates: flagged, counted apart (+N duplicates), not as received', () => {
    const r = ping({ count: 2, intervalMs: 100 }, (n) => (n === 1 ? [5, 6] : 5));
    const replies = r.of('reply') as Extract<PingEvent, { type: 'reply' }>[];
    expect(replies.map((e) => [e.seq, e.dup])).toEqual([
      [1, false],
      [1, true],
      [2, false],
    ]);
    expect({ rx: r.stats.nreceived, dup: r.stats.nrepeats }).toEqual({ rx: 2, dup: 1 });
    // the duplicate's rtt counts in the average (iputils divides by nreceived + nrepeats)
    expect(r.stats.rttSummary()).toMatchObject({ min: 5000, max: 6000, avg: 5333 });
  });

  it("loss and the lost probe's late reply: the summary as iputils counts it", () => {
    const r = ping({ count: 4, intervalMs: 100, lingerMs: 50 }, (n) => (n === 2 ? null : 10));
    expect(r.stats.ntransmitted).toBe(4);
    expect(r.stats.nreceived).toBe(3);
    expect(r.stats.lossPercent).toBe(25);
    expect(r.stats.exitCode).toBe(0);
  });

  it('stop() (SIGINT) ends a run with no -c at once, with the statistics so far', () => {
    const time = new ScriptedTime();
    const m = new ScriptedMethod(time, () => 10);
    let done: PingEvent | undefined;
    const s = new PingSession(m, { ...BASE, clock: time, timers: time }, (e) => {
      if (e.type === 'done') done = e;
    });
    s.start();
    time.runUntil(3500);
    s.stop();
    expect(done).toBeDefined();
    expect({ tx: s.stats.ntransmitted, rx: s.stats.nreceived, ms: s.stats.elapsedMs }).toEqual({ tx: 4, rx: 4, ms: 3000 });
    expect(s.stats.exitCode).toBe(0);
    expect(time.pending).toBe(0);
  });

  it('-O: "no answer yet" for the previous probe when the next one goes', () => {
    const r = ping({ count: 3, outstanding: true, lingerMs: 100 }, (n) => (n === 1 ? null : 5));
    expect(r.of('no-answer-yet').map((e) => (e as { seq: number }).seq)).toEqual([1]);
  });

  it('-f: a probe per reply, 100 a second when nothing comes back; ipg/ewma shown', () => {
    const r = ping({ count: 5, flood: true, intervalMs: 0 }, () => 1);
    expect(r.method.sent.map((p) => p.at)).toEqual([0, 1, 2, 3, 4]);
    expect(r.stats.ipgEwma()).toEqual({ ipg: 1000, ewma: 1000 });
    const silent = ping({ count: 3, flood: true, intervalMs: 0, lingerMs: 100 }, () => null);
    expect(silent.method.sent.map((p) => p.at)).toEqual([0, 10, 20]);
  });
});
