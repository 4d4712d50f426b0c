import { describe, expect, it } from 'vitest';
import { verify } from '../../../src/stack/packet/checksum.js';
import * as icmp4 from '../../../src/stack/packet/icmp4.js';
import * as icmp6 from '../../../src/stack/packet/icmp6.js';
import * as ipv4 from '../../../src/stack/packet/ipv4.js';
import * as ipv6 from '../../../src/stack/packet/ipv6.js';
import * as udp from '../../../src/stack/packet/udp.js';
import { neverThrows } from '../../helpers/fuzz.js';

// what a router quotes: the original IP header and the start of its payload
function quoted4(protocol: number, transport: Buffer): Buffer {
  return ipv4.encode({ ttl: 1, protocol, src: '192.0.2.2', dst: '192.0.2.33', id: 77 }, transport);
}
function quoted6(nextHeader: number, transport: Buffer): Buffer {
  return ipv6.encode({ nextHeader, hopLimit: 1, src: '2001:db8::2', dst: '2001:db8:0:2::1' }, transport);
}

describe('icmp4', () => {
  it('round-trips an echo request with a valid checksum', () => {
    const data = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef01234567');
    const wire = icmp4.encode(icmp4.echo(icmp4.ECHO_REQUEST, 0x1234, 65535, data));
    expect(wire.length).toBe(64);
    expect(verify(wire)).toBe(true);
    const r = icmp4.decode(wire);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toMatchObject({ type: 8, code: 0, checksumOk: true, body: { kind: 'echo', id: 0x1234, seq: 65535 } });
    expect((r.value.body as icmp4.Echo).data).toEqual(data);
  });

  it('decodes a time exceeded quoting a UDP probe', () => {
    const probe = udp.encode({ srcPort: 40000, dstPort: 33435 }, Buffer.alloc(32));
    const original = quoted4(17, probe).subarray(0, 28); // header + 8, RFC 792 minimum
    const wire = icmp4.encode({ type: icmp4.TIME_EXCEEDED, code: icmp4.EXC_TTL, body: { kind: 'error', original, mtu: 0 } });
    const r = icmp4.decode(wire);
    if (!r.ok) throw new Error(r.error);
    const b = r.value.body as icmp4.ErrorBody;
    expect(b.kind).toBe('error');
    expect(b.quote?.ip).toMatchObject({ src: '192.0.2.2', dst: '192.0.2.33', protocol: 17, id: 77, ttl: 1 });
    expect(b.quote?.udp).toEqual({ srcPort: 40000, dstPort: 33435, length: 40, checksum: 0 });
    expect(b.quote?.echo).toBeUndefined();
  });

  it('decodes frag needed with the next-hop MTU and a quoted echo', () => {
    const echo = icmp4.encode(icmp4.echo(icmp4.ECHO_REQUEST, 99, 3, Buffer.alloc(1400)));
    const original = quoted4(1, echo).subarray(0, 548);
    const wire = icmp4.encode({ type: icmp4.DEST_UNREACH, code: icmp4.FRAG_NEEDED, body: { kind: 'error', original, mtu: 1400 } });
    const r = icmp4.decode(wire);
    if (!r.ok) throw new Error(r.error);
    const b = r.value.body as icmp4.ErrorBody;
    expect(b.mtu).toBe(1400);
    expect(b.quote?.echo).toEqual({ type: 8, code: 0, id: 99, seq: 3 });
  });

  it('separates RFC 4884 extensions from the quoted datagram', () => {
    const original = quoted4(17, udp.encode({ srcPort: 1, dstPort: 2 }, Buffer.alloc(100))).subarray(0, 128);
    // RFC 4884 extension header (version 2) and one RFC 4950 MPLS label stack object
    const extensions = Buffer.from([0x20, 0, 0, 0, 0, 8, 1, 1, 0, 1, 0x41, 0xff]);
    const wire = icmp4.encode({ type: icmp4.TIME_EXCEEDED, code: 0, body: { kind: 'error', original, mtu: 0, extensions } });
    expect(wire[5]).toBe(32); // 128 bytes in 32-bit words
    const r = icmp4.decode(wire);
    if (!r.ok) throw new Error(r.error);
    const b = r.value.body as icmp4.ErrorBody;
    expect(b.original.length).toBe(128);
    expect(b.extensions).toEqual(extensions);
    expect(b.quote?.udp?.dstPort).toBe(2);
  });

  it('keeps an undecodable quote as bytes with the reason', () => {
    const wire = icmp4.encode({
      type: icmp4.DEST_UNREACH,
      code: icmp4.HOST_UNREACH,
      body: { kind: 'error', original: Buffer.from('not an ip header'), mtu: 0 },
    });
    const r = icmp4.decode(wire);
    if (!r.ok) throw new Error(r.error);
    const b = r.value.body as icmp4.ErrorBody;
    expect(b.quote).toBeUndefined();
    expect(b.quoteError).toMatch(/^ipv4: /);
    expect(b.original.toString()).toBe('not an ip header');
  });

  it('keeps unknown types raw and flags bad checksums', () => {
    const wire = icmp4.encode({ type: 42, code: 0, body: { kind: 'raw', data: Buffer.from([1, 2, 3, 4]) } });
    wire[6] ^= 1;
    const r = icmp4.decode(wire);
    expect(r.ok && r.value.body.kind).toBe('raw');
    expect(r.ok && r.value.checksumOk).toBe(false);
    expect(icmp4.decode(Buffer.alloc(7))).toMatchObject({ ok: false, codec: 'icmp4' });
  });

  it('never throws on malformed input', () => {
    const echo = icmp4.encode(icmp4.echo(8, 1, 1, Buffer.alloc(8)));
    neverThrows((b) => icmp4.decode(b), icmp4.encode({ type: 11, code: 0, body: { kind: 'error', original: quoted4(1, echo), mtu: 0 } }));
  });
});

