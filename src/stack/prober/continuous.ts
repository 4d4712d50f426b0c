// Continuous probing, as smokeping_prober does it: every host of a target
// group pinged every `interval` for as long as the exporter runs, the round
// trips in a histogram per host (its default buckets, labels ip, host,
// source), with its counters of requests, duplicates and errors. One fleet
// (src/stack/ping/fleet.ts, one ICMP socket per family) per group.
import { lookup } from 'node:dns/promises';
import { counter, exponentialBuckets, gauge, Histogram, histogram, type MetricFamily, type Sample } from '../../output/openmetrics.js';
import { Fleet, type FleetEvent } from '../ping/fleet.js';
import type { TargetGroup } from './config.js';

/** smokeping_prober's default buckets: ExponentialBuckets(0.00005, 2, 20), 50 µs to 26 s */
export const SMOKEPING_BUCKETS: readonly number[] = exponentialBuckets(0.00005, 2, 20);

export interface ContinuousTarget {
  host: string;
  address: string;
  family: 4 | 6;
  source: string;
}

interface Series {
  labels: Record<string, string>;
  requests: number;
  duplicates: number;
  sendErrors: number;
  ttl?: number;
  rtt: Histogram;
}

/** A group's hosts as addresses (smokeping_prober's `network`: ip, ip4, ip6). */
export async function resolveGroup(g: TargetGroup): Promise<ContinuousTarget[]> {
  const family = g.network === 'ip4' ? 4 : g.network === 'ip6' ? 6 : 0;
  return Promise.all(
    g.hosts.map(async (host) => {
      const a = await lookup(host, { family, verbatim: true });
      return { host, address: a.address, family: a.family as 4 | 6, source: g.source ?? '' };
    }),
  );
}

/** The fleets of all groups and the metrics they feed. */
export class ContinuousProber {
  private readonly fleets: Fleet[] = [];
  private readonly series: Series[][] = [];
  private receiveErrors = 0;

  /** Opens the sockets (throws IcmpPermissionError when no ICMP socket may be had). */
  constructor(groups: readonly { group: TargetGroup; targets: ContinuousTarget[] }[]) {
    try {
      for (const { group, targets } of groups) this.addGroup(group, targets);
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  private addGroup(g: TargetGroup, targets: ContinuousTarget[]): void {
    const k = this.fleets.length;
    const series = targets.map((t) => ({
      labels: { host: t.host, ip: t.address, source: t.source },
      requests: 0,
      duplicates: 0,
      sendErrors: 0,
      rtt: new Histogram(SMOKEPING_BUCKETS),
    }));
    this.series.push(series);
    const source = g.source ? (g.source.includes(':') ? { 6: g.source } : { 4: g.source }) : undefined;
    // the group's pings spread over its interval, as smokeping_prober's splay
    const intervalMs = Math.min(10, g.intervalMs / Math.max(1, targets.length));
    const fleet = new Fleet(
      targets.map((t) => ({ address: t.address, family: t.family })),
      {
        loop: true,
        periodMs: g.intervalMs,
        timeoutMs: g.intervalMs,
        intervalMs,
        dataLen: g.size,
        source,
      },
      (e) => this.onEvent(k, e),
    );
    this.fleets.push(fleet);
  }

  private onEvent(k: number, e: FleetEvent): void {
    if (e.type === 'done') return;
    const s = this.series[k]![e.target];
    if (!s) return;
    if (e.type === 'sent') s.requests++;
    else if (e.type === 'reply') {
      if (e.dup) s.duplicates++;
      else {
        s.rtt.observe(e.rttNs / 1e9);
        if (e.ttl !== undefined) s.ttl = e.ttl;
      }
    } else if (e.type === 'error') {
      if (e.kind === 'send') s.sendErrors++;
      else if (e.kind === 'local') this.receiveErrors++;
    }
  }

  start(): void {
    for (const f of this.fleets) f.start();
  }

  stop(): void {
    for (const f of this.fleets) f.stop();
  }

  /** How the fleets talk to the kernel, for the log ('ping socket', 'raw socket'). */
  mechanisms(): string[] {
    return [...new Set(this.fleets.flatMap((f) => [f.mechanism(4), f.mechanism(6)]).filter((m): m is string => !!m))];
  }

  get targetCount(): number {
    return this.series.reduce((n, s) => n + s.length, 0);
  }

  /** smokeping_prober's families, in its names. */
  families(): MetricFamily[] {
    const all = this.series.flat();
    const per = (f: (s: Series) => number | undefined): Sample[] =>
      all.flatMap((s) => {
        const v = f(s);
        return v === undefined ? [] : [{ labels: s.labels, value: v }];
      });
    const out: MetricFamily[] = [
      counter('smokeping_receive_errors_total', 'The number of errors when Pinger attempts to receive packets.', this.receiveErrors),
      counter(
        'smokeping_requests_total',
        'Number of ping requests sent',
        per((s) => s.requests),
      ),
      histogram(
        'smokeping_response_duration_seconds',
        'A histogram of latencies for ping responses.',
        all.map((s) => s.rtt.sample(s.labels)),
      ),
      counter(
        'smokeping_response_duplicates_total',
        'The number of duplicated response packets.',
        per((s) => s.duplicates),
      ),
      gauge(
        'smokeping_response_ttl',
        'The last response Time To Live (TTL).',
        per((s) => s.ttl),
      ),
      counter(
        'smokeping_send_errors_total',
        'The number of errors when Pinger attempts to send packets.',
        per((s) => s.sendErrors || undefined),
      ),
    ];
    return out.filter((f) => f.samples.length > 0);
  }
}
