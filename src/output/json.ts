// The JSON-lines renderer: one object per line, in the one vocabulary of
// sockit(1) (JSON OUTPUT): a `type` on every record, snake_case keys,
// durations in milliseconds named `*_ms` (seconds `*_s` for rates),
// addresses as strings, ports as numbers, `family` 4 or 6, and a last
// `summary` record with `exit_code`.

/** A record: what a command's core reported, named as the vocabulary names it. */
export interface JsonRecord {
  type: string;
  [key: string]: unknown;
}

/** The one rounding rule: `*_ms` to the microsecond (3 decimals), `*_s` to 6 decimals. */
export function roundDuration(key: string, v: number): number {
  if (!Number.isFinite(v)) return v;
  if (key.endsWith('_ms')) return Math.round(v * 1e3) / 1e3;
  if (key.endsWith('_s')) return Math.round(v * 1e6) / 1e6;
  return v;
}

function replacer(key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v); // ns counts fit a double here
  if (typeof v === 'number') return roundDuration(key, v);
  return v;
}

let summaryWritten = false;

/** A record as its line (with the newline), for a writer that keeps lines in order. */
export function jsonText(record: JsonRecord): string {
  if (record.type === 'summary' || (record as { event?: unknown }).event === 'summary') summaryWritten = true;
  return JSON.stringify(record, replacer) + '\n';
}

/** Write one record as a JSON line. */
export function jsonLine(record: JsonRecord, out: NodeJS.WritableStream = process.stdout): void {
  out.write(jsonText(record));
}

/** Whether a `summary` record has gone to stdout (cli.ts adds one for a run that ended without). */
export function hasSummary(): boolean {
  return summaryWritten;
}
