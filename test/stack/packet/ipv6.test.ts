import { describe, expect, it } from 'vitest';
import * as ipv6 from '../../../src/stack/packet/ipv6.js';
import { neverThrows } from '../../helpers/fuzz.js';

describe('ipv6', () => {
  const fields: ipv6.IPv6Fields = { trafficClass: 0xb8, flowLabel: 0x12345, nextHeader: 58, hopLimit: 3, src: '2001:db8::2', dst: '2001:db8:0:3::1' };
  const payload = Buffer.from('8000000000010002', 'hex');

  it('round-trips the fixed header', () => {
    const r = ipv6.decode(ipv6.encode(fields, payload));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.header).toEqual({
      version: 6,
      trafficClass: 0xb8,
      flowLabel: 0x12345,
      payloadLength: 8,
      nextHeader: 58,
      hopLimit: 3,
      src: '2001:db8::2',
      dst: '2001:db8:0:3::1',
    });
    expect(r.value.protocol).toBe(58);
    expect(r.value.extensions).toEqual([]);
    expect(r.value.payload).toEqual(payload);
  });

  it('walks hop-by-hop, destination options and fragment headers to the upper layer', () => {
    const hbh = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]); // next: dest opts, PadN
    const dst = Buffer.from([44, 1, 1, 12, ...Array(12).fill(0)]); // next: fragment, 16 bytes
    const frag = Buffer.from([17, 0, 0, 1, 0, 0, 0, 42]); // next: UDP, offset 0, M=1, id 42
    const udp = Buffer.from('d43182be00080000', 'hex');
    const r = ipv6.decode(ipv6.encode({ ...fields, nextHeader: 0 }, Buffer.concat([hbh, dst, frag, udp])));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.extensions).toEqual([
      { type: 0, length: 8 },
      { type: 60, length: 16 },
      { type: 44, length: 8 },
    ]);
    expect(r.value.protocol).toBe(17);
    expect(r.value.fragment).toEqual({ offset: 0, more: true, id: 42 });
    expect(r.value.payload).toEqual(udp);
  });

  it('stops at a non-first fragment', () => {
    const frag = Buffer.from([17, 0, 0x05, 0xc8, 0, 0, 0, 7]); // offset 1480
    const r = ipv6.decode(ipv6.encode({ ...fields, nextHeader: 44 }, Buffer.concat([frag, Buffer.alloc(16)])));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.fragment).toEqual({ offset: 1480, more: false, id: 7 });
    expect(r.value.payload.length).toBe(16);
  });

  it('reports a truncated extension header instead of reading past it', () => {
    const hbh = Buffer.from([17, 3, 0, 0, 0, 0, 0, 0]); // claims 32 bytes
    const r = ipv6.decode(ipv6.encode({ ...fields, nextHeader: 0 }, hbh));
    expect(r).toMatchObject({ ok: false, codec: 'ipv6', error: 'truncated: need 32 bytes, have 8' });
  });

  it('never throws on malformed input', () => {
    const hbh = Buffer.from([58, 0, 1, 4, 0, 0, 0, 0]);
    neverThrows((b) => ipv6.decode(b), ipv6.encode({ ...fields, nextHeader: 0 }, Buffer.concat([hbh, payload])));
  });
});
