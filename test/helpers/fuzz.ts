// Feed a decoder every prefix of a valid packet and seeded random bytes: it
// must return a result (ok or a typed failure), never throw.
import { expect } from 'vitest';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/** mulberry32: seeded floats in [0, 1), the same on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rand() & 0xff;
  return b;
}

type Decoder = (buf: Buffer) => { ok: boolean; error?: string; codec?: string };

/** Returns how many prefixes decoded ok (for callers that want to assert on it). */
export function neverThrows(decode: Decoder, valid: Buffer, seed = 1): { prefixOk: number; randomOk: number } {
  let prefixOk = 0;
  for (let n = 0; n <= valid.length; n++) {
    const r = decode(valid.subarray(0, n));
    expect(typeof r.ok).toBe('boolean');
    if (r.ok) prefixOk++;
    else expect(r.error).toMatch(/\S/);
  }
  const rand = lcg(seed);
  let randomOk = 0;
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(rand, rand() % 120);
    // bias toward plausible headers so deeper paths are exercised
    if (b.length > 0 && i % 2 === 0) b[0] = valid[0];
    const r = decode(b);
    expect(typeof r.ok).toBe('boolean');
    if (r.ok) randomOk++;
  }
  return { prefixOk, randomOk };
}
