// sockit dump on damaged input: 100,000 seeded mutations of pcap and pcapng
// files of mixed traffic (bit flips, cuts, header and packet length fields
// set to extremes) go through the reader, the dissectors and the text and
// JSON printers in-process and never throw out of them; a sample of 200
// goes through the CLI, whose stderr is one line at most, never a stack.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packetRecord } from '../../src/commands/dump/json.js';
import { Clock, TcpState, hexAsciiText, packetText, type TextOptions } from '../../src/commands/dump/text/index.js';
import { encodeFileHeader, encodeRecordHeader } from '../../src/stack/capture/pcap.js';
import { encodeEnhancedPacket, encodeInterface, encodeSectionHeader } from '../../src/stack/capture/pcapng.js';
import { readCapture, type CaptureEvent } from '../../src/stack/capture/index.js';
import { echoPacket, icmpErrorPacket, tcpPacket, udpPacket } from '../../src/stack/capture/rebuild.js';
import { dissect } from '../../src/stack/dissect/index.js';
import * as ipv6 from '../../src/stack/packet/ipv6.js';
import * as ntp from '../../src/stack/packet/ntp.js';
import { sockit } from '../helpers/cli.js';
import { lcg } from '../helpers/fuzz.js';
import { vlanFrames } from './dump-captures.js';

const dir = mkdtempSync(join(tmpdir(), 'sockit-dump-robust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MAC = Buffer.from('020000000002020000000001', 'hex');
const ether = (ip: Buffer, type = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800) => Buffer.concat([MAC, Buffer.from([type >> 8, type & 0xff]), ip]);
const v4 = { family: 4 as const, src: '192.0.2.1', dst: '198.51.100.7', ttl: 64 };
const v6 = { family: 6 as const, src: '2001:db8::1', dst: '2001:db8::2', ttl: 64 };

function dnsMessage(response: boolean): Buffer {
  const q = Buffer.from('\x04host\x07example\x00\x00\x01\x00\x01', 'latin1');
  const head = Buffer.from([0x10, 0x92, response ? 0x85 : 0x01, 0, 0, 1, 0, response ? 2 : 0, 0, 0, 0, 0]);
  // a CNAME by compression pointer, then an A record
  const an = response ? Buffer.from('c00c000500010000003c0008056173696173c011' + 'c02c000100010000012c0004c0000263', 'hex') : Buffer.alloc(0);
  return Buffer.concat([head, q, an]);
}

/** The kinds of frames the lab captures hold, built with the codecs. */
function frames(): Buffer[] {
  const tcpOpts = [
    { kind: 'mss', value: 1460 },
    { kind: 'sackPermitted' },
    { kind: 'timestamps', value: 7, echo: 0 },
    { kind: 'nop' },
    { kind: 'windowScale', shift: 7 },
  ] as never;
  const syn = tcpPacket(v4, { srcPort: 40000, dstPort: 5001, seq: 1, ack: 0, flags: { syn: true }, window: 64240, options: tcpOpts });
  const data = tcpPacket(v4, { srcPort: 40000, dstPort: 5001, seq: 2, ack: 9, flags: { ack: true, psh: true }, window: 502 }, Buffer.from('hello\r\n'));
  const sack = tcpPacket(v6, {
    srcPort: 5001,
    dstPort: 40000,
    seq: 9,
    ack: 2,
    flags: { ack: true },
    window: 502,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[100, 200]] }] as never,
  });
  const udp = udpPacket(v4, 4000, 9999, Buffer.from('udp four'));
  const ntpBody = ntp.encode({
    leap: 0,
    version: 4,
    mode: 3,
    stratum: 0,
    poll: 3,
    precision: -20,
    rootDelay: 0,
    rootDispersion: 0,
    referenceId: 0,
    referenceTime: 0n,
    originateTime: 0n,
    receiveTime: 0n,
    transmitTime: 123456789n << 32n,
  });
  const ns = ipv6.encode(
    { nextHeader: 58, hopLimit: 255, src: v6.src, dst: 'ff02::1:ff00:2' },
    Buffer.from('870000000000000020010db8000000000000000000000002' + '0101020000000001', 'hex'),
  );
  // HBH with router alert, then an MLDv2 report with one record of one source
  const mld = ipv6.encode(
    { nextHeader: 0, hopLimit: 1, src: 'fe80::1', dst: 'ff02::16' },
    Buffer.from('3a00050200000100' + '8f00000000000001' + '04000001ff0200000000000000000001ff000001' + '20010db8000000000000000000000009', 'hex'),
  );
  const frag = ipv6.encode({ nextHeader: 44, src: v6.src, dst: v6.dst }, Buffer.from('3a000001deadbeef8000000000010001' + '61'.repeat(24), 'hex'));
  const withOptions = echoPacket(
    { ...v4, options: Buffer.from('070b04c000020100000000000000000000000000', 'hex').subarray(0, 12) },
    false,
    7,
    1,
    Buffer.alloc(16),
  );
  return [
    ether(syn),
    ether(data),
    ether(sack),
    ether(udp),
    ether(udpPacket(v4, 33000, 53, dnsMessage(false))),
    ether(udpPacket(v4, 53, 33000, dnsMessage(true))),
    ether(udpPacket(v4, 123, 123, ntpBody)),
    ether(echoPacket(v4, false, 77, 1, Buffer.alloc(56))),
    ether(echoPacket(v6, true, 77, 1, Buffer.alloc(56))),
    ether(icmpErrorPacket(v4, 3, 3, {}, udp)),
    ether(icmpErrorPacket(v6, 1, 4, {}, udpPacket(v6, 4000, 9999, Buffer.from('six')))),
    ether(icmpErrorPacket(v4, 11, 0, {}, syn)),
    ether(ns),
    ether(mld),
    ether(frag),
    ether(withOptions),
    Buffer.from('ffffffffffff0200000000010806000108000604000102000000000cc633640100000000000000c6336402', 'hex'),
    ...vlanFrames('02:00:00:00:00:01').map((h) => Buffer.from(h, 'hex')),
  ];
}

