// pcap and pcapng read and written in-house: files built block by block
// (both byte orders, several sections, if_tsresol in both bases,
// if_tsoffset, SPB, the obsolete PB, NRB/ISB/DSB and unknown blocks,
// interfaces of different link types), checked against what tcpdump and
// tshark read from the same bytes; damaged files never throw.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture, type CaptureEvent } from '../../../src/stack/capture/index.js';
import { dissect } from '../../../src/stack/dissect/index.js';
import { Clock, TcpState, packetText } from '../../../src/commands/dump/text/index.js';
import { packetRecord } from '../../../src/commands/dump/json.js';
import { compileFilter, runFilter } from '../../../src/stack/filter/index.js';
import * as ipv4 from '../../../src/stack/packet/ipv4.js';
import * as ipv6 from '../../../src/stack/packet/ipv6.js';
import * as udp from '../../../src/stack/packet/udp.js';
import { sockit } from '../../helpers/cli.js';
import { lcg } from '../../helpers/fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'sockit-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function events(bytes: Buffer, chunk = 7): Promise<CaptureEvent[]> {
  const out: CaptureEvent[] = [];
  // small chunks: records straddle chunk boundaries
  const src = (async function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  })();
  for await (const ev of readCapture(src)) out.push(ev);
  return out;
}

function udp4(n: number): Buffer {
  const payload = Buffer.from(`datagram ${n}`);
  const ph = { src: '192.0.2.1', dst: '192.0.2.2' };
  return ipv4.encode({ protocol: 17, src: ph.src, dst: ph.dst, id: n }, udp.encode({ srcPort: 4000 + n, dstPort: 5000 }, payload, ph));
}
function udp6(n: number): Buffer {
  const ph = { src: '2001:db8::1', dst: '2001:db8::2' };
  return ipv6.encode({ nextHeader: 17, src: ph.src, dst: ph.dst }, udp.encode({ srcPort: 6000 + n, dstPort: 53 + n }, Buffer.from('six'), ph));
}
const ether = (payload: Buffer, type = 0x0800) =>
  Buffer.concat([Buffer.from('020000000002020000000001', 'hex'), Buffer.from([type >> 8, type & 0xff]), payload]);

// ---------- pcap ----------

