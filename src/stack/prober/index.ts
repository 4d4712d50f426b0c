// The prober core of sockit exporter: blackbox_exporter's /probe handler
// (prober/handler.go) without the HTTP: pick the module's prober, give it
// the time the scrape allows, time it, gather its gauges and keep its log
// for the debug output and the history of recent probes.
import { stringify } from 'yaml';
import { gauge, render, type MetricFamily } from '../../output/openmetrics.js';
import type { Module } from './config.js';
import { probeDNS } from './dns.js';
import { probeICMP } from './icmp.js';
import { ProbeLog } from './log.js';
import { ProbeMetrics } from './metrics.js';
import { probeTCP } from './tcp.js';
import type { Prober } from './types.js';
import { probeUDP } from './udp.js';

export { ConfigError, parseConfig, parseGoDuration, type Module, type ProberConfig, type TargetGroup } from './config.js';
export { ProbeLog } from './log.js';

export const PROBER_FNS: Readonly<Record<string, Prober>> = { icmp: probeICMP, tcp: probeTCP, udp: probeUDP, dns: probeDNS };

/** blackbox_exporter --timeout-offset's default, seconds */
export const DEFAULT_TIMEOUT_OFFSET_S = 0.5;
/** without X-Prometheus-Scrape-Timeout-Seconds, blackbox_exporter allows 120 s */
export const DEFAULT_SCRAPE_TIMEOUT_S = 120;

/**
 * The probe's time (getTimeout): the scrape's timeout minus the offset,
 * or the module's timeout when that is shorter (or the difference is
 * negative). undefined when the header is not a number.
 */
export function probeTimeoutS(header: string | undefined, module: Module, offsetS: number): number | undefined {
  let t = 0;
  if (header !== undefined && header !== '') {
    t = Number(header.trim());
    if (header.trim() === '' || Number.isNaN(t)) return undefined;
  }
  if (t === 0) t = DEFAULT_SCRAPE_TIMEOUT_S;
  const max = t - offsetS;
  return (module.timeoutS < max && module.timeoutS > 0) || max < 0 ? module.timeoutS : max;
}

export interface ProbeResult {
  success: boolean;
  durationS: number;
  families: MetricFamily[];
  log: ProbeLog;
}

/** Run one probe of `target` with `module` (its prober must be in PROBER_FNS). */
export async function runProbe(moduleName: string, module: Module, target: string, timeoutS: number): Promise<ProbeResult> {
  const log = new ProbeLog(moduleName, target);
  const metrics = new ProbeMetrics();
  const prober = PROBER_FNS[module.prober]!;
  log.info('Beginning probe', { probe: module.prober, timeout_seconds: timeoutS });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, timeoutS * 1000));
  const start = performance.now();
  let success = false;
  try {
    success = await prober({ target, module, signal: controller.signal, metrics, log });
  } catch (e) {
    log.error('Probe failed with an error', { err: e as Error });
  } finally {
    clearTimeout(timer);
  }
  const durationS = (performance.now() - start) / 1000;
  if (success) log.info('Probe succeeded', { duration_seconds: durationS });
  else log.error('Probe failed', { duration_seconds: durationS });
  const families = [
    gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds', durationS),
    gauge('probe_success', 'Displays whether or not the probe was a success', success ? 1 : 0),
    ...metrics.families(),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { success, durationS, families, log };
}

/** The text of ?debug=true: the log, the metrics, the module (DebugOutput). */
export function debugOutput(module: Module, r: ProbeResult): string {
  return `Logs for the probe:\n${r.log.text()}\n\n\nMetrics that would have been returned:\n${render(r.families)}\n\n\nModule configuration:\n${stringify(module.source)}`;
}

export interface HistoryEntry {
  id: number;
  module: string;
  target: string;
  success: boolean;
  debug: string;
}

/** The recent probes (prober/history.go): the last `max`, and failures pushed out kept apart, also `max`. */
export class ResultHistory {
  private nextId = 0;
  private results: HistoryEntry[] = [];
  private preservedFailures: HistoryEntry[] = [];

  constructor(readonly max = 100) {}

  add(module: string, target: string, debug: string, success: boolean): void {
    this.results.push({ id: this.nextId++, module, target, success, debug });
    if (this.results.length > this.max) {
      const old = this.results.shift()!;
      if (!old.success) {
        this.preservedFailures.push(old);
        if (this.preservedFailures.length > this.max) this.preservedFailures.shift();
      }
    }
  }

  list(): HistoryEntry[] {
    return [...this.preservedFailures, ...this.results];
  }

  get(id: number): HistoryEntry | undefined {
    return this.list().find((r) => r.id === id);
  }
}
