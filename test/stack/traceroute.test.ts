// The traceroute engine's scheduling and wait rules (traceroute(8) -N, -w
// MAX,HERE,NEAR, -q, -m, -f), driven by a scripted clock and a scripted
// probe method: a path whose hops answer after set delays, in virtual time,
// so every rule is checked to the millisecond without waiting on the wall
// clock.
import { describe, expect, it } from 'vitest';
import { ScriptedTime } from '../helpers/scripted-time.js';
import type { Probe, ProbeEvent, ProbeMethod } from '../../src/stack/probe/index.js';
import type { SendResult } from '../../src/stack/socket.js';
import { type ProbeResult, type TracerouteEvent, type TracerouteOptions, TracerouteSession, annotate, ttl2hops } from '../../src/stack/traceroute.js';

/** the scripted clocks start here (the engine takes a zero stamp for "not sent") */
const ORIGIN_MS = 1_000_000;

/** What the node at TTL `hop` does with probe `index` of the hop: answer after ms, or stay silent (null). */
type Answer = { ms: number; type?: number; code?: number; reply?: boolean; from?: string };
type Script = (hop: number, index: number) => Answer | null;

/** A path of routers as a ProbeMethod: answers come back through the scripted clock's timers. */
class ScriptedPath implements ProbeMethod {
  readonly name = 'scripted';
  readonly family = 4 as const;
  readonly mechanism = 'script';
  readonly unprivileged = true;
  readonly target = '192.0.2.99';
  readonly headerBytes = 28;
  readonly sent: { seq: number; ttl: number; atMs: number; payload: number }[] = [];
  readonly released = new Set<number>();
  private onEvent: ((e: ProbeEvent) => void) | null = null;
  private readonly perHop = new Map<number, number>();
  constructor(
    private readonly script: Script,
    private readonly clock: ScriptedTime,
  ) {}

  send(p: Probe): SendResult {
    const ttl = p.ttl ?? 64;
    const index = this.perHop.get(ttl) ?? 0;
    this.perHop.set(ttl, index + 1);
    this.sent.push({ seq: p.seq, ttl, atMs: this.clock.nowMs(), payload: p.payload.length });
    const a = this.script(ttl, index);
    if (a) {
      this.clock.setTimeout(() => {
        const from = a.from ?? (a.reply ? this.target : `192.0.2.${ttl}`);
        const rxRelNs = this.clock.realRelNs();
        if (a.reply) this.onEvent?.({ type: 'reply', seq: p.seq, from, rxRelNs, bytes: 1, checksumOk: true });
        else
          this.onEvent?.({
            type: 'icmp-error',
            seq: p.seq,
            from,
            icmpType: a.type ?? 11,
            icmpCode: a.code ?? 0,
            mtu: 0,
            rxRelNs,
            ttl: 64 - ttl,
            reached: false,
          });
      }, a.ms);
    }
    return { bytes: p.payload.length, monoNs: this.clock.monoNs(), realNs: this.clock.realNs() };
  }
  start(onEvent: (e: ProbeEvent) => void): void {
    this.onEvent = onEvent;
  }
  release(seq: number): void {
    this.released.add(seq);
  }
  ref(): void {}
  close(): void {
    this.onEvent = null;
  }
}

const OPTS: TracerouteOptions = {
  firstHop: 1,
  maxHops: 30,
  nqueries: 3,
  simProbes: 16,
  wait: { max: 5, here: 3, near: 10 },
  sendWait: 0,
  headerLen: 28,
  dataLen: 32,
  methodBytes: 0,
  mtuDiscovery: false,
  firstSeq: 1,
};

type Printed = ProbeResult & { atMs: number };

/** Run a whole trace in virtual time: what was printed and when, the hop records, the end. */
function trace(script: Script, opts: Partial<TracerouteOptions> = {}, stopAtMs?: number) {
  const clock = new ScriptedTime(ORIGIN_MS);
  const method = new ScriptedPath(script, clock);
  const probes: Printed[] = [];
  const hops: Extract<TracerouteEvent, { type: 'hop' }>[] = [];
  let done: Extract<TracerouteEvent, { type: 'done' }> | undefined;
  const s = new TracerouteSession(
    method,
    { ...OPTS, ...opts },
    (e) => {
      if (e.type === 'probe') probes.push({ ...e.probe, atMs: clock.nowMs() });
      if (e.type === 'hop') hops.push(e);
      if (e.type === 'done') done = e;
    },
    clock,
    clock,
  );
  s.start();
  if (stopAtMs !== undefined) clock.setTimeout(() => s.stop(), stopAtMs);
  clock.run();
  if (!done) throw new Error('the trace did not end');
  return { probes, hops: hops.map((h) => h.hop), hopRecords: hops, done, method, endMs: clock.nowMs() };
}

