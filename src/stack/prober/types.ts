// What every prober gets: the target, its module, a deadline, and where to
// put its metrics and log lines. A prober resolves to success.
import type { Module } from './config.js';
import type { ProbeLog } from './log.js';
import type { ProbeMetrics } from './metrics.js';

export interface ProbeContext {
  target: string;
  module: Module;
  /** aborted when the probe's time is up */
  signal: AbortSignal;
  metrics: ProbeMetrics;
  log: ProbeLog;
}

export type Prober = (ctx: ProbeContext) => Promise<boolean>;

/** Resolves when the signal aborts (at once when it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Go's net.SplitHostPort: "host:port" or "[v6]:port". */
export function splitHostPort(target: string): { host: string; port: string } | null {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(target) ?? /^([^:[\]]*):([^:]*)$/.exec(target);
  return m ? { host: m[1]!, port: m[2]! } : null;
}

/** The port part as a number, or null when it is not one (blackbox_exporter's dial then fails). */
export function portOf(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}
