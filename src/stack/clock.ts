// Time and timers for the engines, as parameters: the real ones by default,
// a scripted clock in unit tests, so PingSession and the traceroute engine
// can be tested without waiting on the wall clock.
import * as C from './constants.js';
import { native, timeBase, toRelNs } from './native/index.js';

/** A timer handle, as the Timers below return it. */
export type TimerHandle = unknown;

export interface Clock {
  /** CLOCK_MONOTONIC in milliseconds (from an arbitrary origin): schedules and timeouts */
  nowMs(): number;
  /** CLOCK_MONOTONIC in nanoseconds */
  monoNs(): bigint;
  /** CLOCK_REALTIME in nanoseconds since the native timeBase (a Number: no bigint per packet) */
  realRelNs(): number;
  /** CLOCK_REALTIME in nanoseconds */
  realNs(): bigint;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(t: TimerHandle): void;
  /** run fn after the current I/O callbacks (setImmediate) */
  setImmediate(fn: () => void): TimerHandle;
}

// taken once: the global `process` is an accessor, a getter call per read
const hrtime = process.hrtime;

/**
 * CLOCK_MONOTONIC in ms, through process.hrtime (the clock performance.now()
 * reads): the global `performance` loads perf_hooks, a tenth of a short
 * run's start-up.
 */
function monoMs(): number {
  const t = hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

/** The kernel's clocks. */
export const systemClock: Clock = {
  nowMs: monoMs,
  monoNs: () => native.clock(C.CLOCK_MONOTONIC),
  realRelNs: () => toRelNs(native.clock(C.CLOCK_REALTIME)),
  realNs: () => native.clock(C.CLOCK_REALTIME),
};

/** Node's timers. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
};

export { timeBase };