function pcap(le: boolean, nano: boolean, linktype: number, frames: { sec: number; frac: number; data: Buffer; len?: number }[], snaplen = 65535): Buffer {
  const w32 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const h = Buffer.alloc(24);
  w32(h, nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  if (le) {
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
  } else {
    h.writeUInt16BE(2, 4);
    h.writeUInt16BE(4, 6);
  }
  w32(h, snaplen, 16);
  w32(h, linktype, 20);
  const recs = frames.map((f) => {
    const r = Buffer.alloc(16);
    w32(r, f.sec, 0);
    w32(r, f.frac, 4);
    w32(r, f.data.length, 8);
    w32(r, f.len ?? f.data.length, 12);
    return Buffer.concat([r, f.data]);
  });
  return Buffer.concat([h, ...recs]);
}

function tcpdump(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tcpdump', args, { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pcap files', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`${le ? 'little' : 'big'}-endian, ${nano ? 'ns' : 'µs'}: sockit dump prints what tcpdump prints`, async () => {
        const frames = [0, 1, 2].map((n) => ({
          sec: 1_700_000_000 + n,
          frac: nano ? 123_456_789 + n : 123_456 + n,
          data: ether(n === 2 ? udp6(n) : udp4(n), n === 2 ? 0x86dd : 0x0800),
        }));
        const f = join(dir, `p-${le}-${nano}.pcap`);
        writeFileSync(f, pcap(le, nano, 1, frames));
        for (const flags of [[], ['--nano'], ['-tt', '-e'], ['-X']]) {
          const want = tcpdump(['-n', ...flags, '-r', f]);
          const got = await sockit(['dump', '-n', ...flags, '-r', f], { env: { TZ: 'UTC' } });
          expect(got.stdout).toBe(want.stdout);
          expect(got.stderr).toBe(want.stderr);
        }
        const ev = await events(readFileSync(f));
        expect(ev[0]).toEqual({ kind: 'start', start: { format: 'pcap', linktype: 1, snaplen: 65535, nano } });
        expect(ev.filter((e) => e.kind === 'packet').map((e) => e.kind === 'packet' && e.packet.nsec)).toEqual(
          frames.map((x) => (nano ? x.frac : x.frac * 1000)),
        );
      });
    }
  }

  it('reads the FCS bits of the link-type field and raw-IP files', async () => {
    const f = join(dir, 'raw.pcap');
    const data = pcap(true, false, 101 | 0x10000000 | (2 << 29), [{ sec: 1, frac: 2, data: udp4(7) }]);
    writeFileSync(f, data);
    const ev = await events(data);
    expect(ev.find((e) => e.kind === 'packet')).toMatchObject({ packet: { linktype: 101, fcsLength: 4 } });
    const plain = join(dir, 'raw-plain.pcap');
    writeFileSync(
      plain,
      pcap(true, false, 101, [
        { sec: 1, frac: 2, data: udp4(7) },
        { sec: 1, frac: 3, data: udp6(1) },
      ]),
    );
    expect((await sockit(['dump', '-n', plain], { env: { TZ: 'UTC' } })).stdout).toBe(tcpdump(['-n', '-r', plain]).stdout);
  });

  it('NTP on port 123 and DNS on port 53 read as tcpdump reads them (the NTP codec of src/stack/packet)', async () => {
    const ph = { src: '192.0.2.1', dst: '192.0.2.2' };
    const ntp = Buffer.alloc(48);
    ntp[0] = (4 << 3) | 3; // RFC 4330: VN 4, mode 3 (client)
    const reply = Buffer.from(ntp);
    reply[0] = (4 << 3) | 4;
    reply[1] = 2;
    const frames = [ntp, reply].map((m, i) => ({
      sec: 10,
      frac: i,
      data: ether(
        ipv4.encode(
          { protocol: 17, src: i ? ph.dst : ph.src, dst: i ? ph.src : ph.dst },
          udp.encode({ srcPort: i ? 123 : 40123, dstPort: i ? 40123 : 123 }, m, ph),
        ),
      ),
    }));
    const f = join(dir, 'ntp.pcap');
    writeFileSync(f, pcap(true, false, 1, frames));
    const want = tcpdump(['-n', '-r', f]);
    expect(want.stdout).toMatch(/NTPv4, Client, length 48\n.*NTPv4, Server, length 48/);
    expect((await sockit(['dump', '-n', f], { env: { TZ: 'UTC' } })).stdout).toBe(want.stdout);
  });

  it('a snapshot shorter than the packet: the line for what was captured, as tcpdump prints it', async () => {
    const full = ether(udp4(3));
    const f = join(dir, 'snap.pcap');
    writeFileSync(
      f,
      pcap(
        true,
        false,
        1,
        [
          { sec: 5, frac: 6, data: full.subarray(0, 40), len: full.length },
          { sec: 5, frac: 7, data: full.subarray(0, 20), len: full.length },
        ],
        40,
      ),
    );
    expect((await sockit(['dump', '-n', f], { env: { TZ: 'UTC' } })).stdout.split('\n')[0]).toBe(tcpdump(['-n', '-r', f]).stdout.split('\n')[0]);
  });
});

// ---------- pcapng ----------

