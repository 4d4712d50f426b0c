// --pcap's pieces without a network: rebuilt packets decode with valid
// lengths and checksums (our codecs, and tshark on a file of them); the flow
// filters, compiled for Ethernet, keep a command's own packets and drop the
// rest (run in the BPF interpreter, as the kernel would run them); the
// port check reads ports and quoted ports; a PcapngFile is read back whole,
// comments included, by our reader and by tshark.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { echoFlow, portFlow, serverFlow } from '../../../src/stack/capture/flowfilter.js';
import { readCapture } from '../../../src/stack/capture/index.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../../../src/stack/capture/linktype.js';
import { commentsOf, decodeEnhancedPacket } from '../../../src/stack/capture/pcapng.js';
import { QUOTE_LIMIT, echoPacket, icmpErrorPacket, tcpPacket, udpPacket } from '../../../src/stack/capture/rebuild.js';
import { PcapngFile, REBUILT, flowInterface, framePorts } from '../../../src/stack/capture/record.js';
import { routeTo } from '../../../src/stack/inventory/index.js';
import { interfaceName } from '../../../src/stack/inventory/system.js';
import { compileFilter, runFilter } from '../../../src/stack/filter/index.js';
import { verify } from '../../../src/stack/packet/checksum.js';
import * as icmp4 from '../../../src/stack/packet/icmp4.js';
import * as icmp6 from '../../../src/stack/packet/icmp6.js';
import * as ipv4 from '../../../src/stack/packet/ipv4.js';
import * as ipv6 from '../../../src/stack/packet/ipv6.js';
import * as tcp from '../../../src/stack/packet/tcp.js';
import * as udp from '../../../src/stack/packet/udp.js';

