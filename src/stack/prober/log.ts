// A probe's log, as blackbox_exporter's scrape logger keeps it: logfmt
// lines (ts, module, target, level, msg, then the pairs) collected for the
// debug output and the recent-probes page.

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** A logfmt value: quoted when it holds a space, `=`, `"` or nothing. */
export function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? v.message : String(v);
  if (s === '' || /[\s="\\]/.test(s)) return JSON.stringify(s);
  return s;
}

export class ProbeLog {
  readonly lines: string[] = [];

  constructor(
    readonly module: string,
    readonly target: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  log(level: Level, msg: string, pairs: Record<string, unknown> = {}): void {
    const kv: [string, unknown][] = [
      ['ts', this.now().toISOString()],
      ['module', this.module],
      ['target', this.target],
      ['level', level],
      ['msg', msg],
      ...Object.entries(pairs),
    ];
    this.lines.push(kv.map(([k, v]) => `${k}=${logfmtValue(v)}`).join(' '));
  }

  debug(msg: string, pairs?: Record<string, unknown>): void {
    this.log('debug', msg, pairs);
  }
  info(msg: string, pairs?: Record<string, unknown>): void {
    this.log('info', msg, pairs);
  }
  warn(msg: string, pairs?: Record<string, unknown>): void {
    this.log('warn', msg, pairs);
  }
  error(msg: string, pairs?: Record<string, unknown>): void {
    this.log('error', msg, pairs);
  }

  text(): string {
    return this.lines.map((l) => l + '\n').join('');
  }
}
