// The metrics renderer: metric families as the Prometheus text format 0.0.4
// or as OpenMetrics 1.0 (the same data, `# EOF` at the end, counters named
// without `_total` in their TYPE/HELP lines). Families are plain data; the
// exporter, fping and the --openmetrics writers build them and call render().
// Formats: prometheus.io/docs/instrumenting/exposition_formats and the
// OpenMetrics 1.0 specification (github.com/OpenObservability/OpenMetrics).

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type Labels = Readonly<Record<string, string>>;
export type Format = 'prometheus' | 'openmetrics';

/** One counter or gauge series. */
export interface Sample {
  labels?: Labels;
  value: number;
}

/** One histogram series: `counts[i]` observations ≤ `buckets[i]` (not cumulative); +Inf is implied. */
export interface HistogramSample {
  labels?: Labels;
  /** upper bounds, ascending, without +Inf */
  buckets: readonly number[];
  /** per-bucket counts (length buckets.length + 1, the last one above every bound) */
  counts: readonly number[];
  sum: number;
}

interface FamilyBase {
  /** the metric name; a counter's ends in `_total` as Prometheus names it */
  name: string;
  help: string;
  /** OpenMetrics unit (the name must end in `_<unit>`); the text format leaves it out */
  unit?: string;
}
export interface ScalarFamily extends FamilyBase {
  type: 'counter' | 'gauge';
  samples: readonly Sample[];
}
export interface HistogramFamily extends FamilyBase {
  type: 'histogram';
  samples: readonly HistogramSample[];
}
export type MetricFamily = ScalarFamily | HistogramFamily;

export const CONTENT_TYPE: Readonly<Record<Format, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function gauge(name: string, help: string, samples: readonly Sample[] | number): ScalarFamily {
  return { name, help, type: 'gauge', samples: typeof samples === 'number' ? [{ value: samples }] : samples };
}

export function counter(name: string, help: string, samples: readonly Sample[] | number): ScalarFamily {
  return { name, help, type: 'counter', samples: typeof samples === 'number' ? [{ value: samples }] : samples };
}

export function histogram(name: string, help: string, samples: readonly HistogramSample[]): HistogramFamily {
  return { name, help, type: 'histogram', samples };
}

/** Prometheus client_golang's DefBuckets (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Exponential buckets as client_golang's ExponentialBuckets(start, factor, count). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) out.push(b);
  return out;
}

/** Accumulates observations for one histogram series. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[] = DEFAULT_BUCKETS) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) throw new RangeError('histogram buckets must ascend');
    }
    this.counts = new Array<number>(buckets.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.buckets.length && v > this.buckets[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }

  sample(labels?: Labels): HistogramSample {
    return { labels, buckets: this.buckets, counts: this.counts.slice(), sum: this.sum };
  }
}

/** A label value with `\`, `"` and newline escaped (both formats). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: the text format escapes `\` and newline; OpenMetrics also `"`. */
export function escapeHelp(v: string, format: Format): string {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? s.replace(/"/g, '\\"') : s;
}

/**
 * A float as the Go exporters write it (strconv 'g', shortest): exponent
 * form below 1e-4 and from 1e6 up, two exponent digits (`5e-05`), `+Inf`,
 * `-Inf`, `NaN`. Matching it matters for `le`: Prometheus compares label
 * values as strings, so `le="5e-05"` and `le="0.00005"` would be two series.
 * OpenMetrics wants a float to look like one (`1.0`).
 */
export function formatValue(v: number, format: Format = 'prometheus'): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  let s: string;
  const [mantissa, e] = v.toExponential().split('e');
  const exp = Number(e);
  if (v !== 0 && (exp < -4 || exp >= 6)) {
    s = `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else {
    s = String(v);
  }
  return format === 'openmetrics' && !/[.e]/.test(s) ? s + '.0' : s;
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new RangeError(`bad label name ${JSON.stringify(k)}`);
    parts.push(`${k}="${escapeLabelValue(v)}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function familyLines(f: MetricFamily, format: Format, out: string[]): void {
  if (!METRIC_NAME.test(f.name)) throw new RangeError(`bad metric name ${JSON.stringify(f.name)}`);
  const om = format === 'openmetrics';
  // OpenMetrics names a counter family without its `_total`; the samples carry it
  const base = f.type === 'counter' && om && f.name.endsWith('_total') ? f.name.slice(0, -'_total'.length) : f.name;
  out.push(`# HELP ${base} ${escapeHelp(f.help, format)}`);
  out.push(`# TYPE ${base} ${f.type}`);
  if (om && f.unit) out.push(`# UNIT ${base} ${f.unit}`);
  if (f.type === 'histogram') {
    for (const s of f.samples) histogramLines(base, s, format, out);
    return;
  }
  const sampleName = f.type === 'counter' && om ? `${base}_total` : f.name;
  for (const s of f.samples) out.push(`${sampleName}${labelText(s.labels)} ${formatValue(s.value, format)}`);
}

function histogramLines(name: string, s: HistogramSample, format: Format, out: string[]): void {
  if (s.counts.length !== s.buckets.length + 1) throw new RangeError('histogram counts must have one more entry than buckets');
  let cumulative = 0;
  s.buckets.forEach((b, i) => {
    cumulative += s.counts[i];
    out.push(`${name}_bucket${labelText(s.labels, ['le', formatValue(b, format)])} ${cumulative}`);
  });
  cumulative += s.counts[s.buckets.length];
  out.push(`${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${cumulative}`);
  out.push(`${name}_sum${labelText(s.labels)} ${formatValue(s.sum, format)}`);
  out.push(`${name}_count${labelText(s.labels)} ${cumulative}`);
}

/** The exposition of `families` in `format`, ending in a newline (and `# EOF` for OpenMetrics). */
export function render(families: readonly MetricFamily[], format: Format = 'prometheus'): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (seen.has(f.name)) throw new RangeError(`metric family ${f.name} given twice`);
    seen.add(f.name);
    familyLines(f, format, out);
  }
  if (format === 'openmetrics') out.push('# EOF');
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * The format an Accept header asks for, as client_golang's
 * NegotiateIncludingOpenMetrics picks it: the highest-q media range we
 * speak wins (OpenMetrics 1.0.0 / 0.0.1, text 0.0.4); anything else, text.
 */
export function negotiate(accept: string | undefined): Format {
  if (!accept) return 'prometheus';
  const ranges = accept.split(',').map((part, order) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p = new Map<string, string>();
    for (const kv of params) {
      const eq = kv.indexOf('=');
      if (eq > 0)
        p.set(
          kv.slice(0, eq).trim().toLowerCase(),
          kv
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, ''),
        );
    }
    const q = p.has('q') ? Number(p.get('q')) : 1;
    return { type: type.toLowerCase(), version: p.get('version'), q: Number.isFinite(q) ? q : 0, order };
  });
  ranges.sort((a, b) => b.q - a.q || a.order - b.order);
  for (const r of ranges) {
    if (r.q <= 0) continue;
    if (r.type === 'application/openmetrics-text' && (r.version === undefined || r.version === '1.0.0' || r.version === '0.0.1')) {
      return 'openmetrics';
    }
    if (r.type === 'text/plain' && (r.version === undefined || r.version === '0.0.4')) return 'prometheus';
  }
  return 'prometheus';
}