function pcapFile(fs: Buffer[]): Buffer {
  const parts = [encodeFileHeader({ nano: false, snaplen: 262144, linktype: 1 })];
  fs.forEach((f, i) => parts.push(encodeRecordHeader({ sec: 1_800_000_000 + i, frac: i * 1000, caplen: f.length, len: f.length }), f));
  return Buffer.concat(parts);
}

function pcapngFile(fs: Buffer[]): Buffer {
  const parts = [encodeSectionHeader(), encodeInterface({ linktype: 1, snaplen: 262144, name: 'eth0' })];
  fs.forEach((f, i) => parts.push(encodeEnhancedPacket({ interfaceId: 0, timestamp: BigInt(1_800_000_000 + i) * 1_000_000n, len: f.length, data: f })));
  return Buffer.concat(parts);
}

const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** One seeded mutation: flips, a cut, or a 16/32-bit field (header lengths among them) set to an extreme. */
function mutate(base: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(base);
  const kind = rand() % 6;
  if (kind === 0) {
    for (let n = 1 + (rand() % 8); n > 0; n--) b[rand() % b.length]! ^= 1 << (rand() % 8);
  } else if (kind === 1) {
    return b.subarray(0, rand() % b.length);
  } else if (kind === 2 || kind === 3) {
    // a length field: the file header's snaplen, a record's caplen/len, a block length, an IP/UDP length
    const at = kind === 2 ? [16, 8, 12, 24 + 8, 24 + 12, 4, 28][rand() % 7]! : rand() % (b.length - 4);
    const v = EXTREMES[rand() % EXTREMES.length]!;
    if (rand() & 1) b.writeUInt32LE(v >>> 0, at);
    else b.writeUInt16BE(v & 0xffff, at);
  } else if (kind === 4) {
    for (let n = 1 + (rand() % 4); n > 0; n--) b[rand() % b.length] = rand() & 0xff;
  } else {
    const at = rand() % b.length;
    b.fill(rand() & 0xff, at, Math.min(b.length, at + 1 + (rand() % 40)));
  }
  return b;
}

async function consume(bytes: Buffer, opts: TextOptions): Promise<{ events: number; packets: number; errors: CaptureEvent[] }> {
  const tcp = new TcpState();
  const clock = new Clock('default', false);
  let events = 0,
    packets = 0;
  const errors: CaptureEvent[] = [];
  for await (const ev of readCapture(
    (async function* () {
      yield bytes;
    })(),
  )) {
    events++;
    if (ev.kind === 'error') errors.push(ev);
    if (ev.kind !== 'packet') continue;
    packets++;
    const p = ev.packet;
    const d = dissect(p.linktype, p.data, p.len, { checksums: opts.verbose > 0 });
    const line = clock.text(p.sec, p.nsec) + packetText(d.layers, p.len, opts, tcp);
    if (typeof line !== 'string') throw new Error('no line');
    if (packets % 16 === 0) {
      hexAsciiText(p.data);
      JSON.stringify(packetRecord(p, d));
    }
  }
  return { events, packets, errors };
}