describe('icmp6', () => {
  const ph = { src: '2001:db8::2', dst: '2001:db8:0:2::1' };

  it('round-trips an echo with a pseudo-header checksum', () => {
    const wire = icmp6.encode(icmp6.echo(icmp6.ECHO_REQUEST, 7, 1, Buffer.from('abc')), ph);
    const r = icmp6.decode(wire, 0, ph);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toMatchObject({ type: 128, code: 0, checksumOk: true, body: { kind: 'echo', id: 7, seq: 1 } });
    const other = icmp6.decode(wire, 0, { src: '2001:db8::3', dst: ph.dst });
    expect(other.ok && other.value.checksumOk).toBe(false);
  });

  it('decodes packet too big with its MTU and the quoted echo', () => {
    const echo = icmp6.encode(icmp6.echo(icmp6.ECHO_REQUEST, 5, 9, Buffer.alloc(1400)));
    const original = quoted6(58, echo).subarray(0, 1232);
    const r = icmp6.decode(icmp6.encode({ type: icmp6.PACKET_TOO_BIG, code: 0, body: { kind: 'error', original, mtu: 1400 } }, ph));
    if (!r.ok) throw new Error(r.error);
    const b = r.value.body as icmp6.ErrorBody;
    expect(b.mtu).toBe(1400);
    expect(b.quote?.echo).toEqual({ type: 128, code: 0, id: 5, seq: 9 });
    expect(b.quote?.ip).toMatchObject({ src: '2001:db8::2', dst: '2001:db8:0:2::1', hopLimit: 1 });
  });

  it('decodes time exceeded quoting UDP, and a parameter problem pointer', () => {
    const probe = udp.encode({ srcPort: 5000, dstPort: 33434 }, Buffer.alloc(24));
    const te = icmp6.decode(icmp6.encode({ type: icmp6.TIME_EXCEEDED, code: 0, body: { kind: 'error', original: quoted6(17, probe), mtu: 0 } }));
    expect(te.ok && (te.value.body as icmp6.ErrorBody).quote?.udp?.dstPort).toBe(33434);
    const pp = icmp6.decode(icmp6.encode({ type: icmp6.PARAM_PROB, code: 1, body: { kind: 'error', original: quoted6(17, probe), mtu: 0, pointer: 6 } }));
    expect(pp.ok && (pp.value.body as icmp6.ErrorBody).pointer).toBe(6);
  });

  it('never throws on malformed input', () => {
    neverThrows((b) => icmp6.decode(b, 0, ph), icmp6.encode({ type: 1, code: 4, body: { kind: 'error', original: quoted6(17, Buffer.alloc(8)), mtu: 0 } }));
  });
});
