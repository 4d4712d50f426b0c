// The traceroute engine's scheduling and wait rules (traceroute(8) -N, -w
// MAX,HERE,NEAR), driven by a scripted probe method: a path whose hops
// answer after set delays, so the rules can be timed without a network.
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { native, toRelNs } from '../../src/stack/native/index.js';
import type { Probe, ProbeEvent, ProbeMethod } from '../../src/stack/probe/index.js';
import type { SendResult } from '../../src/stack/socket.js';
import { type ProbeResult, type TracerouteEvent, type TracerouteOptions, TracerouteSession, annotate, ttl2hops } from '../../src/stack/traceroute.js';

/** hop -> what the router at that TTL does with probe `index` of the hop: answer after ms, or stay silent (null) */
type Script = (hop: number, index: number) => { ms: number; type?: number; code?: number; reply?: boolean; from?: string } | null;

class ScriptedPath implements ProbeMethod {
  readonly name = 'scripted';
  readonly family = 4 as const;
  readonly mechanism = 'script';
  readonly unprivileged = true;
  readonly target = '192.0.2.99';
  readonly headerBytes = 28;
  readonly sent: { seq: number; ttl: number; at: number }[] = [];
  readonly released = new Set<number>();
  private onEvent: ((e: ProbeEvent) => void) | null = null;
  private readonly perHop = new Map<number, number>();
  private timers: NodeJS.Timeout[] = [];
  constructor(private readonly script: Script) {}

  send(p: Probe): SendResult {
    const ttl = p.ttl ?? 64;
    const index = this.perHop.get(ttl) ?? 0;
    this.perHop.set(ttl, index + 1);
    this.sent.push({ seq: p.seq, ttl, at: performance.now() });
    const r = { bytes: 1, monoNs: native.clock(C.CLOCK_MONOTONIC), realNs: native.clock(C.CLOCK_REALTIME) };
    const a = this.script(ttl, index);
    if (a) {
      this.timers.push(setTimeout(() => {
        const from = a.from ?? (a.reply ? this.target : `192.0.2.${ttl}`);
        const rxRelNs = toRelNs(native.clock(C.CLOCK_REALTIME));
        if (a.reply) this.onEvent?.({ type: 'reply', seq: p.seq, from, rxRelNs, bytes: 1, checksumOk: true });
        else this.onEvent?.({ type: 'icmp-error', seq: p.seq, from, icmpType: a.type ?? 11, icmpCode: a.code ?? 0, mtu: 0, rxRelNs, ttl: 64 - ttl, reached: false });
      }, a.ms));
    }
    return r;
  }
  start(onEvent: (e: ProbeEvent) => void): void { this.onEvent = onEvent; }
  release(seq: number): void { this.released.add(seq); }
  ref(): void {}
  close(): void { for (const t of this.timers) clearTimeout(t); this.onEvent = null; }
}

const OPTS: TracerouteOptions = {
  firstHop: 1, maxHops: 30, nqueries: 3, simProbes: 16, wait: { max: 0.6, here: 3, near: 10 }, sendWait: 0,
  headerLen: 28, dataLen: 32, methodBytes: 0, mtuDiscovery: false, firstSeq: 1,
};

function trace(script: Script, opts: Partial<TracerouteOptions> = {}) {
  const method = new ScriptedPath(script);
  const t0 = performance.now();
  return new Promise<{ probes: (ProbeResult & { at: number })[]; hops: number[]; done: Extract<TracerouteEvent, { type: 'done' }>; method: ScriptedPath; ms: number }>((resolve) => {
    const probes: (ProbeResult & { at: number })[] = [];
    const hops: number[] = [];
    const s = new TracerouteSession(method, { ...OPTS, ...opts }, (e) => {
      if (e.type === 'probe') probes.push({ ...e.probe, at: performance.now() - t0 });
      if (e.type === 'hop') hops.push(e.hop);
      if (e.type === 'done') resolve({ probes, hops, done: e, method, ms: performance.now() - t0 });
    });
    s.start();
  });
}

const cell = (p: ProbeResult) => (p.from === null ? '*' : `${p.from}${p.annotation ? ' ' + p.annotation : ''}`);

