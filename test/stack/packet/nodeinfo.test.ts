import { describe, expect, it } from 'vitest';
import { nodeInfoText } from '../../../src/commands/ping/text.js';
import { parseIPv4, parseIPv6 } from '../../../src/stack/packet/addr.js';
import * as ni from '../../../src/stack/packet/nodeinfo.js';
import { neverThrows } from '../../helpers/fuzz.js';

const nonce = Buffer.from([0, 7, 1, 2, 3, 4, 5, 6]);
const reply = (code: number, qtype: number, data: Buffer, flags = 0) => ni.encode({ type: ni.REPLY, code, qtype, flags, nonce, data });

describe('nodeinfo (RFC 4620)', () => {
  it('encodes a query as the RFC lays it out and decodes it back', () => {
    const subject = parseIPv6('2001:db8::1')!;
    const wire = ni.encode({ type: ni.QUERY, code: ni.SUBJECT_IPV6, qtype: ni.QTYPE_NODEADDR, flags: ni.FLAG_GLOBAL | ni.FLAG_ALL, nonce, data: subject });
    expect(wire.subarray(0, 16).toString('hex')).toBe('8b0000000003002200070102030405' + '06');
    expect(wire.subarray(16).equals(subject)).toBe(true);
    const d = ni.decode(wire);
    if (!d.ok) throw new Error(d.error);
    expect(d.value).toMatchObject({ type: 139, code: 0, qtype: 3, flags: 0x22 });
    expect(d.value.nonce.equals(nonce)).toBe(true);
    expect(ni.decode(Buffer.from([129, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toMatchObject({
      ok: false,
      error: 'not a node information message: type 129',
    });
    expect(() => ni.encode({ type: ni.QUERY, code: 0, qtype: 2, flags: 0, nonce: Buffer.alloc(4), data: subject })).toThrow(RangeError);
  });

  it('encodes names in DNS wire form, lower case; a single-label name gets its second zero', () => {
    expect(ni.encodeName('Host.Example.', true).toString('hex')).toBe('04686f7374076578616d706c6500');
    expect(ni.encodeName('host', false).toString('hex')).toBe('04686f73740000');
    expect(() => ni.encodeName('a..b', true)).toThrow('inappropriate subject name: a..b');
    expect(() => ni.encodeName('x'.repeat(64), true)).toThrow(RangeError);
  });

  it('reads names with compression pointers, single-label names, and stops at a cut one', () => {
    // TTL, "dsthost.example", "www" + pointer to "example", "dsthost" (single label)
    const first = ni.encodeName('dsthost.example', true);
    const data = Buffer.concat([Buffer.alloc(4), first, Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 12]), ni.encodeName('dsthost', false)]);
    const d = ni.decodeNames(data);
    if (!d.ok) throw new Error(d.error);
    expect(d.value.names).toEqual([
      { name: 'dsthost.example', fqdn: true },
      { name: 'www.example', fqdn: true },
      { name: 'dsthost', fqdn: false },
    ]);
    expect(d.value.truncated).toBe(false);
    const cut = ni.decodeNames(Buffer.concat([Buffer.alloc(4), first, Buffer.from([7, 0x61])]));
    expect(cut.ok && cut.value).toMatchObject({ names: [{ name: 'dsthost.example' }], truncated: true });
    // a pointer loop ends as a cut name, not a hang
    const loop = ni.decodeNames(Buffer.from([0, 0, 0, 0, 0xc0, 4]));
    expect(loop.ok && loop.value.truncated).toBe(true);
    // characters ns_name_ntop escapes
    const odd = ni.decodeNames(Buffer.from([0, 0, 0, 0, 4, 0x61, 0x2e, 0x20, 0x28, 0]));
    expect(odd.ok && odd.value.names[0]!.name).toBe('a\\.\\032\\(');
    expect(ni.decodeNames(Buffer.alloc(3)).ok).toBe(false);
  });

  it('reads address lists, IPv6 and IPv4', () => {
    const data = ni.encodeAddresses([{ ttl: 60, address: parseIPv6('2001:db8::1')! }, { address: parseIPv6('fe80::1')! }]);
    expect(ni.decodeAddresses(data, 6)).toEqual({
      addresses: [
        { ttl: 60, address: '2001:db8::1' },
        { ttl: 0, address: 'fe80::1' },
      ],
      truncated: false,
    });
    const v4 = ni.encodeAddresses([{ address: parseIPv4('192.0.2.1')! }]);
    expect(ni.decodeAddresses(Buffer.concat([v4, Buffer.alloc(3)]), 4)).toEqual({ addresses: [{ ttl: 0, address: '192.0.2.1' }], truncated: true });
  });

  it('never throws on damaged input', () => {
    const { prefixOk } = neverThrows((b) => ni.decode(b), reply(0, 2, Buffer.from([0, 0, 0, 0, 1, 0x61, 0])));
    expect(prefixOk).toBe(8); // the 16-byte header and each longer prefix
  });

  it("prints replies as iputils' pr_niquery_reply does", () => {
    const names = Buffer.concat([Buffer.alloc(4), ni.encodeName('a.example', true), ni.encodeName('b', false)]);
    expect(nodeInfoText(reply(ni.SUCCESS, ni.QTYPE_NODENAME, names))).toBe(' a.example., b; seq=7;');
    expect(nodeInfoText(reply(ni.SUCCESS, ni.QTYPE_NODENAME, Buffer.alloc(2)))).toBe(' parse error (too short); seq=7;');
    expect(nodeInfoText(reply(ni.SUCCESS, ni.QTYPE_NODENAME, Buffer.concat([names, Buffer.from([5, 0x61])])))).toBe(
      ' a.example., b, parse error (truncated); seq=7;',
    );
    const addrs = ni.encodeAddresses([{ address: parseIPv6('2001:db8::1')! }, { address: parseIPv6('2001:db8::2')! }]);
    expect(nodeInfoText(reply(ni.SUCCESS, ni.QTYPE_NODEADDR, addrs, ni.FLAG_TRUNCATE))).toBe(' 2001:db8::1, 2001:db8::2 (truncated); seq=7;');
    expect(nodeInfoText(reply(ni.SUCCESS, ni.QTYPE_IPV4ADDR, Buffer.alloc(5)))).toBe(' parse error (truncated); seq=7;');
    expect(nodeInfoText(reply(ni.SUCCESS, 9, Buffer.alloc(0)))).toBe(' unknown qtype(0x09); seq=7;');
    expect(nodeInfoText(reply(ni.REFUSED, 2, Buffer.alloc(0)))).toBe(' refused; seq=7;');
    expect(nodeInfoText(reply(ni.UNKNOWN_QTYPE, 2, Buffer.alloc(0)))).toBe(' unknown; seq=7;');
    // iputils byte-swaps the one-byte code before printing it
    expect(nodeInfoText(reply(3, 2, Buffer.alloc(0)))).toBe(' unknown code(300); seq=7;');
  });

  it('reads a reply once into its answer (nodeInfoAnswer): names with their TTL, addresses, refusals, what is not a reply', () => {
    const names = Buffer.concat([Buffer.from([0, 0, 0, 30]), ni.encodeName('a.example', true), ni.encodeName('b', false)]);
    expect(ni.nodeInfoAnswer(reply(ni.SUCCESS, ni.QTYPE_NODENAME, names))).toEqual({
      code: 0,
      qtype: 2,
      flags: 0,
      seq: 7,
      ttl: 30,
      cut: false,
      names: [
        { name: 'a.example', fqdn: true },
        { name: 'b', fqdn: false },
      ],
    });
    expect(ni.nodeInfoAnswer(reply(ni.SUCCESS, ni.QTYPE_NODENAME, Buffer.alloc(2)))).toMatchObject({ tooShort: true });
    const addrs = ni.encodeAddresses([{ ttl: 60, address: parseIPv6('2001:db8::1')! }]);
    expect(ni.nodeInfoAnswer(reply(ni.SUCCESS, ni.QTYPE_NODEADDR, addrs))).toMatchObject({ addresses: [{ ttl: 60, address: '2001:db8::1' }], cut: false });
    expect(ni.nodeInfoAnswer(reply(ni.REFUSED, 2, Buffer.alloc(0)))).toEqual({ code: 1, qtype: 2, flags: 0, seq: 7 });
    expect(ni.nodeInfoAnswer(Buffer.alloc(8))).toBeNull();
  });
});
