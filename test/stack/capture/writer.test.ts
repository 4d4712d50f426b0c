// CaptureWriter.writeFrame (the -w hot loop: a packet as bytes from the ring,
// no object per packet; write() of a packet object goes through it too)
// writes byte for byte what the pcap and pcapng codecs encode for the same
// packet (their record headers, and the EPB with a bigint timestamp), µs and
// ns, with a prefix (SLL2 header, a VLAN tag put back) and without; and
// tcpdump reads the result.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureWriter, type CaptureFormat, pcap, pcapng } from '../../../src/stack/capture/index.js';
import { LINKTYPE_ETHERNET } from '../../../src/stack/capture/linktype.js';

const dir = mkdtempSync(join(tmpdir(), 'sockit-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** an Ethernet/IPv4/UDP frame of n bytes (n >= 42) whose payload is a pattern */
function frame(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  Buffer.from('02000000000102000000000208004500', 'hex').copy(b, 0);
  b.writeUInt16BE(n - 14, 16);
  b[22] = 64;
  b[23] = 17;
  Buffer.from([192, 0, 2, 2, 192, 0, 2, 1]).copy(b, 26);
  b.writeUInt16BE(40000 + seed, 34);
  b.writeUInt16BE(5201, 36);
  b.writeUInt16BE(n - 34, 38);
  for (let i = 42; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

// timestamps that cross 2^32 in the pcapng 64-bit count, the last second of 2106 included
const stamps = [
  [0, 0],
  [1, 999_999_999],
  [1_764_680_000, 123_456_789],
  [4_294_967_295, 999_999_999],
  [2_147_483_648, 1],
] as const;
const sizes = [42, 43, 45, 64, 106, 1514, 9014];

describe('CaptureWriter.writeFrame', () => {
  for (const format of ['pcap', 'pcapng'] as CaptureFormat[]) {
    for (const nano of [false, true]) {
      it(`is byte for byte what the codecs encode (${format}, ${nano ? 'ns' : 'µs'}), with and without a prefix, and write() is too`, () => {
        const a = join(dir, `a-${format}-${nano}`),
          b = join(dir, `b-${format}-${nano}`);
        const wa = new CaptureWriter(a, format, nano),
          wb = new CaptureWriter(b, format, nano);
        wb.begin(LINKTYPE_ETHERNET, 262144);
        const want: Buffer[] =
          format === 'pcap'
            ? [pcap.encodeFileHeader({ nano, snaplen: 262144, linktype: LINKTYPE_ETHERNET })]
            : [pcapng.encodeSectionHeader(), pcapng.encodeInterface({ linktype: LINKTYPE_ETHERNET, snaplen: 262144, nano })];
        // a ring stand-in: packets at odd offsets of one big buffer
        const ring = Buffer.alloc(1 << 16);
        let n = 0;
        for (const [sec, nsec] of stamps)
          for (const size of sizes) {
            const f = frame(size, n++);
            const off = (n * 97) % (ring.length - size);
            f.copy(ring, off);
            const split = n % 3 === 0 ? 16 : 0; // every third packet: a 16-byte prefix, the rest from the "ring"
            const len = size + (n % 2); // a wire length past the bytes kept, now and then
            const frac = nano ? nsec : Math.floor(nsec / 1000);
            want.push(
              format === 'pcap'
                ? Buffer.concat([pcap.encodeRecordHeader({ sec, frac, caplen: size, len }), f])
                : pcapng.encodeEnhancedPacket({ interfaceId: 0, timestamp: BigInt(sec) * (nano ? 1_000_000_000n : 1_000_000n) + BigInt(frac), len, data: f }),
            );
            wa.write({ number: n, sec, nsec, caplen: size, len, data: f, linktype: LINKTYPE_ETHERNET, snaplen: 262144, interfaceId: 0 });
            wb.writeFrame(LINKTYPE_ETHERNET, 262144, sec, nsec, len, split ? f.subarray(0, split) : null, ring, off + split, size - split);
          }
        wa.close();
        wb.close();
        const expected = Buffer.concat(want);
        for (const file of [b, a]) {
          const got = readFileSync(file);
          expect(got.length, file).toBe(expected.length);
          expect(got.equals(expected), file).toBe(true);
        }
        const r = spawnSync('tcpdump', ['-n', '-r', b, '-tt'], { encoding: 'latin1' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(stamps.length * sizes.length);
        expect(r.stdout).toMatch(/^1764680000\.123456(789)? IP 192\.0\.2\.2\.\d+ > 192\.0\.2\.1\.5201: UDP/m);
      });
    }
  }

  it('refuses, in pcap, a packet of another link type than the file has', () => {
    const w = new CaptureWriter(join(dir, 'lt.pcap'), 'pcap', false);
    w.begin(LINKTYPE_ETHERNET, 262144);
    expect(() => w.writeFrame(276, 262144, 0, 0, 60, null, frame(60, 0), 0, 60)).toThrow(/use --format pcapng/);
    w.close();
  });
});