describe('traceroute engine', () => {
  it('reports hops in order and stops after the hop that reached the destination', async () => {
    const r = await trace((hop) => (hop < 4 ? { ms: 2 * (5 - hop) } : { ms: 1, reply: true }));
    expect(r.hops).toEqual([1, 2, 3, 4]);
    expect(r.probes.map(cell)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3].map((h) => `192.0.2.${h}`).concat(Array(3).fill('192.0.2.99')));
    expect(r.done).toMatchObject({ hops: 4, final: true, reached: true });
    // 16 went out at once (hops 1..6); nothing past what the window allowed
    expect(r.method.sent.slice(0, 16).map((s) => s.ttl)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]);
    expect(r.done.probesSent).toBe(r.method.sent.length);
    // every probe was handed back to the method
    expect(r.method.released.size).toBe(r.method.sent.length);
  });

  it('-N bounds the probes unfinished at once', async () => {
    const r = await trace((hop) => (hop < 3 ? { ms: 5 } : { ms: 5, reply: true }), { simProbes: 2 });
    expect(r.method.sent.slice(0, 2).map((s) => s.ttl)).toEqual([1, 1]);
    // the third probe went out only after one of the first two came back
    expect(r.method.sent[2].at - r.method.sent[0].at).toBeGreaterThanOrEqual(4);
    expect(r.hops).toEqual([1, 2, 3]);
  });

  it('HERE: a lost probe in a hop that answered waits 3 x that round trip, not MAX', async () => {
    const r = await trace((hop, i) => (hop === 2 && i === 1 ? null : hop < 3 ? { ms: 20 } : { ms: 20, reply: true }));
    expect(r.probes.map(cell)[4]).toBe('*');
    // 3 x (20 + 1) ms after its send, well short of MAX (600 ms)
    expect(r.ms).toBeGreaterThanOrEqual(60);
    expect(r.ms).toBeLessThan(400);
  });

  it('NEAR: a silent hop waits 10 x a later hop\'s round trip', async () => {
    const r = await trace((hop) => (hop === 2 ? null : hop < 3 ? { ms: 5 } : { ms: 5, reply: true }));
    expect(r.probes.map(cell).slice(3, 6)).toEqual(['*', '*', '*']);
    expect(r.ms).toBeGreaterThanOrEqual(50);
    expect(r.ms).toBeLessThan(450);
  });

  it('-w MAX alone: no adaptive rules, a silent hop waits MAX', async () => {
    const r = await trace((hop) => (hop === 2 ? null : hop < 3 ? { ms: 5 } : { ms: 5, reply: true }), { wait: { max: 0.5, here: 0, near: 0 } });
    expect(r.probes.map(cell).slice(3, 6)).toEqual(['*', '*', '*']);
    expect(r.ms).toBeGreaterThanOrEqual(495);
  });

  it('moves a late unreachable answer up to the hop whose probes it outran (check_expired)', async () => {
    // hop 2 answers !H only for its last probe, and for every later TTL
    const r = await trace((hop, i) => (hop === 1 ? { ms: 2 } : hop === 2 && i < 2 ? null : { ms: 3, type: 3, code: 1, from: '192.0.2.2' }), { wait: { max: 0.3, here: 3, near: 10 } });
    expect(r.hops).toEqual([1, 2]);
    expect(r.probes.slice(3).map(cell)).toEqual(['192.0.2.2 !H', '192.0.2.2 !H', '192.0.2.2 !H']);
  });

  it('names ICMP errors as traceroute does', () => {
    expect(annotate(4, 11, 0, 0)).toBeNull();
    expect([0, 1, 2, 3, 4, 5, 9, 13, 14, 15, 99].map((c) => annotate(4, 3, c, 1400))).toEqual(['!N', '!H', '!P', '', '!F-1400', '!S', '!X', '!X', '!V', '!C', '!<99>']);
    expect([0, 1, 3, 4, 7].map((c) => annotate(6, 1, c, 0))).toEqual(['!N', '!X', '!H', '', '!<7>']);
    expect(annotate(6, 2, 0, 1280)).toBe('!F-1280');
    expect(annotate(4, 12, 0, 0)).toBe('!<12-0>');
    expect([64, 61, 128, 250].map(ttl2hops)).toEqual([1, 4, 1, 6]);
  });
});