describe('sockit dump on damaged files', () => {
  const all = frames();
  // small files (a mutation changes one packet; the others would be printed again for nothing)
  const groups = [0, 4, 8, 12, 16].map((i) => all.slice(i, i + 4));
  const bases = [pcapFile(all), pcapngFile(all), ...groups.map(pcapFile), ...groups.map(pcapngFile)];
  const optionSets: TextOptions[] = [0, 1, 2, 3].flatMap((verbose) => [
    { link: false, quiet: false, verbose, absolute: false },
    { link: true, quiet: verbose === 1, verbose, absolute: true },
  ]);

  it('the unmutated files print every packet', async () => {
    for (const b of bases) {
      const r = await consume(b, optionSets[3]!);
      expect(r.errors).toEqual([]);
      expect(r.packets).toBeGreaterThanOrEqual(Math.min(4, all.length % 4 || 4));
    }
  });

  it('100,000 seeded mutations never throw out of the reader, dissectors and printers; each error is one line', async () => {
    const rand = lcg(20261202);
    let packets = 0,
      errors = 0;
    const bad: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const bytes = mutate(bases[i % bases.length]!, rand);
      let r: Awaited<ReturnType<typeof consume>>;
      try {
        r = await consume(bytes, optionSets[i % optionSets.length]!);
      } catch (e) {
        throw new Error(`mutation ${i} threw: ${(e as Error).stack}\n${bytes.toString('hex')}`);
      }
      packets += r.packets;
      errors += r.errors.length;
      // (expect() per file would cost more than the reading)
      if (r.errors.length > 1) bad.push(`mutation ${i}: ${r.errors.length} errors`);
      for (const e of r.errors) if (e.kind === 'error' && !/^[^\n]+$/.test(e.text)) bad.push(`mutation ${i}: ${JSON.stringify(e.text)}`);
    }
    expect(bad).toEqual([]);
    // the mutations reach the dissectors and the error paths both
    expect(packets).toBeGreaterThan(250_000);
    expect(errors).toBeGreaterThan(10_000);
  }, 180_000);

  it('200 of them through the CLI: exit 0, 1 or 2, at most one sockit line on stderr, never a stack trace', async () => {
    const rand = lcg(14);
    const flags = [[], ['-v'], ['-vv', '-e'], ['-vvv', '-X'], ['-n', '-q'], ['--json'], ['-n', '-A', '-S']];
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const f = join(dir, `m${i}.cap`);
      writeFileSync(f, mutate(bases[i % bases.length]!, rand));
      const args = ['dump', ...flags[i % flags.length]!, '-r', f];
      jobs.push(
        sockit(args, { env: { NODE_EXTRA_CA_CERTS: '' } }).then((r) => {
          expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at |Error:|TypeError|RangeError/);
          expect(r.stderr.split('\n').filter((l) => l.startsWith('sockit dump:')).length).toBeLessThanOrEqual(1);
          expect(r.stderr.split('\n').filter((l) => l && !/^(sockit dump: |reading from file |Warning: )/.test(l))).toEqual([]);
          expect([0, 1, 2]).toContain(r.code);
        }),
      );
      if (jobs.length >= 4) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
  }, 180_000);
});

describe('frames tcpdump has no printer for', () => {
  // an Ethernet type nobody decodes, IPv4 of a protocol nobody decodes (whole
  // and as fragments), next to one that is decoded
  const ipv4 = (proto: number, offset: number, more: boolean, payload: Buffer) => {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + payload.length, 2);
    h.writeUInt16BE(7, 4);
    h.writeUInt16BE((more ? 0x2000 : 0) | offset, 6);
    h[8] = 64;
    h[9] = proto;
    Buffer.from([192, 0, 2, 1, 198, 51, 100, 7]).copy(h, 12);
    return Buffer.concat([h, payload]);
  };
  const file = join(dir, 'undecoded.pcap');
  writeFileSync(
    file,
    pcapFile([
      ether(Buffer.from(Array.from({ length: 40 }, (_, i) => i)), 0x88b5),
      ether(Buffer.from('short', 'latin1'), 0x9999),
      ether(ipv4(253, 0, false, Buffer.from('abcdefgh'))),
      ether(ipv4(253, 10, false, Buffer.alloc(16, 0x78))),
      ether(ipv4(17, 10, true, Buffer.alloc(16, 0x79))),
      ether(udpPacket(v4, 4000, 9999, Buffer.from('udp four'))),
    ]),
  );

  it('prints them as tcpdump does: the link header and the payload in hex and ASCII, the IP protocol and its length', async () => {
    for (const flags of [[], ['-q'], ['-e'], ['-e', '-q'], ['-v'], ['-x'], ['-xx'], ['-X'], ['-XX'], ['-A']]) {
      const want = spawnSync('tcpdump', ['-n', ...flags, '-r', file], { encoding: 'latin1' });
      const got = await sockit(['dump', '-n', ...flags, '-r', file]);
      expect({ flags, out: got.stdoutBytes.toString('latin1') }).toEqual({ flags, out: want.stdout });
    }
  });
});
