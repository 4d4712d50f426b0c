import { describe, expect, it } from 'vitest';
import * as ipv4 from '../../../src/stack/packet/ipv4.js';
import { neverThrows } from '../../helpers/fuzz.js';

describe('ipv4', () => {
  const payload = Buffer.from('0800f7ff00000000', 'hex');
  const fields: ipv4.IPv4Fields = { tos: 0x10, id: 0xbeef, df: true, ttl: 7, protocol: 1, src: '192.0.2.2', dst: '203.0.113.9' };

  it('round-trips a header and payload', () => {
    const wire = ipv4.encode(fields, payload);
    expect(wire.length).toBe(ipv4.encodingLength(fields, payload.length));
    const r = ipv4.decode(wire);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const h = r.value.header;
    expect(h).toMatchObject({
      version: 4,
      headerLength: 20,
      tos: 0x10,
      totalLength: 28,
      id: 0xbeef,
      df: true,
      mf: false,
      ttl: 7,
      protocol: 1,
      src: '192.0.2.2',
      dst: '203.0.113.9',
      checksumOk: true,
    });
    expect(r.value.payload).toEqual(payload);
    expect(r.value.partial).toBe(false);
    expect(r.length).toBe(28);
  });

  it('carries options padded to 32 bits and fragment fields', () => {
    // record route option (RFC 791): type 7, length 7, pointer 4, room for one address
    const rr = Buffer.from([7, 7, 4, 0, 0, 0, 0]);
    const wire = ipv4.encode({ ...fields, df: false, mf: true, fragmentOffset: 1480, options: rr }, payload);
    const r = ipv4.decode(wire);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.header.headerLength).toBe(28);
    expect(r.value.header.options).toEqual(Buffer.concat([rr, Buffer.alloc(1)]));
    expect(r.value.header).toMatchObject({ mf: true, df: false, fragmentOffset: 1480, checksumOk: true });
    expect(() => ipv4.encode({ ...fields, options: Buffer.alloc(41) })).toThrow(RangeError);
  });

  it('flags a corrupted header checksum without failing', () => {
    const wire = ipv4.encode(fields, payload);
    wire[8] = 99;
    const r = ipv4.decode(wire);
    expect(r.ok && r.value.header.checksumOk).toBe(false);
  });

  it('marks a datagram cut short (as ICMP quotes are) as partial', () => {
    const wire = ipv4.encode(fields, Buffer.alloc(100));
    const r = ipv4.decode(wire.subarray(0, 28));
    expect(r.ok && r.value.partial).toBe(true);
    expect(r.ok && r.value.payload.length).toBe(8);
  });

  it('rejects what is not IPv4, with a reason', () => {
    const wire = ipv4.encode(fields, payload);
    const v6 = Buffer.from(wire);
    v6[0] = 0x60;
    expect(ipv4.decode(v6)).toMatchObject({ ok: false, codec: 'ipv4', error: 'version 6 is not 4' });
    const shortIhl = Buffer.from(wire);
    shortIhl[0] = 0x44;
    expect(ipv4.decode(shortIhl)).toMatchObject({ ok: false, error: 'header length 16 below 20' });
    const badTotal = Buffer.from(wire);
    badTotal.writeUInt16BE(10, 2);
    expect(ipv4.decode(badTotal)).toMatchObject({ ok: false });
    expect(ipv4.decode(wire.subarray(0, 12))).toMatchObject({ ok: false, error: 'truncated: need 20 bytes, have 12' });
  });

  it('never throws on malformed input', () => {
    const r = neverThrows((b) => ipv4.decode(b), ipv4.encode(fields, payload));
    expect(r.prefixOk).toBe(9); // 20..28 bytes decode (shorter than totalLength = partial)
  });

  it('decodeHeader finds what decode does, the payload as the offset where it ends', () => {
    const wire = Buffer.concat([Buffer.alloc(3, 0xaa), ipv4.encode({ ...fields, options: Uint8Array.of(1, 1, 1, 0) }, payload), Buffer.alloc(2)]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const b = wire.subarray(0, cut);
      for (const at of [0, 3]) {
        const full = ipv4.decode(b, at),
          head = ipv4.decodeHeader(b, at);
        if (!full.ok || !head.ok) {
          expect(head).toEqual(full);
          continue;
        }
        expect(head.length).toBe(full.length);
        expect(head.value.header).toEqual(full.value.header);
        expect(head.value.partial).toBe(full.value.partial);
        expect(head.value.end).toBe(full.value.payload.byteOffset - b.byteOffset + full.value.payload.length);
      }
    }
  });
});