class Ng {
  parts: Buffer[] = [];
  constructor(private le = true) {}
  private u16(v: number) {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }
  private u32(v: number) {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }
  opts(list: [number, Buffer][]): Buffer {
    if (!list.length) return Buffer.alloc(0);
    return Buffer.concat([...list.flatMap(([c, v]) => [this.u16(c), this.u16(v.length), v, Buffer.alloc((4 - (v.length % 4)) % 4)]), Buffer.alloc(4)]);
  }
  block(type: number, body: Buffer): this {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const total = padded.length + 12;
    this.parts.push(Buffer.concat([this.u32(type), this.u32(total), padded, this.u32(total)]));
    return this;
  }
  shb(le: boolean, comment?: string): this {
    this.le = le;
    return this.block(
      0x0a0d0d0a,
      Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff), this.opts(comment ? [[1, Buffer.from(comment)]] : [])]),
    );
  }
  idb(linktype: number, snaplen: number, tsresol?: number, tsoffset?: bigint): this {
    const o: [number, Buffer][] = [[2, Buffer.from(`if${linktype}`)]];
    if (tsresol !== undefined) o.push([9, Buffer.from([tsresol])]);
    if (tsoffset !== undefined) {
      const b = Buffer.alloc(8);
      if (this.le) b.writeBigInt64LE(tsoffset);
      else b.writeBigInt64BE(tsoffset);
      o.push([14, b]);
    }
    return this.block(1, Buffer.concat([this.u16(linktype), this.u16(0), this.u32(snaplen), this.opts(o)]));
  }
  epb(iface: number, ts: bigint, data: Buffer, len = data.length, comment?: string): this {
    return this.block(
      6,
      Buffer.concat([
        this.u32(iface),
        this.u32(Number(ts >> 32n)),
        this.u32(Number(ts & 0xffffffffn)),
        this.u32(data.length),
        this.u32(len),
        data,
        Buffer.alloc((4 - (data.length % 4)) % 4),
        this.opts(comment ? [[1, Buffer.from(comment)]] : []),
      ]),
    );
  }
  pb(iface: number, ts: bigint, data: Buffer): this {
    return this.block(
      2,
      Buffer.concat([
        this.u16(iface),
        this.u16(0),
        this.u32(Number(ts >> 32n)),
        this.u32(Number(ts & 0xffffffffn)),
        this.u32(data.length),
        this.u32(data.length),
        data,
      ]),
    );
  }
  spb(data: Buffer): this {
    return this.block(3, Buffer.concat([this.u32(data.length), data]));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describe('pcapng files', () => {
  it('sections of either byte order, if_tsresol in both bases, if_tsoffset, every packet block, skipped blocks noted', async () => {
    const ng = new Ng()
      .shb(true, 'first section')
      .idb(1, 262144) // µs (no if_tsresol)
      .epb(0, 1_700_000_000_123_456n, ether(udp4(1)), undefined, 'a packet comment')
      .block(4, Buffer.alloc(4)) // NRB (empty)
      .spb(ether(udp4(2)))
      .block(0x0a, Buffer.alloc(8)) // DSB
      .block(0x0bad, Buffer.alloc(8)) // custom
      .shb(false) // big-endian section
      .idb(101, 9000, 9, 0n) // raw IP, ns
      .idb(1, 128, 0x80 | 10, 100n) // Ethernet, 2^-10 s, offset 100 s
      .epb(0, 1_700_000_001_000_000_001n, udp6(3))
      .pb(1, 1024n * 5n + 512n, ether(udp4(4)))
      .block(5, Buffer.alloc(12)); // ISB
    const bytes = ng.bytes();
    const ev = await events(bytes);
    const packets = ev.flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
    expect(ev[0]).toMatchObject({ kind: 'start', start: { format: 'pcapng', linktype: 1, snaplen: 262144 } });
    expect(packets.map((p) => [p.linktype, p.snaplen, p.sec, p.nsec])).toEqual([
      [1, 262144, 1_700_000_000, 123_456_000],
      [1, 262144, 0, 0],
      [101, 9000, 1_700_000_001, 1],
      [1, 128, 105, 500_000_000],
    ]);
    expect(ev.filter((e) => e.kind === 'note').map((e) => e.kind === 'note' && e.text)).toEqual([
      'skipped a name resolution block',
      'skipped a decryption secrets block',
      'skipped a block of unknown type 0x00000bad',
      'skipped a interface statistics block',
    ]);
    expect(ev.some((e) => e.kind === 'error')).toBe(false);
    // tshark reads the same file (it, like sockit, allows interfaces of different link types)
    const f = join(dir, 'mixed.pcapng');
    writeFileSync(f, bytes);
    const ts = spawnSync('tshark', ['-n', '-r', f, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'udp.srcport'], { encoding: 'utf8' });
    expect(ts.status).toBe(0);
    // tshark also lists the custom block as a frame: only the UDP packets are compared
    const rows = ts.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((r) => r[2]);
    expect(rows.map((r) => [Number(r[0]).toFixed(3), Number(r[1]), Number(r[2])])).toEqual(
      packets.map((p, i) => [(p.sec + p.nsec / 1e9).toFixed(3), p.len, [4001, 4002, 6003, 4004][i]]),
    );
    const dump = await sockit(['dump', '-n', '-tt', f]);
    expect(dump.code).toBe(0);
    expect(dump.stdout.split('\n')[2]).toBe('1700000001.000000 IP6 2001:db8::1.6003 > 2001:db8::2.56: UDP, length 3');
    expect(dump.stdout.split('\n')[3]).toMatch(/^105\.500000 IP 192\.0\.2\.1\.4004 > 192\.0\.2\.2\.5000: UDP, length 10$/);
  });

  it('a one-section file with one link type reads as tcpdump reads it, and sockit -w pcapng writes it back for both tools', async () => {
    const ng = new Ng()
      .shb(false)
      .idb(1, 262144, 9)
      .epb(0, 1_700_000_000_000_000_005n, ether(udp4(1)))
      .epb(0, 1_700_000_000_500_000_000n, ether(udp6(2), 0x86dd));
    const f = join(dir, 'be.pcapng');
    writeFileSync(f, ng.bytes());
    for (const flags of [[], ['--nano'], ['-e', '-x']]) {
      expect((await sockit(['dump', '-n', ...flags, f], { env: { TZ: 'UTC' } })).stdout).toBe(tcpdump(['-n', ...flags, '-r', f]).stdout);
    }
    const out = join(dir, 'again.pcapng');
    expect((await sockit(['dump', f, '-w', out, '--format', 'pcapng', '--nano'])).code).toBe(0);
    expect(tcpdump(['-n', '--nano', '-r', out]).stdout).toBe(tcpdump(['-n', '--nano', '-r', f]).stdout);
  });
});

// ---------- damaged files ----------

function consume(ev: CaptureEvent[]): void {
  const clock = new Clock('default', false),
    tcp = new TcpState();
  for (const e of ev) {
    if (e.kind !== 'packet') continue;
    const d = dissect(e.packet.linktype, e.packet.data, e.packet.len);
    packetText(d.layers, e.packet.len, { link: true, quiet: false, verbose: 1, absolute: false }, tcp);
    clock.text(e.packet.sec, e.packet.nsec);
    JSON.stringify(packetRecord(e.packet, d));
  }
}

describe('damaged files', () => {
  const valid = [
    pcap(
      true,
      false,
      1,
      [0, 1, 2, 3].map((n) => ({ sec: n, frac: n, data: ether(n % 2 ? udp6(n) : udp4(n), n % 2 ? 0x86dd : 0x0800) })),
    ),
    new Ng()
      .shb(true)
      .idb(1, 262144)
      .epb(0, 5n, ether(udp4(1)))
      .spb(ether(udp4(2)))
      .shb(false)
      .idb(113, 1000, 9)
      .epb(0, 9n, Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0]), udp4(3)]))
      .bytes(),
  ];
  const filter = compileFilter('udp port 5000 or ip6 or arp', 1, 262144);

  it('every truncation reads what is whole, then ends with one error at most', async () => {
    let errors = 0;
    for (const v of valid) {
      for (let n = 0; n <= v.length; n++) {
        const ev = await events(v.subarray(0, n), 64);
        consume(ev);
        const errs = ev.filter((e) => e.kind === 'error');
        expect(errs.length).toBeLessThanOrEqual(1);
        if (errs.length) {
          errors++;
          expect(ev.at(-1)!.kind).toBe('error');
        }
      }
    }
    expect(errors).toBeGreaterThan(100);
  });

  it('seeded mutations decode, print and filter without a throw', async () => {
    const rand = lcg(14);
    let packets = 0;
    for (let i = 0; i < 3000; i++) {
      const v = Buffer.from(valid[i % 2]!);
      const flips = 1 + (rand() % 8);
      for (let j = 0; j < flips; j++) v[rand() % v.length] = rand() & 0xff;
      const ev = await events(v, 256);
      consume(ev);
      for (const e of ev)
        if (e.kind === 'packet') {
          packets++;
          runFilter(filter, e.packet.data, e.packet.len);
        }
    }
    expect(packets).toBeGreaterThan(1000);
  });

  it('on the command line a damaged file is lines then one error line, never a stack trace', async () => {
    const rand = lcg(7);
    for (let i = 0; i < 12; i++) {
      const v = Buffer.from(valid[i % 2]!);
      for (let j = 0; j < 6; j++) v[24 + (rand() % (v.length - 24))] = rand() & 0xff;
      const f = join(dir, `m${i}.cap`);
      writeFileSync(f, i % 3 === 0 ? v.subarray(0, rand() % v.length) : v);
      const r = await sockit(['dump', '-n', '-e', '-v', '-X', f]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('sockit dump:')).length).toBeLessThanOrEqual(1);
      expect([0, 1]).toContain(r.code);
    }
  });
});

import { readFileSync } from 'node:fs';
