// The rtnetlink codecs ifaces adds (struct ifaddrmsg; IFLA_ADDRESS,
// IFLA_OPERSTATE, IFLA_LINK on struct ifinfomsg) and the join of links and
// addresses: real encodings built attribute by attribute, truncated and
// malformed ones returning failures, never throwing. The kernel's own dumps
// are compared with ip(8) in test/commands/ifaces.test.ts.
import { describe, expect, it } from 'vitest';
import { encodeAttr } from '../../src/stack/abi/netlink.js';
import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_LINK,
  IFLA_OPERSTATE,
  RT_SCOPE_LINK,
  ifaddrmsg,
  ifinfomsg,
} from '../../src/stack/abi/rtnetlink.js';
import { joinInterfaces } from '../../src/stack/inventory/interfaces.js';

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const cstr = (s: string) => Buffer.from(`${s}\0`, 'latin1');

function ifaddr(family: number, prefix: number, scope: number, index: number, attrs: Buffer[]): Buffer {
  const h = Buffer.alloc(8);
  h[0] = family;
  h[1] = prefix;
  h[3] = scope;
  h.writeUInt32LE(index, 4);
  return Buffer.concat([h, ...attrs]);
}

function ifinfo(index: number, flags: number, attrs: Buffer[]): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16LE(1, 2);
  h.writeInt32LE(index, 4);
  h.writeUInt32LE(flags, 8);
  return Buffer.concat([h, ...attrs]);
}

describe('ifaddrmsg', () => {
  it('decodes an IPv4 alias with its label, broadcast and IFA_FLAGS', () => {
    const b = ifaddr(2, 24, 0, 7, [
      encodeAttr(IFA_ADDRESS, Buffer.from([198, 51, 100, 2])),
      encodeAttr(IFA_LOCAL, Buffer.from([198, 51, 100, 2])),
      encodeAttr(IFA_BROADCAST, Buffer.from([198, 51, 100, 255])),
      encodeAttr(IFA_LABEL, cstr('eth0:1')),
      encodeAttr(IFA_FLAGS, u32(0x81)),
    ]);
    const d = ifaddrmsg.decode(b);
    expect(d.ok && d.value).toMatchObject({ family: 2, prefixLen: 24, scope: 0, index: 7, label: 'eth0:1', flags: 0x81 });
    expect(d.ok && [...d.value.broadcast!]).toEqual([198, 51, 100, 255]);
    expect(ifaddrmsg.encode(10)).toEqual(Buffer.from([10, 0, 0, 0, 0, 0, 0, 0]));
  });

  it('a truncated header or an overrunning attribute is a failure, not a throw', () => {
    expect(ifaddrmsg.decode(Buffer.alloc(5)).ok).toBe(false);
    const b = ifaddr(2, 24, 0, 1, [encodeAttr(IFA_LABEL, cstr('eth0'))]);
    b.writeUInt16LE(200, 8); // the attribute claims more than the message holds
    const d = ifaddrmsg.decode(b);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatch(/overruns/);
  });
});

describe('ifinfomsg and the join', () => {
  it('a veth whose IFLA_LINK peer is down is M-DOWN; a point-to-point peer is IFA_ADDRESS', () => {
    const a = ifinfomsg.decode(
      ifinfo(3, 0x1003, [
        encodeAttr(IFLA_IFNAME, cstr('va')),
        encodeAttr(IFLA_ADDRESS, Buffer.from([2, 0, 0, 0, 0, 0xa])),
        encodeAttr(IFLA_OPERSTATE, Buffer.from([2])),
        encodeAttr(IFLA_LINK, u32(4)),
      ]),
    );
    const b = ifinfomsg.decode(ifinfo(4, 0x1002, [encodeAttr(IFLA_IFNAME, cstr('vb')), encodeAttr(IFLA_LINK, u32(3))]));
    const p2p = ifaddrmsg.decode(
      ifaddr(2, 32, 0, 3, [encodeAttr(IFA_ADDRESS, Buffer.from([203, 0, 113, 2])), encodeAttr(IFA_LOCAL, Buffer.from([203, 0, 113, 1]))]),
    );
    const ll = ifaddrmsg.decode(ifaddr(10, 64, RT_SCOPE_LINK, 3, [encodeAttr(IFA_ADDRESS, Buffer.from('fe800000000000000000000000000001', 'hex'))]));
    if (!a.ok || !b.ok || !p2p.ok || !ll.ok) throw new Error('decode failed');
    const [va, vb] = joinInterfaces([a.value, b.value], [p2p.value, ll.value]);
    expect(va).toMatchObject({ name: 'va', hardwareAddress: '02:00:00:00:00:0a', operstate: 2, linkDown: true });
    expect(vb).toMatchObject({ name: 'vb', linkDown: false, addresses: [] });
    expect(va!.addresses).toEqual([
      { family: 4, address: '203.0.113.1', peer: '203.0.113.2', prefixLen: 32, scope: 0, flags: 0 },
      { family: 6, address: 'fe80::1', prefixLen: 64, scope: RT_SCOPE_LINK, flags: 0 },
    ]);
  });
});
