import { describe, expect, it } from 'vitest';
import * as ntp from '../../../src/stack/packet/ntp.js';
import { best, checkReply, request, sample, type SntpSample } from '../../../src/stack/sntp.js';
import { lcg, neverThrows, randomBytes } from '../../helpers/fuzz.js';

const reply: ntp.NtpPacket = {
  leap: 0,
  version: 4,
  mode: ntp.MODE_SERVER,
  stratum: 2,
  poll: 6,
  precision: -23,
  rootDelay: 0.0123291015625,
  rootDispersion: 0.5,
  referenceId: 0xc0000201,
  referenceTime: 0xeeb9d500_00000000n,
  originateTime: 0xeeb9d548_53c3f000n,
  receiveTime: 0xeeb9d548_53ced5b3n,
  transmitTime: 0xeeb9d548_551dfb8cn,
};

describe('ntp codec', () => {
  it('lays the fields out as RFC 4330 figure 1 does', () => {
    const b = ntp.encode(reply);
    expect(b.length).toBe(48);
    expect(ntp.encodingLength(reply)).toBe(48);
    expect(b[0]).toBe(0b00_100_100); // LI 0, VN 4, mode 4
    expect(b.subarray(1, 4)).toEqual(Buffer.from([2, 6, 0xe9]));
    expect(b.readUInt32BE(4)).toBe(Math.round(0.0123291015625 * 65536));
    expect(b.readUInt32BE(8)).toBe(0x8000);
    expect(b.subarray(12, 16)).toEqual(Buffer.from([192, 0, 2, 1]));
    expect(b.readBigUInt64BE(40)).toBe(0xeeb9d548_551dfb8cn);
  });

  it('round-trips, keeping bytes after the header as the trailer', () => {
    const r = ntp.decode(ntp.encode(reply));
    expect(r.ok && r.value).toEqual(reply);
    const withKey = { ...reply, trailer: Buffer.from('0000000112345678901234567890abcd', 'hex') };
    const w = ntp.encode(withKey);
    expect(w.length).toBe(ntp.encodingLength(withKey));
    const d = ntp.decode(w);
    expect(d.ok && d.value).toEqual(withKey);
    expect(d.ok && d.length).toBe(64);
  });

  it('round-trips random packets (fields as the wire holds them)', () => {
    const rand = lcg(7);
    for (let i = 0; i < 200; i++) {
      const wire = randomBytes(rand, 48);
      const d = ntp.decode(wire);
      if (!d.ok) throw new Error(d.error);
      expect(ntp.encode(d.value)).toEqual(wire);
    }
  });

  it('a short packet is a typed failure, never a throw', () => {
    const r = ntp.decode(Buffer.alloc(20));
    expect(r).toEqual({ ok: false, codec: 'ntp', error: 'truncated: need 48 bytes, have 20', offset: 0 });
    const { prefixOk } = neverThrows(ntp.decode, ntp.encode(reply));
    expect(prefixOk).toBe(1);
  });

  it('converts Unix time and NTP timestamps both ways, with era 1 after 2036 (RFC 4330 section 3)', () => {
    const ns = 1_796_167_368_327_209_000n;
    const ts = ntp.fromUnixNs(ns);
    expect(ts >> 32n).toBe(1_796_167_368n + ntp.UNIX_EPOCH);
    expect(ntp.toUnixNs(ts) - ns).toBeLessThanOrEqual(1n);
    // 2036-02-07T06:28:16Z is NTP second 2^32: era 1 starts again at 0
    const era1 = 2_085_978_496n * 1_000_000_000n + 500_000_000n;
    const t1 = ntp.fromUnixNs(era1);
    expect(t1 >> 32n).toBe(0n);
    expect(ntp.toUnixNs(t1)).toBe(era1);
    expect(ntp.toUnixNs(0x80000000_00000000n)).toBe((0x80000000n - ntp.UNIX_EPOCH) * 1_000_000_000n);
  });

  it('reads the reference id as text for strata 0 and 1 and as an address above', () => {
    const ascii = (s: string) => Buffer.from(s.padEnd(4, '\0'), 'latin1').readUInt32BE(0);
    expect(ntp.referenceIdText({ stratum: 1, referenceId: ascii('GPS') })).toBe('GPS');
    expect(ntp.referenceIdText({ stratum: 0, referenceId: ascii('RATE') })).toBe('RATE');
    expect(ntp.referenceIdText({ stratum: 3, referenceId: 0xc0000201 })).toBe('192.0.2.1');
  });
});

describe('RFC 4330 section 5 checks and arithmetic', () => {
  const sent = reply.originateTime;
  const wire = (p: Partial<ntp.NtpPacket>) => ntp.encode({ ...reply, ...p });

  it('accepts a good reply and rejects each fault with its own kind', () => {
    expect(checkReply(wire({}), sent).ok).toBe(true);
    const kind = (b: Buffer) => {
      const r = checkReply(b, sent);
      return r.ok ? 'ok' : r.kind;
    };
    expect(kind(wire({}).subarray(0, 47))).toBe('short');
    expect(kind(wire({ mode: ntp.MODE_CLIENT }))).toBe('mode');
    expect(kind(wire({ version: 3 }))).toBe('version');
    expect(kind(wire({ originateTime: sent + 1n }))).toBe('originate');
    expect(kind(wire({ transmitTime: 0n }))).toBe('transmit');
    expect(kind(wire({ stratum: 0, referenceId: Buffer.from('DENY').readUInt32BE(0) }))).toBe('kod');
    expect(kind(wire({ leap: 3 }))).toBe('unsynchronized');
    const kod = checkReply(wire({ stratum: 0, referenceId: Buffer.from('RATE').readUInt32BE(0) }), sent);
    expect(!kod.ok && kod.kind === 'kod' && kod.code).toBe('RATE');
  });

  it('offset and delay as section 5 gives them', () => {
    // T1 = 10 s, T2 = 10.5 s, T3 = 10.6 s, T4 = 10.2 s (Unix): the server is 0.45 s ahead, 0.1 s round trip
    const s = (n: number) => BigInt(Math.round(n * 1e9));
    const p = { ...reply, precision: -30, receiveTime: ntp.fromUnixNs(s(10.5)), transmitTime: ntp.fromUnixNs(s(10.6)) };
    const x = sample(p, s(10), s(10.2));
    expect(x.delayNs).toBeCloseTo(0.1e9, -1);
    expect(x.offsetNs).toBeCloseTo(0.45e9, -1);
    expect(x.errorNs).toBeCloseTo(0.05e9 + 15e-6 * 0.2e9 + 2 ** -30 * 1e9, -1);
  });

  it('picks as ntpdig does: lowest stratum, then smallest error', () => {
    const mk = (stratum: number, errorNs: number) => ({ packet: { ...reply, stratum }, errorNs }) as SntpSample;
    const a = mk(3, 10),
      b = mk(2, 50),
      c = mk(2, 20);
    expect(best([a, b, c])).toBe(c);
    expect(best([])).toBeUndefined();
  });

  it('a request is mode 3, version 4, with our time as its transmit timestamp', () => {
    const r = request(1_796_167_368_000_000_000n);
    expect(ntp.encode(r)[0]).toBe(0x23);
    expect(ntp.toUnixNs(r.transmitTime)).toBe(1_796_167_368_000_000_000n);
  });
});
