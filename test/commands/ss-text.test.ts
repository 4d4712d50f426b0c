// ss's number formats against C's printf (through Python's %-formatting,
// which is C's): %g for times, %.3g with a unit for rates.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { bw, g } from '../../src/commands/ss/tcpinfo.js';
import { lcg } from '../helpers/fuzz.js';

function printf(fmt: string, values: number[]): string[] {
  const py = `import sys\nfor v in sys.argv[2:]: print(sys.argv[1] % float(v))`;
  return execFileSync('python3', ['-c', py, fmt, ...values.map((v) => v.toPrecision(17))], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('C number formats', () => {
  const rand = lcg(7);
  const values = [0.001, 0.0001, 0.00001234, 1, 10, 123456, 1234567, 0.5, 2.5, 1e21, 208, 0.038, 5.256, 10.452, 99999.95, 1e-7];
  for (let k = 0; k < 200; k++) values.push((rand() / 2 ** 32) * 10 ** ((rand() % 16) - 6));

  it("%g and %.3g are printf's", () => {
    expect(values.map((v) => g(v))).toEqual(printf('%g', values));
    expect(values.map((v) => g(v, 3))).toEqual(printf('%.3g', values));
  });

  it("sprint_bw's units", () => {
    const rates = [999, 1000, 64000, 1.5e6, 25288892839 * 8, 3.2e12];
    const c = printf(
      '%.3g',
      rates.map((r) => (r >= 1e12 ? r / 1e12 : r >= 1e9 ? r / 1e9 : r >= 1e6 ? r / 1e6 : r >= 1e3 ? r / 1e3 : r)),
    );
    const units = rates.map((r) => (r >= 1e12 ? 'T' : r >= 1e9 ? 'G' : r >= 1e6 ? 'M' : r >= 1e3 ? 'k' : ''));
    expect(rates.map((r) => bw(r, false))).toEqual(rates.map((r, i) => (r < 1e3 ? printf('%g', [r])[0] : c[i] + units[i])));
    expect(bw(1234.6, true)).toBe(printf('%.0f', [1234.6])[0]);
  });
});
