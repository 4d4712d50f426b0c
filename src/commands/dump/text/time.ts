// util-print.c ts_print (tcpdump 4.99): the timestamp before each line, by
// default or as -t, -tt, -ttt, -tttt or -ttttt ask, in micro- or
// nanoseconds. Facts copied, not code.

export type TimeFormat = 'default' | 'none' | 'unix' | 'delta' | 'date' | 'since-first';

const two = (n: number) => (n < 10 ? '0' : '') + n;

// the zeros before a fraction's digits (no padStart per packet); none for a fraction out of range
const ZEROS = ['000000000', '00000000', '0000000', '000000', '00000', '0000', '000', '00', '0', ''];

function fraction(nsec: number, nano: boolean): string {
  const s = String(nano ? nsec : Math.floor(nsec / 1000));
  return (ZEROS[s.length + (nano ? 0 : 3)] ?? '') + s;
}

export class Clock {
  // the date part changes once a second: kept between packets
  private lastSec = -1;
  private lastText = '';
  private first: [number, number] | undefined;
  private prev: [number, number] | undefined;
  constructor(
    private readonly format: TimeFormat,
    private readonly nano: boolean,
  ) {}

  /** The timestamp and its trailing space ('' for -t). */
  text(sec: number, nsec: number): string {
    switch (this.format) {
      case 'none':
        return '';
      case 'unix':
        return `${sec}.${fraction(nsec, this.nano)} `;
      case 'default':
      case 'date': {
        if (sec !== this.lastSec) {
          const d = new Date(sec * 1000);
          const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.`;
          this.lastText = this.format === 'date' ? `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}` : time;
          this.lastSec = sec;
        }
        return `${this.lastText}${fraction(nsec, this.nano)} `;
      }
      case 'delta':
      case 'since-first': {
        const ref = this.format === 'delta' ? this.prev : this.first;
        this.first ??= [sec, nsec];
        this.prev = [sec, nsec];
        return deltaText(ref ? [sec, nsec] : [0, 0], ref ?? [0, 0], this.nano) + ' ';
      }
    }
  }
}

function deltaText([s, n]: [number, number], [s0, n0]: [number, number], nano: boolean): string {
  // the difference in the printed unit; negative when a later packet carries an earlier time
  const unit = nano ? 1e9 : 1e6;
  const frac = (x: number) => (nano ? x : Math.floor(x / 1000));
  let d = (s - s0) * unit + (frac(n) - frac(n0));
  const neg = d < 0;
  if (neg) d = -d;
  const ds = Math.floor(d / unit);
  const f = String(d - ds * unit).padStart(nano ? 9 : 6, '0');
  return `${neg ? '-' : ' '}${two(Math.floor(ds / 3600))}:${two(Math.floor(ds / 60) % 60)}:${two(ds % 60)}.${f}`;
}
