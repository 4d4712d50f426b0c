// The fleet engine (fping's) on a scripted clock and a scripted fleet socket
// (the FleetMethod interface, not a kernel mock): fping's schedule (-i
// between any two sends, -p per target, -t, -r with -B backoff), matching by
// sequence, dups, late replies, errors, loop mode, add/remove and the end.
import { describe, expect, it } from 'vitest';
import { Fleet, type FleetEvent, type FleetMethod, type FleetOptions, type FleetTargetSpec } from '../../src/stack/ping/index.js';
import type { Family, Probe, ProbeEvent } from '../../src/stack/probe/index.js';
import type { SendResult } from '../../src/stack/socket.js';
import type { Timers } from '../../src/stack/clock.js';
import { ScriptedTime } from '../helpers/scripted-time.js';

/** How the scripted network answers the nth ping (1-based) to `to`: an rtt in ms, several (duplicates), or none. */
type Answer = (to: string, nth: number, seq: number) => number | number[] | null;

class ScriptedFleetSocket implements FleetMethod {
  readonly name = 'scripted';
  readonly mechanism = 'scripted socket';
  readonly unprivileged = true;
  readonly target = '';
  readonly headerBytes = 8;
  readonly sent: { seq: number; to: string; at: number }[] = [];
  closed = false;
  lastSendRelNs = 0;
  /** throw this (once per address) instead of sending */
  failFor = new Map<string, Error>();
  private onEvent?: (e: ProbeEvent) => void;
  private readonly nth = new Map<string, number>();

  constructor(
    readonly family: Family,
    private readonly time: ScriptedTime,
    private readonly answer: Answer,
  ) {}

  send(): SendResult {
    throw new Error('a fleet sends with sendTo');
  }
  sendTo(p: Probe, to: string): SendResult {
    const bytes = this.sendQuickTo(p, to);
    return { bytes, monoNs: this.time.monoNs(), realNs: this.time.realNs() };
  }
  sendQuickTo(p: Probe, to: string): number {
    const fail = this.failFor.get(to);
    if (fail) throw fail;
    const seq = p.seq;
    const n = (this.nth.get(to) ?? 0) + 1;
    this.nth.set(to, n);
    this.sent.push({ seq, to, at: this.time.now });
    this.lastSendRelNs = this.time.realRelNs();
    const bytes = 8 + p.payload.length;
    const rtts = this.answer(to, n, seq);
    for (const rtt of rtts === null ? [] : Array.isArray(rtts) ? rtts : [rtts]) {
      this.time.setTimeout(() => {
        if (!this.closed) this.onEvent?.({ type: 'reply', seq, from: to, ttl: 64, rxRelNs: this.time.realRelNs(), bytes, checksumOk: true });
      }, rtt);
    }
    return bytes;
  }
  /** deliver an ICMP event now, as the socket would */
  deliver(e: ProbeEvent): void {
    this.onEvent?.(e);
  }
  start(onEvent: (e: ProbeEvent) => void): void {
    this.onEvent = onEvent;
  }
  ref(): void {}
  close(): void {
    this.closed = true;
  }
}

const v4 = (...addrs: string[]): FleetTargetSpec[] => addrs.map((address) => ({ address, family: 4 as const }));

/** Timers on `time` that fire late: always `lateMs`, or as much as lateMs(n) says for the nth timer armed (from 0). */
const lateTimers = (time: ScriptedTime, lateMs: number | ((n: number) => number)): Timers => {
  let n = 0;
  return {
    setTimeout: (fn, ms) => time.setTimeout(fn, ms + (typeof lateMs === 'number' ? lateMs : lateMs(n++))),
    clearTimeout: (t) => time.clearTimeout(t),
    setImmediate: (fn) => time.setImmediate(fn),
  };
};

function fleet(
  targets: FleetTargetSpec[],
  opts: FleetOptions & { lateMs?: number | ((n: number) => number) },
  answer: Answer,
  setup?: (s: Map<Family, ScriptedFleetSocket>) => void,
) {
  // the ns clocks start at 1 s (a zero stamp is no stamp)
  const time = new ScriptedTime(1000);
  const sockets = new Map<Family, ScriptedFleetSocket>();
  const events: (FleetEvent & { at: number })[] = [];
  const f = new Fleet(
    targets,
    {
      ...opts,
      clock: time,
      timers: opts.lateMs ? lateTimers(time, opts.lateMs) : time,
      open: (family) => {
        const s = new ScriptedFleetSocket(family, time, answer);
        sockets.set(family, s);
        return s;
      },
    },
    (e) => events.push({ ...e, at: time.now }),
  );
  setup?.(sockets);
  return {
    f,
    time,
    sockets,
    events,
    of: <T extends FleetEvent['type']>(type: T) => events.filter((e) => e.type === type) as (Extract<FleetEvent, { type: T }> & { at: number })[],
    run(limit = 600_000) {
      f.start();
      time.runUntil(limit);
      return this;
    },
  };
}

