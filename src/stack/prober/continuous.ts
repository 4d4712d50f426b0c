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

/** One fleet: the groups that share its settings (interval, network, size, source), their series by fleet index. */
interface Run {
  key: string;
  fleet: Fleet;
  series: Map<number, Series>;
  /** host and address → fleet index */
  index: Map<string, number>;
}

export interface ResolvedGroup {
  group: TargetGroup;
  targets: ContinuousTarget[];
}

/** What update() changed: targets started and stopped. */
export interface UpdateResult {
  added: number;
  removed: number;
}

const newSeries = (t: ContinuousTarget): Series => ({
  labels: { host: t.host, ip: t.address, source: t.source },
  requests: 0,
  duplicates: 0,
  sendErrors: 0,
  rtt: new Histogram(SMOKEPING_BUCKETS),
});
const groupKey = (g: TargetGroup) => JSON.stringify([g.intervalMs, g.network, g.size, g.source ?? '']);
const targetKey = (t: ContinuousTarget) => `${t.host} ${t.address}`;

/** The fleets of all groups and the metrics they feed. */
export class ContinuousProber {
  private readonly runs = new Map<string, Run>();
  private receiveErrors = 0;
  private started = false;

  /** Opens the sockets (throws IcmpPermissionError when no ICMP socket may be had). */
  constructor(groups: readonly ResolvedGroup[]) {
    try {
      this.update(groups);
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /**
   * Make the targets these groups' (a reload): fleets for settings no longer
   * wanted stop, new ones open, and within a fleet the targets added start
   * while those removed stop; the series of targets that stay keep counting.
   */
  update(groups: readonly ResolvedGroup[]): UpdateResult {
    const wanted = new Map<string, { group: TargetGroup; targets: Map<string, ContinuousTarget> }>();
    for (const { group, targets } of groups) {
      const key = groupKey(group);
      const w = wanted.get(key) ?? { group, targets: new Map() };
      for (const t of targets) w.targets.set(targetKey(t), t);
      wanted.set(key, w);
    }
    let added = 0;
    let removed = 0;
    for (const [key, run] of this.runs) {
      if (wanted.has(key)) continue;
      removed += run.series.size;
      run.fleet.stop();
      this.runs.delete(key);
    }
    for (const [key, w] of wanted) {
      let run = this.runs.get(key);
      if (!run) {
        // a new fleet opens with its targets (its sockets sized for them)
        run = this.openRun(key, w.group, [...w.targets.values()]);
        this.runs.set(key, run);
        added += run.series.size;
      }
      for (const [tk, n] of run.index) {
        if (w.targets.has(tk)) continue;
        run.fleet.remove(n);
        run.series.delete(n);
        run.index.delete(tk);
        removed++;
      }
      for (const [tk, t] of w.targets) {
        if (run.index.has(tk)) continue;
        const n = run.fleet.add({ address: t.address, family: t.family });
        run.index.set(tk, n);
        run.series.set(n, newSeries(t));
        added++;
      }
    }
    return { added, removed };
  }

  private openRun(key: string, g: TargetGroup, targets: ContinuousTarget[]): Run {
    const count = targets.length;
    const source = g.source ? (g.source.includes(':') ? { 6: g.source } : { 4: g.source }) : undefined;
    // the group's pings spread over its interval, as smokeping_prober's splay
    const intervalMs = Math.min(10, g.intervalMs / Math.max(1, count));
    const run: Run = { key, series: new Map(), index: new Map(), fleet: undefined as unknown as Fleet };
    targets.forEach((t, n) => {
      run.index.set(targetKey(t), n);
      run.series.set(n, newSeries(t));
    });
    run.fleet = new Fleet(
      targets.map((t) => ({ address: t.address, family: t.family })),
      {
        loop: true,
        periodMs: g.intervalMs,
        timeoutMs: g.intervalMs,
        intervalMs,
        dataLen: g.size,
        source,
      },
      (e) => this.onEvent(run, e),
    );
    if (this.started) run.fleet.start();
    return run;
  }

  private onEvent(run: Run, e: FleetEvent): void {
    if (e.type === 'done') return;
    const s = run.series.get(e.target);
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
    this.started = true;
    for (const r of this.runs.values()) r.fleet.start();
  }

  stop(): void {
    for (const r of this.runs.values()) r.fleet.stop();
  }

  /** How the fleets talk to the kernel, for the log ('ping socket', 'raw socket'). */
  mechanisms(): string[] {
    const fleets = [...this.runs.values()].map((r) => r.fleet);
    return [...new Set(fleets.flatMap((f) => [f.mechanism(4), f.mechanism(6)]).filter((m): m is string => !!m))];
  }

  get targetCount(): number {
    let n = 0;
    for (const r of this.runs.values()) n += r.series.size;
    return n;
  }

  /** smokeping_prober's families, in its names. */
  families(): MetricFamily[] {
    const all = [...this.runs.values()].flatMap((r) => [...r.series.values()]);
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
