import { describe, expect, it } from 'vitest';
import { checksum, fold, pseudoHeaderSum, sum16, verify } from '../../../src/stack/packet/checksum.js';

describe('internet checksum', () => {
  it('matches the RFC 1071 example', () => {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (folded), checksum 220d
    const b = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(fold(sum16(b))).toBe(0xddf2);
    expect(checksum(b)).toBe(0x220d);
  });

  it('sums every length and start as the word-by-word definition does (two words a turn, a word and a byte left over)', () => {
    const b = Buffer.from(Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let start = 0; start < 4; start++)
      for (let end = start; end <= b.length; end++) {
        let want = 7;
        for (let i = start; i < end; i += 2) want += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
        expect(sum16(b, start, end, 7)).toBe(want);
      }
  });

  it('pads an odd byte with zero', () => {
    expect(checksum(Buffer.from([0x01]))).toBe(~0x0100 & 0xffff);
  });

  it('verifies a known IPv4 header', () => {
    // a real header (example from Wikipedia's IPv4 checksum article): checksum b861
    const h = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    expect(checksum(h)).toBe(0xb861);
    h.writeUInt16BE(0xb861, 10);
    expect(verify(h)).toBe(true);
    h[8] ^= 1;
    expect(verify(h)).toBe(false);
  });

  it('builds IPv4 and IPv6 pseudo-header sums', () => {
    const v4 = pseudoHeaderSum({ src: '192.0.2.1', dst: '192.0.2.2' }, 17, 20);
    expect(fold(v4)).toBe(fold(0xc000 + 0x0201 + 0xc000 + 0x0202 + 17 + 20));
    const v6 = pseudoHeaderSum({ src: '2001:db8::1', dst: '2001:db8::2' }, 58, 0x10008);
    expect(fold(v6)).toBe(fold(0x2001 + 0x0db8 + 1 + 0x2001 + 0x0db8 + 2 + 1 + 8 + 58));
    expect(() => pseudoHeaderSum({ src: '192.0.2.1', dst: '::1' }, 6, 20)).toThrow(/pseudo-header/);
  });
});