describe('Fleet on scripted time', () => {
  it('count mode: first pings -i apart, the next ones -p after the last was due; ends on the last reply', () => {
    const r = fleet(v4('192.0.2.1', '192.0.2.2', '192.0.2.3'), { count: 2, intervalMs: 10, periodMs: 1000 }, () => 5).run();
    const s4 = r.sockets.get(4)!;
    expect(s4.sent.map((s) => [s.to, s.at])).toEqual([
      ['192.0.2.1', 0],
      ['192.0.2.2', 10],
      ['192.0.2.3', 20],
      ['192.0.2.1', 1000],
      ['192.0.2.2', 1010],
      ['192.0.2.3', 1020],
    ]);
    // one sequence space per socket, 0 upward, mapping back to target and index
    expect(r.of('sent').map((e) => [e.target, e.index, e.seq])).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [2, 0, 2],
      [0, 1, 3],
      [1, 1, 4],
      [2, 1, 5],
    ]);
    const replies = r.of('reply');
    expect(replies.map((e) => [e.target, e.index, e.rttNs, e.dup, e.late, e.bytes, e.ttl])).toEqual([
      [0, 0, 5e6, false, false, 64, 64],
      [1, 0, 5e6, false, false, 64, 64],
      [2, 0, 5e6, false, false, 64, 64],
      [0, 1, 5e6, false, false, 64, 64],
      [1, 1, 5e6, false, false, 64, 64],
      [2, 1, 5e6, false, false, 64, 64],
    ]);
    expect(r.of('timeout')).toEqual([]);
    const done = r.events.at(-1)!;
    expect(done.type).toBe('done');
    expect(done.at).toBe(1025);
    expect(s4.closed).toBe(true);
    expect(r.time.pending).toBe(0);
  });

  it('count mode with many targets: -i holds the pace, later rounds wait their turn behind the first', () => {
    const targets = v4(...Array.from({ length: 150 }, (_, i) => `198.51.100.${i + 1}`));
    const r = fleet(targets, { count: 2, intervalMs: 10, periodMs: 1000, timeoutMs: 1000 }, () => 1).run();
    const at = r.sockets.get(4)!.sent.map((s) => s.at);
    expect(at.length).toBe(300);
    // 300 sends, each 10 ms after the one before: rounds cannot keep -p when -i does not leave room
    expect(at).toEqual(Array.from({ length: 300 }, (_, i) => i * 10));
    // the second round starts when every first ping went, in target order
    expect(
      r
        .of('sent')
        .slice(150, 153)
        .map((e) => [e.target, e.index]),
    ).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
  });

  it('default mode: a silent target is retried -r times, each timeout -B times longer; an answering one once', () => {
    const r = fleet(v4('192.0.2.1', '192.0.2.9'), { intervalMs: 10, timeoutMs: 500, retries: 3, backoff: 1.5 }, (to) => (to === '192.0.2.1' ? 2 : null)).run();
    const s4 = r.sockets.get(4)!;
    expect(s4.sent.filter((s) => s.to === '192.0.2.1').length).toBe(1);
    // retries go at once when the timeout fires: 10, 510, 1260, 2385
    expect(s4.sent.filter((s) => s.to === '192.0.2.9').map((s) => s.at)).toEqual([10, 510, 1260, 2385]);
    expect(r.of('timeout').map((e) => [e.target, e.index, e.at])).toEqual([
      [1, 0, 510],
      [1, 0, 1260],
      [1, 0, 2385],
      [1, 0, 4072.5],
    ]);
    expect(r.events.at(-1)).toMatchObject({ type: 'done', at: 4072.5 });
    expect(r.f.targets[1]!.sends).toBe(4);
  });

  it('-r 0 and -B 1: one try, no backoff', () => {
    const r = fleet(v4('192.0.2.9'), { timeoutMs: 200, retries: 0, backoff: 1 }, () => null).run();
    expect(r.sockets.get(4)!.sent.map((s) => s.at)).toEqual([0]);
    expect(r.events.at(-1)).toMatchObject({ type: 'done', at: 200 });
  });

  it('a reply to the first try after its timeout, within the grown one, answers the ping and settles the retry', () => {
    // first try answered at 600 ms (after its 500 ms timeout, within the retry's 750); the retry never
    const r = fleet(v4('192.0.2.5'), { timeoutMs: 500, retries: 3, backoff: 1.5 }, (_to, nth) => (nth === 1 ? 600 : null)).run();
    expect(r.sockets.get(4)!.sent.map((s) => s.at)).toEqual([0, 500]);
    expect(r.of('reply').map((e) => [e.seq, e.rttNs, e.late, e.dup])).toEqual([[0, 600e6, false, false]]);
    expect(r.events.at(-1)).toMatchObject({ type: 'done', at: 600 });
    // the timeout goes back to -t after a reply
    expect(r.f.targets[0]!.timeoutMs).toBe(500);
  });

  it('late replies (over the timeout) and duplicates are reported as such, not as answers', () => {
    // (a late reply is seen only while the fleet still runs: here, waiting for the second round)
    const r = fleet(v4('192.0.2.1', '192.0.2.2'), { count: 2, timeoutMs: 100 }, (to, nth) => (to === '192.0.2.1' ? [3, 4] : nth === 1 ? 150 : 5)).run();
    const replies = r.of('reply');
    expect(replies.map((e) => [e.target, e.index, e.rttNs / 1e6, e.dup, e.late])).toEqual([
      [0, 0, 3, false, false],
      [0, 0, 4, true, false],
      [1, 0, 150, false, true],
      [0, 1, 3, false, false],
      [0, 1, 4, true, false],
      [1, 1, 5, false, false],
    ]);
    expect(r.of('timeout').map((e) => [e.target, e.index])).toEqual([[1, 0]]);
  });

  it('matching is by sequence: a reply for a sequence never sent, or too old, is not ours', () => {
    const r = fleet(v4('192.0.2.1'), { count: 1, timeoutMs: 100 }, () => null);
    r.f.start();
    r.sockets.get(4)!.deliver({ type: 'reply', seq: 77, from: '192.0.2.1', bytes: 64, checksumOk: true, rxRelNs: r.time.realRelNs() });
    r.time.runUntil(50);
    r.sockets.get(4)!.deliver({ type: 'reply', seq: 0, from: '203.0.113.7', bytes: 64, checksumOk: true, rxRelNs: r.time.realRelNs() });
    r.time.runUntil(1000);
    // the reply to seq 0 counts whoever sent it; the command notes the other source
    expect(r.of('reply').map((e) => [e.seq, e.from, e.rttNs])).toEqual([[0, '203.0.113.7', 50e6]]);
    expect(r.events.at(-1)).toMatchObject({ type: 'done', at: 50 });
  });

  it('ICMP errors map to the target their quote was sent to; the ping still times out', () => {
    const r = fleet(v4('192.0.2.1', '192.0.2.2'), { count: 1, intervalMs: 10, timeoutMs: 300 }, () => null);
    r.f.start();
    r.time.runUntil(20);
    const s = r.sockets.get(4)!;
    s.deliver({ type: 'icmp-error', seq: 1, from: '192.0.2.254', icmpType: 3, icmpCode: 1, mtu: 0, reached: false, to: '192.0.2.2' });
    // a quote naming another destination than the sequence's is not about our ping
    s.deliver({ type: 'icmp-error', seq: 0, from: '192.0.2.254', icmpType: 3, icmpCode: 1, mtu: 0, reached: false, to: '192.0.2.77' });
    s.deliver({ type: 'icmp-notice', seq: 0, from: '192.0.2.254', icmpType: 5, icmpCode: 1, gateway: '192.0.2.253', to: '192.0.2.1' });
    s.deliver({ type: 'local-error', seq: 0, errno: 90, code: 'EMSGSIZE', info: 1400 });
    r.time.runUntil(10_000);
    expect(r.of('error').map((e) => [e.kind, e.target, e.index, e.from, e.icmpType, e.icmpCode, e.code])).toEqual([
      ['icmp', 1, 0, '192.0.2.254', 3, 1, undefined],
      ['notice', 0, 0, '192.0.2.254', 5, 1, undefined],
      ['local', 0, 0, undefined, undefined, undefined, 'EMSGSIZE'],
    ]);
    expect(r.of('timeout').map((e) => [e.target, e.at])).toEqual([
      [0, 300],
      [1, 310],
    ]);
  });

  it("a failed send is an error, with no timeout and no retry (fping's RESP_ERROR)", () => {
    const unreachable = Object.assign(new Error('sendto EHOSTUNREACH: No route to host'), { code: 'EHOSTUNREACH', errno: -113, syscall: 'sendto' });
    const r = fleet(
      v4('192.0.2.1', '203.0.113.1'),
      { timeoutMs: 100 },
      () => 1,
      (s) => s.get(4)!.failFor.set('203.0.113.1', unreachable),
    ).run();
    expect(r.of('error').map((e) => [e.kind, e.target, e.code])).toEqual([['send', 1, 'EHOSTUNREACH']]);
    expect(r.of('sent').map((e) => e.target)).toEqual([0, 1]);
    expect(r.of('timeout')).toEqual([]);
    expect(r.events.at(-1)).toMatchObject({ type: 'done', at: 10 });
  });

  it('both families: one socket each, each with its own sequence space', () => {
    const targets: FleetTargetSpec[] = [
      { address: '192.0.2.1', family: 4 },
      { address: '2001:db8::1', family: 6 },
      { address: '192.0.2.2', family: 4 },
    ];
    const r = fleet(targets, { count: 1 }, () => 1).run();
    expect(r.sockets.get(4)!.sent.map((s) => [s.to, s.seq])).toEqual([
      ['192.0.2.1', 0],
      ['192.0.2.2', 1],
    ]);
    expect(r.sockets.get(6)!.sent.map((s) => [s.to, s.seq])).toEqual([['2001:db8::1', 0]]);
    expect(r.of('reply').map((e) => e.target)).toEqual([0, 1, 2]);
    expect(r.f.mechanism(6)).toBe('scripted socket');
  });

  it('loop mode runs until stop(); targets may be added and removed while it runs', () => {
    const r = fleet(v4('192.0.2.1'), { loop: true, periodMs: 1000, intervalMs: 10, timeoutMs: 500 }, (to) => (to === '192.0.2.3' ? null : 2));
    r.f.start();
    r.time.runUntil(2500);
    const added = r.f.add({ address: '192.0.2.3', family: 4 });
    expect(added).toBe(1);
    r.time.runUntil(4000);
    r.f.remove(0);
    r.time.runUntil(6000);
    r.f.stop();
    const sent = r.sockets.get(4)!.sent.map((s) => [s.to, s.at]);
    expect(sent).toEqual([
      ['192.0.2.1', 0],
      ['192.0.2.1', 1000],
      ['192.0.2.1', 2000],
      ['192.0.2.3', 2500],
      ['192.0.2.1', 3000],
      ['192.0.2.3', 3500],
      ['192.0.2.1', 4000],
      ['192.0.2.3', 4500],
      ['192.0.2.3', 5500],
    ]);
    // indexes count up per target; in loop mode there is no retry
    expect(r.of('timeout').map((e) => [e.target, e.index, e.at])).toEqual([
      [1, 0, 3000],
      [1, 1, 4000],
      [1, 2, 5000],
      [1, 3, 6000],
    ]);
    expect(r.events.at(-1)).toMatchObject({ type: 'done', at: 6000 });
    expect(r.time.pending).toBe(0);
  });

  it('-i is kept on average when timers wake late: 100 sends take 99 intervals, never less than a tenth of one apart', () => {
    const targets = v4(...Array.from({ length: 100 }, (_, i) => `198.51.100.${i + 1}`));
    const r = fleet(targets, { count: 1, intervalMs: 10, timeoutMs: 100, lateMs: 0.7 }, () => 1).run();
    const at = r.sockets.get(4)!.sent.map((s) => s.at);
    expect(at.length).toBe(100);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
    expect(at.at(-1)!).toBeLessThanOrEqual(990 + 1);
    // the third timer 25 ms late (the process was not scheduled): the sends due by then go a tenth of -i apart, then the pace again
    const stalled = fleet(targets.slice(0, 10), { count: 1, intervalMs: 10, timeoutMs: 100, lateMs: (n) => (n === 2 ? 25 : 0) }, () => 1).run();
    expect(stalled.sockets.get(4)!.sent.map((s) => s.at)).toEqual([0, 10, 20, 55, 56, 57, 60, 70, 80, 90]);
  });
});