const dir = mkdtempSync(join(tmpdir(), 'sockit-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A4 = '192.0.2.2',
  B4 = '198.51.100.7',
  R4 = '203.0.113.1';
const A6 = '2001:db8::2',
  B6 = '2001:db8:0:7::1',
  R6 = '2001:db8:0:1::1';
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

/** An IP packet in an Ethernet frame (as a packet socket on a veth delivers it). */
function ether(ip: Buffer): Buffer {
  const h = Buffer.alloc(14);
  h.writeUInt16BE(ip[0]! >> 4 === 4 ? 0x0800 : 0x86dd, 12);
  return Buffer.concat([h, ip]);
}

describe('rebuilt packets', () => {
  it('IPv4: header checksum, total length and the transport checksums hold', () => {
    const e = { family: 4 as const, src: A4, dst: B4, ttl: 7 };
    const echo = echoPacket(e, false, 0x1234, 9, Buffer.from('abcdefgh'));
    const d = ipv4.decode(echo);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(verify(echo, 0, 20)).toBe(true);
    expect(d.value.header).toMatchObject({ ttl: 7, protocol: 1, src: A4, dst: B4, totalLength: echo.length });
    const m = icmp4.decode(Buffer.from(d.value.payload));
    expect(m.ok && m.value.checksumOk).toBe(true);
    expect(m.ok && m.value.body).toMatchObject({ kind: 'echo', id: 0x1234, seq: 9 });

    const u = udpPacket(e, 40000, 33434, Buffer.from('payload'));
    const ud = ipv4.decode(u);
    expect(ud.ok && udp.verifyChecksum(Buffer.from(ud.value.payload), { src: A4, dst: B4 })).toBe(true);

    const t = tcpPacket(e, { srcPort: 40001, dstPort: 80, seq: 1, ack: 1, flags: { psh: true, ack: true }, window: 100 }, Buffer.from('GET /'));
    const td = ipv4.decode(t);
    expect(td.ok && tcp.verifyChecksum(Buffer.from(td.value.payload), { src: A4, dst: B4 })).toBe(true);
  });

  it('IPv6: payload length and the pseudo-header checksums hold', () => {
    const e = { family: 6 as const, src: A6, dst: B6, ttl: 3 };
    const echo = echoPacket(e, true, 77, 1, Buffer.from('xy'));
    const d = ipv6.decode(echo);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.header).toMatchObject({ hopLimit: 3, src: A6, dst: B6, payloadLength: echo.length - 40 });
    const m = icmp6.decode(Buffer.from(d.value.payload), 0, { src: A6, dst: B6 });
    expect(m.ok && m.value.checksumOk).toBe(true);
    const u = ipv6.decode(udpPacket(e, 1, 2, Buffer.alloc(0)));
    expect(u.ok && udp.verifyChecksum(Buffer.from(u.value.payload), { src: A6, dst: B6 })).toBe(true);
  });

  it('an ICMP error quotes the probe, cut where a router cuts it', () => {
    const probe = udpPacket({ family: 4, src: A4, dst: B4, ttl: 1 }, 40000, 33434, Buffer.alloc(1000, 0x61));
    const err = icmpErrorPacket({ family: 4, src: R4, dst: A4, ttl: 64 }, 11, 0, {}, probe);
    const d = ipv4.decode(err);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const m = icmp4.decode(Buffer.from(d.value.payload));
    expect(m.ok && m.value.checksumOk).toBe(true);
    if (!m.ok || m.value.body.kind !== 'error') throw new Error('not an error');
    expect(m.value.body.original.length).toBe(QUOTE_LIMIT[4]);
    expect(m.value.body.quote).toMatchObject({ ip: { src: A4, dst: B4, ttl: 1, protocol: 17 }, transport: expect.any(Buffer) });
    expect(m.value.body.original.subarray(0, 28).equals(probe.subarray(0, 28))).toBe(true);
    // a frag needed carries the next-hop MTU
    const frag = ipv4.decode(icmpErrorPacket({ family: 4, src: R4, dst: A4, ttl: 64 }, 3, 4, { mtu: 1400 }, probe));
    const fm = frag.ok ? icmp4.decode(Buffer.from(frag.value.payload)) : null;
    expect(fm?.ok && fm.value.body.kind === 'error' && fm.value.body.mtu).toBe(1400);
  });

  it.skipIf(!hasTshark)('tshark finds every checksum of a file of them correct', () => {
    const f = join(dir, 'rebuilt.pcapng');
    const file = new PcapngFile(f);
    const iface = { name: 'eth0', linktype: LINKTYPE_RAW };
    const probe = udpPacket({ family: 6, src: A6, dst: B6, ttl: 1 }, 40000, 33434, Buffer.alloc(32));
    for (const p of [
      echoPacket({ family: 4, src: A4, dst: B4, ttl: 64 }, false, 1, 1, Buffer.alloc(56)),
      udpPacket({ family: 4, src: A4, dst: B4, ttl: 2 }, 40000, 33435, Buffer.alloc(32)),
      tcpPacket({ family: 4, src: A4, dst: B4, ttl: 64 }, { srcPort: 1, dstPort: 2, flags: { syn: true } }),
      probe,
      icmpErrorPacket({ family: 6, src: R6, dst: A6, ttl: 64 }, 3, 0, {}, probe),
    ])
      file.packet(iface, 1_700_000_000_000_000_000n, p, { comments: [REBUILT.ip] });
    file.close();
    const r = spawnSync(
      'tshark',
      [
        '-r',
        f,
        '-o',
        'ip.check_checksum:TRUE',
        '-o',
        'udp.check_checksum:TRUE',
        '-o',
        'tcp.check_checksum:TRUE',
        '-T',
        'fields',
        '-e',
        'ip.checksum.status',
        '-e',
        'udp.checksum.status',
        '-e',
        'tcp.checksum.status',
        '-e',
        'icmp.checksum.status',
        '-e',
        'icmpv6.checksum.status',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const statuses = r.stdout.split(/[\t\n,]/).filter(Boolean);
    expect(statuses.length).toBeGreaterThanOrEqual(5);
    // 1: good (2 would be bad)
    expect(new Set(statuses)).toEqual(new Set(['1']));
  });
});

describe('flow filters, as the kernel runs them', () => {
  const keep = (expr: string, ip: Buffer) => runFilter(compileFilter(expr, LINKTYPE_ETHERNET, 262144), ether(ip), ether(ip).length) > 0;

  it('echoFlow: our identifier both ways, and errors quoting an echo to the target; nothing else', () => {
    for (const [fam, a, b, r] of [
      [4, A4, B4, R4],
      [6, A6, B6, R6],
    ] as const) {
      const expr = echoFlow(fam, a, b, 4242);
      const req = echoPacket({ family: fam, src: a, dst: b, ttl: 64 }, false, 4242, 1, Buffer.alloc(8));
      expect(keep(expr, req)).toBe(true);
      expect(keep(expr, echoPacket({ family: fam, src: b, dst: a, ttl: 60 }, true, 4242, 1, Buffer.alloc(8)))).toBe(true);
      expect(keep(expr, echoPacket({ family: fam, src: b, dst: a, ttl: 60 }, true, 4243, 1, Buffer.alloc(8)))).toBe(false);
      const exceeded = icmpErrorPacket({ family: fam, src: r, dst: a, ttl: 64 }, fam === 4 ? 11 : 3, 0, {}, req);
      expect(keep(expr, exceeded)).toBe(true);
      // an error about a datagram to someone else, or about UDP
      const other = echoPacket({ family: fam, src: a, dst: r, ttl: 1 }, false, 4242, 1, Buffer.alloc(8));
      expect(keep(expr, icmpErrorPacket({ family: fam, src: r, dst: a, ttl: 64 }, fam === 4 ? 11 : 3, 0, {}, other))).toBe(false);
      // an error about another ping's echo to the same target (another identifier)
      const theirs = echoPacket({ family: fam, src: a, dst: b, ttl: 1 }, false, 4243, 1, Buffer.alloc(8));
      expect(keep(expr, icmpErrorPacket({ family: fam, src: r, dst: a, ttl: 64 }, fam === 4 ? 11 : 3, 0, {}, theirs))).toBe(false);
      // ping -R: the quoted header carries options, the identifier moves with it
      if (fam === 4) {
        const rr = echoPacket({ family: 4, src: a, dst: b, ttl: 1, options: Buffer.from([7, 7, 4, 0, 0, 0, 0, 0]) }, false, 4242, 1, Buffer.alloc(8));
        expect(keep(expr, icmpErrorPacket({ family: 4, src: r, dst: a, ttl: 64 }, 11, 0, {}, rr))).toBe(true);
      }
      const udpProbe = udpPacket({ family: fam, src: a, dst: b, ttl: 1 }, 40000, 33434, Buffer.alloc(8));
      expect(keep(expr, icmpErrorPacket({ family: fam, src: r, dst: a, ttl: 64 }, fam === 4 ? 11 : 3, 0, {}, udpProbe))).toBe(false);
    }
  });

  it('portFlow: the transport between us and the peer (to its port), and the errors about it', () => {
    for (const [fam, a, b, r] of [
      [4, A4, B4, R4],
      [6, A6, B6, R6],
    ] as const) {
      const expr = portFlow(fam, 'tcp', a, b, 80);
      const syn = tcpPacket({ family: fam, src: a, dst: b, ttl: 64 }, { srcPort: 40000, dstPort: 80, flags: { syn: true } });
      expect(keep(expr, syn)).toBe(true);
      expect(keep(expr, tcpPacket({ family: fam, src: b, dst: a, ttl: 64 }, { srcPort: 80, dstPort: 40000, flags: { syn: true, ack: true } }))).toBe(true);
      expect(keep(expr, tcpPacket({ family: fam, src: a, dst: b, ttl: 64 }, { srcPort: 40000, dstPort: 81, flags: { syn: true } }))).toBe(false);
      expect(keep(expr, udpPacket({ family: fam, src: a, dst: b, ttl: 64 }, 40000, 80, Buffer.alloc(4)))).toBe(false);
      expect(keep(expr, icmpErrorPacket({ family: fam, src: r, dst: a, ttl: 64 }, fam === 4 ? 3 : 1, fam === 4 ? 1 : 3, {}, syn))).toBe(true);
      const toOther = tcpPacket({ family: fam, src: a, dst: b, ttl: 64 }, { srcPort: 40000, dstPort: 443, flags: { syn: true } });
      expect(keep(expr, icmpErrorPacket({ family: fam, src: r, dst: a, ttl: 64 }, fam === 4 ? 3 : 1, fam === 4 ? 1 : 3, {}, toOther))).toBe(false);
    }
  });

  it('serverFlow: our port with any peer, and errors quoting a datagram from it', () => {
    const expr = serverFlow(4, 'udp', undefined, 9000);
    expect(keep(expr, udpPacket({ family: 4, src: B4, dst: A4, ttl: 64 }, 5555, 9000, Buffer.alloc(1)))).toBe(true);
    expect(keep(expr, udpPacket({ family: 4, src: B4, dst: A4, ttl: 64 }, 5555, 9001, Buffer.alloc(1)))).toBe(false);
    const reply = udpPacket({ family: 4, src: A4, dst: B4, ttl: 64 }, 9000, 5555, Buffer.alloc(1));
    expect(keep(expr, icmpErrorPacket({ family: 4, src: B4, dst: A4, ttl: 64 }, 3, 3, {}, reply))).toBe(true);
  });

  it("framePorts: a segment's ports, an error's quoted ports, nothing for an echo", () => {
    const seg = tcpPacket({ family: 6, src: A6, dst: B6, ttl: 64 }, { srcPort: 1234, dstPort: 80 });
    expect(framePorts(ether(seg))).toEqual([1234, 80]);
    const probe = udpPacket({ family: 4, src: A4, dst: B4, ttl: 1 }, 40000, 33434, Buffer.alloc(8));
    expect(framePorts(ether(icmpErrorPacket({ family: 4, src: R4, dst: A4, ttl: 64 }, 11, 0, {}, probe)))).toEqual([40000, 33434]);
    expect(framePorts(ether(echoPacket({ family: 4, src: A4, dst: B4, ttl: 64 }, false, 1, 1, Buffer.alloc(8))))).toBeNull();
    expect(framePorts(Buffer.alloc(10))).toBeNull();
  });
});

describe('PcapngFile', () => {
  it('writes block by block: an IDB per interface, comments kept, read back whole', async () => {
    const f = join(dir, 'two.pcapng');
    const file = new PcapngFile(f);
    const raw = { name: 'eth0', linktype: LINKTYPE_RAW };
    const eth = { name: 'eth1', linktype: LINKTYPE_ETHERNET };
    const p1 = echoPacket({ family: 4, src: A4, dst: B4, ttl: 64 }, false, 1, 1, Buffer.alloc(4));
    file.packet(raw, 1_000_000_000_123_456_789n, p1, { comments: ['one', 'two'] });
    // what is on disk after a flush (each turn of the loop) is whole: a reader finds one packet and no damage
    file.flush();
    const partial: string[] = [];
    for await (const ev of readCapture(
      (async function* () {
        yield readFileSync(f);
      })(),
    ))
      partial.push(ev.kind);
    expect(partial).toEqual(['start', 'packet']);
    file.packet(eth, 1_000_000_001_000_000_000n, ether(p1));
    file.packet(raw, 1_000_000_002_000_000_000n, p1);
    file.close();
    file.close(); // twice is harmless
    expect(file.count).toBe(3);
    const bytes = readFileSync(f);
    const seen: { linktype: number; sec: number; nsec: number; interfaceId: number }[] = [];
    for await (const ev of readCapture(
      (async function* () {
        yield bytes;
      })(),
    )) {
      if (ev.kind === 'packet') seen.push({ linktype: ev.packet.linktype, sec: ev.packet.sec, nsec: ev.packet.nsec, interfaceId: ev.packet.interfaceId });
    }
    expect(seen).toEqual([
      { linktype: LINKTYPE_RAW, sec: 1_000_000_000, nsec: 123_456_789, interfaceId: 0 },
      { linktype: LINKTYPE_ETHERNET, sec: 1_000_000_001, nsec: 0, interfaceId: 1 },
      { linktype: LINKTYPE_RAW, sec: 1_000_000_002, nsec: 0, interfaceId: 0 },
    ]);
    // the first EPB (after SHB and IDB) carries both comments
    const shbLen = bytes.readUInt32LE(4);
    const idbLen = bytes.readUInt32LE(shbLen + 4);
    const epbAt = shbLen + idbLen;
    const epb = decodeEnhancedPacket(bytes.subarray(epbAt, epbAt + bytes.readUInt32LE(epbAt + 4)), true);
    expect(epb.ok && commentsOf(epb.value.options)).toEqual(['one', 'two']);
    if (hasTshark) {
      const r = spawnSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.comment'], { encoding: 'utf8' });
      expect(r.stdout.split('\n').filter(Boolean)).toEqual(['eth0\tone,two', 'eth1\t', 'eth0\t']);
    }
  });

  it('a path that cannot be opened throws the open(2) error', () => {
    expect(() => new PcapngFile(join(dir, 'no', 'such', 'dir.pcapng'))).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }));
  });
});

