import { describe, expect, it } from 'vitest';
import { addressFamily, formatIPv4, formatIPv6, inetAton, parseIPv4, parseIPv6 } from '../../../src/stack/packet/addr.js';
import { lcg, randomBytes } from '../../helpers/fuzz.js';

describe('addr', () => {
  it('takes inet_aton(3) forms as iputils takes numeric targets', () => {
    expect(inetAton('127.1')).toBe('127.0.0.1');
    expect(inetAton('0x7f000001')).toBe('127.0.0.1');
    expect(inetAton('2130706433')).toBe('127.0.0.1');
    expect(inetAton('010.0.0.1')).toBe('8.0.0.1');
    expect(inetAton('0x')).toBe('0.0.0.0');
    expect(inetAton('localhost')).toBeNull();
    expect(inetAton('1.2.3.256')).toBeNull();
    expect(inetAton('1.2.65536')).toBeNull();
    expect(inetAton('1..2')).toBeNull();
  });

  it('parses and formats IPv4', () => {
    expect([...parseIPv4('192.0.2.1')!]).toEqual([192, 0, 2, 1]);
    expect(formatIPv4(Buffer.from([203, 0, 113, 255]))).toBe('203.0.113.255');
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d', '', '1..2.3']) expect(parseIPv4(bad)).toBeNull();
  });

  it('formats IPv6 as inet_ntop does (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['::', '::'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'], // the longer zero run wins
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
      ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'], // one zero word is not compressed
      ['fe80::1%eth0', 'fe80::1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['2001:DB8::A', '2001:db8::a'],
    ];
    for (const [input, want] of cases) expect(formatIPv6(parseIPv6(input)!)).toBe(want);
    for (const bad of [':::', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '::ffff:1.2.3']) expect(parseIPv6(bad)).toBeNull();
  });

  it('round-trips random IPv6 addresses', () => {
    const rand = lcg(7);
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(rand, 16);
      // sprinkle zero words so compression paths run
      for (let w = 0; w < 8; w++) if (rand() % 3 === 0) b.writeUInt16BE(0, w * 2);
      expect(parseIPv6(formatIPv6(b))).toEqual(b);
    }
  });

  it('tells families apart', () => {
    expect(addressFamily('192.0.2.1')).toBe(4);
    expect(addressFamily('2001:db8::1')).toBe(6);
    expect(addressFamily('example.com')).toBe(0);
  });
});
