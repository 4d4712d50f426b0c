// fping's result as metric families, for --openmetrics: what its summaries
// say, per target (labels host and address), plus the run's totals.
// Rendered by the shared exposition module (src/output/openmetrics.ts).
import { type MetricFamily, type Sample, counter, exponentialBuckets, gauge, histogram, Histogram } from '../../output/openmetrics.js';
import type { HostStats } from './stats.js';
import type { Host } from './targets.js';

/** smokeping_prober's buckets (50 µs doubling, 20 of them), so dashboards can mix both */
export const RTT_BUCKETS: readonly number[] = exponentialBuckets(0.00005, 2, 20);

export interface FpingResult {
  hosts: readonly Host[];
  stats: readonly HostStats[];
  /** per target: the round trips counted (fping's accepted replies) */
  rtts: readonly Histogram[];
  noaddress: number;
  elapsedNs: number;
  exitCode: number;
}

/** A histogram per target, to fill as replies are counted. */
export function rttHistograms(n: number): Histogram[] {
  return Array.from({ length: n }, () => new Histogram(RTT_BUCKETS));
}

export function fpingFamilies(r: FpingResult): MetricFamily[] {
  const labels = (i: number) => ({ host: r.hosts[i]!.host, address: r.hosts[i]!.address });
  const each = (f: (s: HostStats) => number): Sample[] => r.stats.map((s, i) => ({ labels: labels(i), value: f(s) }));
  const rtt: Sample[] = [];
  r.stats.forEach((s, i) => {
    if (!s.numRecv) return;
    for (const [stat, ns] of [
      ['min', s.minReply],
      ['avg', s.avgNs!],
      ['max', s.maxReply],
    ] as const)
      rtt.push({ labels: { ...labels(i), stat }, value: ns / 1e9 });
  });
  return [
    gauge(
      'fping_up',
      'Whether the target answered at least one echo request',
      each((s) => (s.numRecv ? 1 : 0)),
    ),
    counter(
      'fping_sent_total',
      'Echo requests sent to the target and settled (answered, timed out or failed), as fping counts xmt',
      each((s) => s.numSent),
    ),
    counter(
      'fping_received_total',
      'Echo replies counted for the target (no duplicates, none later than the timeout), as fping counts rcv',
      each((s) => s.numRecv),
    ),
    { ...gauge('fping_rtt_seconds', "Round trip of the target's replies: min, avg and max, as fping prints them", rtt), unit: 'seconds' },
    {
      ...histogram(
        'fping_response_duration_seconds',
        "Round trips of the target's counted replies",
        r.rtts.map((h, i) => h.sample(labels(i))),
      ),
      unit: 'seconds',
    },
    gauge('fping_targets', 'Targets pinged', r.hosts.length),
    gauge('fping_unknown_addresses', 'Names that did not resolve', r.noaddress),
    { ...gauge('fping_duration_seconds', 'Wall time of the run', r.elapsedNs / 1e9), unit: 'seconds' },
    gauge('fping_exit_code', 'The exit status fping gives the run (0 all answered, 1 some did not, 2 a name did not resolve)', r.exitCode),
  ];
}