describe("the route's interface", () => {
  it('routeTo (RTM_GETROUTE) names the device `ip route get` names, or fails where it fails (a lookup sends nothing)', async () => {
    for (const dst of ['127.0.0.1', '::1', '198.51.100.1', '2001:db8::1']) {
      const ip = spawnSync('ip', ['-j', 'route', 'get', dst], { encoding: 'utf8' });
      const ours = await routeTo(dst).then(
        (r) => (r?.oif ? interfaceName(r.oif) : undefined),
        (e: { code?: string }) => e.code ?? 'error',
      );
      if (ip.status !== 0) expect(ours, dst).toMatch(/^E/);
      else expect(ours, dst).toBe((JSON.parse(ip.stdout) as { dev: string }[])[0]!.dev);
    }
  });

  it("flowInterface: the device given, the route's, and for a server the interface of its address", async () => {
    expect(await flowInterface({ family: 4, local: '127.0.0.1', remote: '127.0.0.1', device: 'eth9' })).toBe('eth9');
    expect(await flowInterface({ family: 4, local: '127.0.0.1', remote: '127.0.0.1' })).toBe('lo');
    expect(await flowInterface({ family: 6, local: '::1' })).toBe('lo');
    expect(await flowInterface({ family: 4, local: '0.0.0.0' })).toBe('any');
  });
});
