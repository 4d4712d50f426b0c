// Scripted time for engine unit tests: a Clock that moves only when told and
// the Timers that run on it (src/stack/clock.ts), so PingSession and the
// traceroute engine can be driven without waiting on the wall clock.
import { type Clock, type TimerHandle, type Timers, timeBase } from '../../src/stack/clock.js';

/** A clock that moves only when told, and the timers that run on it. */
export class ScriptedTime implements Clock, Timers {
  /** ms of virtual time since the start */
  now = 0;
  private seq = 0;
  private timers: { due: number; seq: number; fn: () => void }[] = [];

  /** originMs: where the ns clocks start (an engine may take a zero stamp for "not sent") */
  constructor(private readonly originMs = 0) {}

  nowMs = () => this.now;
  monoNs = () => BigInt(Math.round((this.originMs + this.now) * 1e6));
  realRelNs = () => Math.round((this.originMs + this.now) * 1e6);
  realNs = () => timeBase + BigInt(Math.round((this.originMs + this.now) * 1e6));

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { due: this.now + Math.max(ms, 0), seq: this.seq++, fn };
    this.timers.push(t);
    return t;
  }
  clearTimeout(t: TimerHandle): void {
    this.timers = this.timers.filter((x) => x !== t);
  }
  setImmediate(fn: () => void): TimerHandle {
    return this.setTimeout(fn, 0);
  }

  /** Run every timer due up to `until` (ms), in order of due time then of arming; the clock ends at `until`. */
  runUntil(until: number): void {
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const t = this.timers[0];
      if (!t || t.due > until) break;
      this.timers.shift();
      this.now = t.due;
      t.fn();
    }
    this.now = Math.max(this.now, until);
  }

  /** Run timers until none is left (or none is due within `limitMs`); the clock stays at the last one run. */
  run(limitMs = 600_000): void {
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const t = this.timers[0];
      if (!t || t.due > limitMs) return;
      this.timers.shift();
      this.now = Math.max(this.now, t.due);
      t.fn();
    }
  }

  get pending(): number {
    return this.timers.length;
  }
}
