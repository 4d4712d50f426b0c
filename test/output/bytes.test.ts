// output/bytes.ts: the byte-level line writer the listings share.
import { describe, expect, it } from 'vitest';
import { ByteLines, digits } from '../../src/output/bytes.js';

describe('digits', () => {
  it('is String(v).length for every count a listing prints, up to 2^53', () => {
    const edges = [0, 1, 9, 10, 99, 100, 65535, 99999, 1e5, 999999, 1e6, 1e9 - 1, 1e9, 1e10 - 1, 1e10, 1e11, 2 ** 32 - 1, 2 ** 53 - 1];
    for (const v of edges) expect(digits(v), String(v)).toBe(String(v).length);
    for (let v = 0; v < 300_000; v += 7) if (digits(v) !== String(v).length) expect(digits(v), String(v)).toBe(String(v).length);
  });
});

describe('ByteLines', () => {
  it('writes text, numbers and spaces in order, a full buffer at a time', () => {
    const out: Buffer[] = [];
    const w = new ByteLines((b) => out.push(Buffer.from(b)));
    for (let i = 0; i < 20_000; i++) {
      w.text('n=');
      w.uint(i * 37);
      w.spaces(3);
      w.byte(0x0a);
    }
    w.flush();
    const want = Array.from({ length: 20_000 }, (_, i) => `n=${i * 37}   \n`).join('');
    expect(Buffer.concat(out).toString('latin1')).toBe(want);
    expect(out.length).toBeGreaterThan(1);
  });
});