const cell = (p: ProbeResult) => (p.from === null ? '*' : `${p.from}${p.annotation ? ' ' + p.annotation : ''}`);
const router = (hop: number) => `192.0.2.${hop}`;
/** routers up to `last`, answering after `ms`, then the destination */
const path =
  (last: number, ms = 1): Script =>
  (hop) =>
    hop <= last ? { ms } : { ms, reply: true };

describe('traceroute engine (scripted clock)', () => {
  it('reports hops in order and stops after the hop that reached the destination', () => {
    const r = trace((hop) => (hop < 4 ? { ms: 2 * (5 - hop) } : { ms: 1, reply: true }));
    expect(r.hops).toEqual([1, 2, 3, 4]);
    expect(r.probes.map(cell)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3].map(router).concat(Array(3).fill('192.0.2.99')));
    expect(r.done).toMatchObject({ hops: 4, final: true, reached: true, probesSent: 16 });
    // 16 at once (hops 1..6), all at time 0; the later hops' probes are let go unreported
    expect(r.method.sent.map((s) => s.ttl)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]);
    expect(r.method.sent.every((s) => s.atMs === 0)).toBe(true);
    expect(r.method.released.size).toBe(16);
    // hop 1 answered after 8 ms, but is printed only then; hop 4 (1 ms) waits for hops 1..3
    expect(r.probes.map((p) => p.atMs)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]);
    expect(r.hopRecords.map((h) => h.final)).toEqual([false, false, false, true]);
    // the round trips are the scripted ones, to the ns
    expect(r.probes.map((p) => p.rttMs)).toEqual([8, 8, 8, 6, 6, 6, 4, 4, 4, 1, 1, 1]);
  });

  it("sends traceroute's data: packet length less the headers, and sequences from firstSeq", () => {
    const r = trace(path(1), { firstSeq: 100, dataLen: 32, methodBytes: 8 });
    expect(r.method.sent.slice(0, 3).map((s) => s.seq)).toEqual([100, 101, 102]);
    expect(r.method.sent[0].payload).toBe(24);
  });

  it('-N 1: one probe at a time, each sent when the one before is done', () => {
    const r = trace(path(2, 5), { simProbes: 1 });
    expect(r.method.sent.map((s) => [s.ttl, s.atMs])).toEqual([
      [1, 0],
      [1, 5],
      [1, 10],
      [2, 15],
      [2, 20],
      [2, 25],
      [3, 30],
      [3, 35],
      [3, 40],
    ]);
    expect(r.hops).toEqual([1, 2, 3]);
    expect(r.endMs).toBe(45);
  });

  it('-N 4: at most four unfinished; the fifth goes out as the first comes back', () => {
    const r = trace(path(2, 5), { simProbes: 4 });
    expect(r.method.sent.slice(0, 5).map((s) => [s.ttl, s.atMs])).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [2, 0],
      [2, 5],
    ]);
  });

  it('-w HERE: a lost probe in a hop that answered waits HERE x (that round trip + 1 ms)', () => {
    const r = trace((hop, i) => (hop === 2 && i === 1 ? null : hop < 3 ? { ms: 20 } : { ms: 20, reply: true }));
    expect(r.probes.map(cell)[4]).toBe('*');
    // sent at 0; hop 2's first answer (20 ms) gives it 3 x 21 = 63 ms
    expect(r.probes[4].atMs).toBe(63);
    expect(r.probes[4].rttMs).toBeNull();
  });

  it("-w NEAR: a silent hop waits NEAR x (a later hop's round trip + 1 ms)", () => {
    const r = trace((hop) => (hop === 2 ? null : hop < 3 ? { ms: 5 } : { ms: 5, reply: true }));
    expect(r.probes.map(cell).slice(3, 6)).toEqual(['*', '*', '*']);
    // hop 3 answered in 5 ms: 10 x 6 = 60 ms after the send at 0
    expect(r.probes.slice(3, 6).map((p) => p.atMs)).toEqual([60, 60, 60]);
    expect(r.hops).toEqual([1, 2, 3]);
  });

  it('-w MAX: never more than MAX, however slow the next hop', () => {
    const r = trace((hop) => (hop === 2 ? null : hop < 3 ? { ms: 300 } : { ms: 300, reply: true }), { wait: { max: 1, here: 3, near: 10 } });
    expect(r.probes.slice(3, 6).map((p) => p.atMs)).toEqual([1000, 1000, 1000]);
  });

  it('-w MAX alone turns the adaptive rules off: a silent hop waits MAX', () => {
    const r = trace((hop) => (hop === 2 ? null : hop < 3 ? { ms: 5 } : { ms: 5, reply: true }), { wait: { max: 0.5, here: 0, near: 0 } });
    expect(r.probes.map(cell).slice(3, 6)).toEqual(['*', '*', '*']);
    expect(r.probes.slice(3, 6).map((p) => p.atMs)).toEqual([500, 500, 500]);
  });

  it("only the first unprinted probe expires: a hop's later probes wait for it", () => {
    // hop 1 probe 0 silent: nothing can be learnt for it, so MAX; hop 1 probes 1, 2 answered at 2 ms
    const r = trace((hop, i) => (hop === 1 && i === 0 ? null : hop < 2 ? { ms: 2 } : { ms: 2, reply: true }));
    expect(r.probes.map(cell).slice(0, 3)).toEqual(['*', router(1), router(1)]);
    // HERE from its own hop: 3 x 3 ms
    expect(r.probes[0].atMs).toBe(9);
    expect(r.probes[1].atMs).toBe(9);
  });

  it('-q and -m: a path silent throughout is max_hops lines of nqueries stars, not reached', () => {
    const r = trace(() => null, { nqueries: 2, maxHops: 3, wait: { max: 2, here: 3, near: 10 } });
    expect(r.probes.map(cell)).toEqual(Array(6).fill('*'));
    expect(r.hops).toEqual([1, 2, 3]);
    expect(r.done).toMatchObject({ hops: 3, final: false, reached: false, probesSent: 6 });
    // all six out at 0; each waits MAX (2 s) from its send, printed in order
    expect(r.probes.map((p) => p.atMs)).toEqual([2000, 2000, 2000, 2000, 2000, 2000]);
  });

  it('-f: probing starts at first_ttl', () => {
    const r = trace(path(4), { firstHop: 3 });
    expect(r.method.sent[0].ttl).toBe(3);
    expect(r.hops).toEqual([3, 4, 5]);
    expect(r.probes[0]).toMatchObject({ hop: 3, index: 0, from: router(3) });
  });

  it('the final hop: an unreachable answer (!H) ends the trace there', () => {
    const r = trace((hop) => (hop < 2 ? { ms: 1 } : { ms: 1, type: 3, code: 1, from: router(2) }));
    expect(r.hops).toEqual([1, 2]);
    expect(r.probes.slice(3).map(cell)).toEqual(Array(3).fill(`${router(2)} !H`));
    expect(r.probes[3]).toMatchObject({ final: true, icmp: { type: 3, code: 1 } });
    expect(r.done).toMatchObject({ hops: 2, final: true, reached: false });
  });

  it('-z: sends at least sendwait apart', () => {
    const r = trace(path(1), { sendWait: 0.01, simProbes: 16 });
    expect(r.method.sent.slice(0, 4).map((s) => s.atMs)).toEqual([0, 10, 20, 30]);
  });

  it('stop() (a signal) ends at once: what was reported stays, nothing after it', () => {
    const r = trace((hop) => (hop === 2 ? null : { ms: 1 }), { wait: { max: 5, here: 0, near: 0 } }, 100);
    expect(r.probes.map(cell)).toEqual([router(1), router(1), router(1)]);
    expect(r.endMs).toBe(100);
    expect(r.done).toMatchObject({ final: false, reached: false });
  });

  it('moves a late unreachable answer up to the hop whose probes it outran (check_expired)', () => {
    // hop 2 answers !H only for its last probe, and for every later TTL
    const r = trace((hop, i) => (hop === 1 ? { ms: 2 } : hop === 2 && i < 2 ? null : { ms: 3, type: 3, code: 1, from: router(2) }), {
      wait: { max: 0.3, here: 3, near: 10 },
    });
    expect(r.hops).toEqual([1, 2]);
    expect(r.probes.slice(3).map(cell)).toEqual(Array(3).fill(`${router(2)} !H`));
  });

  it('names ICMP errors as traceroute does', () => {
    expect(annotate(4, 11, 0, 0)).toBeNull();
    expect([0, 1, 2, 3, 4, 5, 9, 13, 14, 15, 99].map((c) => annotate(4, 3, c, 1400))).toEqual([
      '!N',
      '!H',
      '!P',
      '',
      '!F-1400',
      '!S',
      '!X',
      '!X',
      '!V',
      '!C',
      '!<99>',
    ]);
    expect([0, 1, 3, 4, 7].map((c) => annotate(6, 1, c, 0))).toEqual(['!N', '!X', '!H', '', '!<7>']);
    expect(annotate(6, 2, 0, 1280)).toBe('!F-1280');
    expect(annotate(4, 12, 0, 0)).toBe('!<12-0>');
    expect([64, 61, 128, 250].map(ttl2hops)).toEqual([1, 4, 1, 6]);
  });
});
