import { describe, expect, it } from 'vitest';
import * as tcp from '../../../src/stack/packet/tcp.js';
import * as udp from '../../../src/stack/packet/udp.js';
import { neverThrows } from '../../helpers/fuzz.js';

const ph4 = { src: '192.0.2.2', dst: '192.0.2.33' };
const ph6 = { src: '2001:db8::2', dst: '2001:db8:0:2::1' };

describe('udp', () => {
  it('round-trips with a checksum that verifies over the pseudo-header', () => {
    for (const ph of [ph4, ph6]) {
      const wire = udp.encode({ srcPort: 54321, dstPort: 33434 }, Buffer.from('SUPERMAN'), ph);
      const r = udp.decode(wire);
      if (!r.ok) throw new Error(r.error);
      expect(r.value).toMatchObject({ srcPort: 54321, dstPort: 33434, length: 16 });
      expect(r.value.payload.toString()).toBe('SUPERMAN');
      expect(udp.verifyChecksum(wire, ph)).toBe(true);
      wire[9] ^= 0xff;
      expect(udp.verifyChecksum(wire, ph)).toBe(false);
    }
  });

  it('decodes the 8 bytes an ICMP error quotes', () => {
    const wire = udp.encode({ srcPort: 1, dstPort: 2 }, Buffer.alloc(32));
    const r = udp.decode(wire.subarray(0, 8));
    expect(r.ok && r.value.length).toBe(40);
    expect(r.ok && r.value.payload.length).toBe(0);
  });

  it('never throws on malformed input', () => {
    neverThrows((b) => udp.decode(b), udp.encode({ srcPort: 9, dstPort: 7 }, Buffer.from('x')));
  });
});

describe('tcp', () => {
  const syn: tcp.TcpFields = {
    srcPort: 40212,
    dstPort: 80,
    seq: 0xdeadbeef,
    flags: { syn: true, ece: true, cwr: true },
    window: 64240,
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamps', value: 123456, echo: 0 },
      { kind: 'nop' },
      { kind: 'windowScale', shift: 7 },
    ],
  };

  it('round-trips a SYN with the usual options', () => {
    const wire = tcp.encode(syn, Buffer.alloc(0), ph4);
    expect(wire.length).toBe(40);
    const r = tcp.decode(wire);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toMatchObject({ srcPort: 40212, dstPort: 80, seq: 0xdeadbeef, ack: 0, headerLength: 40, window: 64240 });
    expect(r.value.flags).toEqual({ fin: false, syn: true, rst: false, psh: false, ack: false, urg: false, ece: true, cwr: true });
    expect(r.value.options).toEqual(syn.options);
    expect(tcp.verifyChecksum(wire, ph4)).toBe(true);
    expect(tcp.flagString(r.value.flags)).toBe('SEW');
  });

  it('carries SACK blocks, data and a v6 checksum', () => {
    const seg: tcp.TcpFields = {
      srcPort: 1,
      dstPort: 2,
      seq: 5,
      ack: 9,
      flags: { ack: true, psh: true },
      options: [
        { kind: 'nop' },
        { kind: 'nop' },
        {
          kind: 'sack',
          blocks: [
            [100, 200],
            [300, 400],
          ],
        },
      ],
    };
    const wire = tcp.encode(seg, Buffer.from('data'), ph6);
    const r = tcp.decode(wire);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.options).toEqual(seg.options);
    expect(r.value.payload.toString()).toBe('data');
    expect(tcp.verifyChecksum(wire, ph6)).toBe(true);
    expect(tcp.flagString(r.value.flags)).toBe('P.');
  });

  it('rejects a malformed option with a reason', () => {
    const wire = tcp.encode({ srcPort: 1, dstPort: 2, options: [{ kind: 'mss', value: 1 }] });
    wire[21] = 3; // MSS claiming length 3
    expect(tcp.decode(wire)).toMatchObject({ ok: false, codec: 'tcp-option', error: 'option 2 length 3, expected 4' });
    wire[21] = 9; // runs past the header
    expect(tcp.decode(wire)).toMatchObject({ ok: false, codec: 'tcp-option' });
  });

  it('never throws on malformed input', () => {
    neverThrows((b) => tcp.decode(b), tcp.encode(syn, Buffer.from('hi'), ph4));
  });
});
