// sockit dump next to tcpdump on a large generated pcap of mixed traffic
// (TCP data and handshakes, UDP, DNS, ICMP echo, ARP): wall time of
// `dump -n -r F > /dev/null` with and without a filter, as ratios, and peak
// RSS at 100k and 1M packets (it should stay flat: the reader streams).
//   node bench/dump.mjs [packets]      (default 1000000)
//   node bench/dump.mjs --write F N    only write the N-packet file F (to profile on)
// Times are CPU (user+sys, median of 3: the machine is shared) and wall;
// NODE_EXTRA_CA_CERTS is unset for sockit (it costs ~40 ms per start). The
// floor is node reading the same file with sockit's reader and dissectors
// and printing nothing.
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { have, median, requireBuilt, root, row } from './common.mjs';

requireBuilt();
if (!have('tcpdump')) {
  console.error('bench: tcpdump is not installed');
  process.exit(2);
}
const { encode: ip4 } = await import('../dist/stack/packet/ipv4.js');
const { encode: udp } = await import('../dist/stack/packet/udp.js');
const { encode: tcp } = await import('../dist/stack/packet/tcp.js');
const { encode: icmp4 } = await import('../dist/stack/packet/icmp4.js');
const { encodeFileHeader, encodeRecordHeader } = await import('../dist/stack/capture/pcap.js');

const ETH = (type) => Buffer.from(`02000000000202000000000${1}${type}`, 'hex');
const A = '192.0.2.1',
  B = '198.51.100.7';

/** A frame for packet i: a rotation of the kinds of traffic the tests capture. */
function frame(i) {
  const kind = i % 8,
    ph = { src: A, dst: B };
  switch (kind) {
    case 0:
    case 1:
    case 2: {
      const flags = kind === 0 && i % 800 === 0 ? { syn: true } : { ack: true, psh: kind === 1 };
      const payload = kind === 1 ? Buffer.alloc(200, 0x61) : Buffer.alloc(0);
      const seg = tcp(
        {
          srcPort: 40000 + (i % 50),
          dstPort: 5001,
          seq: i * 200,
          ack: 7,
          flags,
          window: 502,
          options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', value: i, echo: i - 1 }],
        },
        payload,
        ph,
      );
      return Buffer.concat([ETH('0800'), ip4({ protocol: 6, src: A, dst: B, id: i & 0xffff, df: true }, seg)]);
    }
    case 3:
      return Buffer.concat([
        ETH('0800'),
        ip4({ protocol: 17, src: A, dst: B, id: i & 0xffff }, udp({ srcPort: 6000 + (i % 9), dstPort: 9999 }, Buffer.alloc(64, 1), ph)),
      ]);
    case 4: {
      const q = Buffer.concat([
        Buffer.from([(i >> 8) & 0xff, i & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
        Buffer.from('\x04host\x07example\x00\x00\x01\x00\x01', 'latin1'),
      ]);
      return Buffer.concat([ETH('0800'), ip4({ protocol: 17, src: A, dst: B }, udp({ srcPort: 33000, dstPort: 53 }, q, ph))]);
    }
    case 5:
    case 6:
      return Buffer.concat([
        ETH('0800'),
        ip4(
          { protocol: 1, src: kind === 5 ? A : B, dst: kind === 5 ? B : A },
          icmp4({ type: kind === 5 ? 8 : 0, code: 0, body: { kind: 'echo', id: 77, seq: i & 0xffff, data: Buffer.alloc(56) } }),
        ),
      ]);
    default:
      return Buffer.concat([ETH('0806'), Buffer.from('0001080006040001020000000001c0000201000000000000c6336407', 'hex')]);
  }
}

function generate(path, n) {
  const fd = openSync(path, 'w');
  const templates = Array.from({ length: 1600 }, (_, i) => frame(i));
  writeSync(fd, encodeFileHeader({ nano: false, snaplen: 262144, linktype: 1 }));
  let chunk = [],
    size = 0;
  for (let i = 0; i < n; i++) {
    const f = templates[i % templates.length];
    chunk.push(encodeRecordHeader({ sec: 1_800_000_000 + Math.floor(i / 1000), frac: (i % 1000) * 1000, caplen: f.length, len: f.length }), f);
    size += 16 + f.length;
    if (size > 8 << 20) {
      writeSync(fd, Buffer.concat(chunk));
      chunk = [];
      size = 0;
    }
  }
  writeSync(fd, Buffer.concat(chunk));
  closeSync(fd);
}

/** Wall and CPU ms and peak RSS (KiB) of argv with stdout to /dev/null, via time(1). */
function measure(argv) {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'sh', '-c', `"$@" > /dev/null 2>/dev/null`, 'sh', ...argv], { encoding: 'utf8', env });
  const [sec, user, sys, kib] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { ms: sec * 1000, cpu: (user + sys) * 1000, kib };
}

if (process.argv[2] === '--write') {
  generate(process.argv[3], Number(process.argv[4] ?? 100_000));
  process.exit(0);
}

// the floor: read and dissect every packet in-process as dump does (its reader: fileChunks and
// readCaptureBatches), format nothing
const FLOOR = `
const { openSync } = await import('node:fs');
const { fileChunks, readCaptureBatches } = await import(${JSON.stringify(join(root, 'dist/stack/capture/index.js'))});
const { dissect } = await import(${JSON.stringify(join(root, 'dist/stack/dissect/index.js'))});
let n = 0;
for await (const batch of readCaptureBatches(fileChunks(openSync(process.argv[1], 'r'))))
  for (const ev of batch) if (ev.kind === 'packet') n += dissect(ev.packet.linktype, ev.packet.data, ev.packet.len).layers.length;
`;

const n = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'sockit-bench-dump-'));
try {
  const sockit = [process.execPath, join(root, 'bin/sockit'), 'dump', '-n', '-r'];
  const tcpdump = ['tcpdump', '-n', '-r'];
  let tcpdumpAll = 1;
  for (const size of [...new Set([Math.min(100_000, n), n])]) {
    const f = join(dir, `${size}.pcap`);
    generate(f, size);
    console.log(`${size} packets:`);
    for (const filter of [[], ['tcp port 5001 or icmp']]) {
      const ours = [],
        theirs = [],
        oursCpu = [],
        theirsCpu = [];
      let rss = 0,
        rssT = 0;
      for (let k = 0; k < 3; k++) {
        const a = measure([...sockit, f, ...filter]);
        ours.push(a.ms);
        oursCpu.push(a.cpu);
        rss = Math.max(rss, a.kib);
        const b = measure([...tcpdump, f, ...filter]);
        theirs.push(b.ms);
        theirsCpu.push(b.cpu);
        rssT = Math.max(rssT, b.kib);
      }
      if (!filter.length) tcpdumpAll = median(theirsCpu);
      row(`  dump ${filter.length ? 'with a filter' : 'all'} (CPU)`, median(oursCpu), median(theirsCpu), 'ms', false);
      row(`  dump ${filter.length ? 'with a filter' : 'all'} (wall)`, median(ours), median(theirs), 'ms', false);
      row('  peak RSS', rss / 1024, rssT / 1024, 'MiB', false);
    }
    const floor = [];
    for (let k = 0; k < 3; k++) floor.push(measure([process.execPath, '--input-type=module', '-e', FLOOR, f]).cpu);
    row('  floor: read+dissect, no text (CPU)', median(floor), tcpdumpAll, 'ms', false);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
