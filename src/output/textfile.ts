// --openmetrics: a run's records as metrics, for node_exporter's textfile
// collector. The third renderer of the records text and --json render: the
// summary's numbers become gauges `sockit_<command>_<field>` (durations in
// seconds, percentages as ratios), its host/address/port labels; a
// traceroute's hops become sockit_traceroute_hop_rtt_seconds. Gauges only,
// so the file reads the same as OpenMetrics 1.0 and as the text format the
// collector and promtool parse (a FILE.prom gets the text format, as fping's
// --openmetrics does). `-o FILE` writes it atomically: writeFileAtomic below,
// a temporary file in the same directory, fsync, rename(2), so the collector
// (which reads every *.prom of its directory at each scrape) sees the old
// file or the new one, never half of one.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Failure, UsageError, strerror } from '../stack/errors.js';
import type { JsonRecord } from './json.js';
import type { Presenter } from './index.js';
import { gauge, render, type MetricFamily, type Sample } from './openmetrics.js';

export interface MetricsOutput {
  /** the command, as the metric prefix names it (`sockit_<command>_`) */
  command: string;
  /** -o: the file to write; standard output when absent */
  file?: string;
}

const LABEL_KEYS = ['host', 'address', 'port'];

/** A summary field as a metric: its name and value, or null when it is not a number. */
function asMetric(key: string, v: unknown): { name: string; value: number } | null {
  if (typeof v === 'boolean') return { name: key, value: v ? 1 : 0 };
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  // ms to seconds, kept to the nanosecond (no 2.1949999999999997e-06)
  if (key.endsWith('_ms')) return { name: `${key.slice(0, -3)}_seconds`, value: Math.round(v * 1e6) / 1e9 };
  if (key.endsWith('_percent')) return { name: `${key.slice(0, -8)}_ratio`, value: v / 100 };
  return { name: key, value: v };
}

/** The metric families of a run: its summary record and (traceroute) its hop records. */
export function recordFamilies(command: string, records: readonly JsonRecord[], nowS = Date.now() / 1000): MetricFamily[] {
  const summary = records.find((r) => r.type === 'summary');
  const labels: Record<string, string> = {};
  for (const k of LABEL_KEYS) if (summary?.[k] !== undefined && summary[k] !== null) labels[k] = String(summary[k]);
  const prefix = `sockit_${command}_`;
  const families: MetricFamily[] = [];
  for (const [key, v] of Object.entries(summary ?? {})) {
    if (LABEL_KEYS.includes(key)) continue;
    const m = asMetric(key, v);
    if (m) families.push(gauge(prefix + m.name, `sockit ${command}: the summary's ${key} (sockit(1) JSON OUTPUT)`, [{ labels, value: m.value }]));
  }
  if (summary && typeof summary.exit_code === 'number') {
    families.push(gauge(`${prefix}success`, `sockit ${command}: 1 when the run exited 0`, [{ labels, value: summary.exit_code === 0 ? 1 : 0 }]));
  }
  const hops: Sample[] = [];
  for (const r of records) {
    if (r.type !== 'hop' || !Array.isArray(r.probes)) continue;
    const best = new Map<string, number>();
    for (const p of r.probes as { from: string | null; rtt_ms: number | null }[]) {
      if (p.from === null || p.rtt_ms === null) continue;
      best.set(p.from, Math.min(best.get(p.from) ?? Infinity, p.rtt_ms));
    }
    for (const [address, ms] of best) hops.push({ labels: { host: labels.host ?? '', hop: String(r.hop), address }, value: Math.round(ms * 1e6) / 1e9 });
  }
  if (hops.length) families.push(gauge(`${prefix}hop_rtt_seconds`, `sockit ${command}: the fastest answer from each address at each hop`, hops));
  families.push(
    gauge(`${prefix}last_run_timestamp_seconds`, `sockit ${command}: when the run ended (unix time)`, [{ labels, value: Math.round(nowS * 1000) / 1000 }]),
  );
  return families.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Write `text` to `file` atomically (a temporary file in the same directory, fsync, rename). */
export function writeFileAtomic(file: string, text: string): void {
  // hidden and without the .prom suffix: the collector never reads it
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  let written = false;
  try {
    writeSync(fd, text);
    fsyncSync(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(tmp, { force: true });
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeFileAtomic with its failure as one line (exit 1): `FILE: strerror`. */
export function writeAtomic(file: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    throw new Failure(`${file}: ${errno !== undefined ? strerror(errno) : (e as Error).message}`);
  }
}

interface Emitter<E> {
  emit(e: E): void;
  drain(): Promise<void>;
}

/**
 * A renderer that also keeps the presenter's records and, at drain, writes
 * them as metrics: to -o's file beside `base`'s output, or (no file, no
 * base) to standard output in place of the text, stderr lines still shown.
 */
export function withMetrics<E>(p: Presenter<E>, m: MetricsOutput, base: Emitter<E> | null): Emitter<E> {
  const records: JsonRecord[] = [];
  return {
    emit(e) {
      const r = p.toRecord(e);
      if (r) records.push(r);
      if (base) base.emit(e);
      else {
        const t = p.toText(e);
        if (t && typeof t === 'object' && 'stderr' in t) void Promise.resolve(t.stderr).then((s) => process.stderr.write(s));
      }
    },
    async drain() {
      await base?.drain();
      // a .prom file for the textfile collector gets the text format, as fping's does
      const text = render(recordFamilies(m.command, records), m.file?.endsWith('.prom') ? 'prometheus' : 'openmetrics');
      if (m.file !== undefined) writeAtomic(m.file, text);
      else process.stdout.write(text);
    },
  };
}

/** --openmetrics and -o checked together: the metrics output, or none. */
export function metricsOption(command: string, o: { openmetrics?: boolean; output?: string; json?: boolean }): MetricsOutput | undefined {
  if (o.output !== undefined && !o.openmetrics) throw new UsageError('-o FILE needs --openmetrics');
  if (!o.openmetrics) return undefined;
  if (o.json && o.output === undefined) throw new UsageError('--openmetrics with --json needs -o FILE (standard output has the JSON lines)');
  return { command, file: o.output };
}

/** The run's renderer: `base()` alone, or with the metrics beside it (-o) or instead of it (stdout). */
export function withMetricsIf<E>(p: Presenter<E>, m: MetricsOutput | undefined, base: () => Emitter<E>): Emitter<E> {
  if (!m) return base();
  return withMetrics(p, m, m.file !== undefined ? base() : null);
}
