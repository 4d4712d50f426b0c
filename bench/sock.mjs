// sockit sock source -> sink over loopback TCP next to iperf3 single stream,
// in the same run: 4 GiB in 128 KiB writes, rounds alternating between the
// two so both see the same machine. Prints each round, the medians, the
// throughput ratio and the sink's peak RSS. Client and server share the
// machine's cores, as iperf3's do.
// Then the same at the book's default sizes (1024-byte reads and writes,
// 256 MiB unless a smaller count is given). With cc, a third side in every
// round: the book's loops in C (bench/sock-floor.c, blocking write(2) and
// read(2) and nothing else), the floor for any sock in any language; sockit
// is compared with it too.
//   node bench/sock.mjs [rounds] [bytes] [bytes-at-1024]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildC, have, median, requireBuilt, root, row } from './common.mjs';

requireBuilt();
if (!have('iperf3')) {
  console.error('bench: iperf3 is needed for the comparison (apt-get install iperf3)');
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 3);
const bytes = Number(process.argv[3] ?? 4 * 2 ** 30);
const wlen = 128 * 1024;
const sockit = [process.execPath, join(root, 'bin', 'sockit'), 'sock'];
const tmp = mkdtempSync(join(tmpdir(), 'sockit-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const floorBin = buildC('sock-floor', tmp);

/** Spawn argv; resolves with its output when it ends, rejects on a non-zero exit. */
function start(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
    for (const w of waiters) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${argv.join(' ')} exited ${code}:\n${stderr}`))));
  });
  const waitFor = (re) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = stdout.match(re);
        if (m) resolve(m);
      };
      waiters.push(check);
      check();
      done.catch(reject);
    });
  return { child, done, waitFor };
}

async function sockitRound(wlen, bytes) {
  const sink = start([...sockit, '-i', '-s', '-r', String(wlen), '--json', '127.0.0.1', '0']);
  const [, port] = await sink.waitFor(/"type":"listening".*?"port":(\d+)/);
  const src = start([...sockit, '-i', '-n', String(Math.ceil(bytes / wlen)), '-w', String(wlen), '127.0.0.1', port]);
  await src.done;
  const out = await sink.done;
  const summary = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((e) => e.type === 'transfer');
  return { gbps: summary.bits_per_s / 1e9, rssMiB: summary.max_rss_bytes / (1 << 20), bytes: summary.bytes };
}

/** The book's loops in C: the sink's bytes over its seconds, accept to EOF (as sockit's sink reports them). */
async function floorRound(wlen, bytes) {
  const sink = start([floorBin, 'sink', String(wlen)]);
  const [, port] = await sink.waitFor(/^listening (\d+)$/m);
  await start([floorBin, 'source', port, String(Math.ceil(bytes / wlen)), String(wlen)]).done;
  const [, got, secs] = /^sink (\d+) ([\d.]+)/m.exec(await sink.done);
  return { gbps: (Number(got) * 8) / Number(secs) / 1e9 };
}

/** A TCP port the kernel hands out, released for iperf3 (which cannot take port 0). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function iperfRound(wlen, bytes) {
  const port = await freePort();
  const server = start(['iperf3', '-s', '-1', '--forceflush', '-p', String(port)]);
  await server.waitFor(/Server listening/);
  const client = start(['iperf3', '-c', '127.0.0.1', '-p', String(port), '-n', String(bytes), '-l', String(wlen), '-J']);
  const report = JSON.parse(await client.done);
  await server.done;
  return { gbps: report.end.sum_received.bits_per_second / 1e9 };
}

async function compare(wlen, bytes, label) {
  console.log(
    `sockit sock -i (send/recv on the socket core) vs iperf3, TCP loopback, ${bytes} bytes in ${wlen}-byte writes and reads${label}, ${rounds} rounds`,
  );
  const ours = [];
  const theirs = [];
  const floor = [];
  let rss = 0;
  for (let i = 1; i <= rounds; i++) {
    const s = await sockitRound(wlen, bytes);
    const p = await iperfRound(wlen, bytes);
    const c = floorBin ? await floorRound(wlen, bytes) : null;
    ours.push(s.gbps);
    theirs.push(p.gbps);
    if (c) floor.push(c.gbps);
    rss = Math.max(rss, s.rssMiB);
    const cText = c ? `, C loop ${c.gbps.toFixed(2)} Gbit/s (${(c.gbps / p.gbps).toFixed(2)} of iperf3)` : '';
    console.log(
      `round ${i}: sockit ${s.gbps.toFixed(2)} Gbit/s (sink ${s.bytes} bytes, RSS ${s.rssMiB.toFixed(1)} MiB), iperf3 ${p.gbps.toFixed(2)} Gbit/s, ratio ${(s.gbps / p.gbps).toFixed(2)}${cText}`,
    );
  }
  row('TCP source -> sink, median (Gbit/s)', median(ours), median(theirs), 'Gbit/s', true);
  // each round's sides ran back to back on the same machine: their ratios are the fairer figures
  const ratio = median(ours.map((o, i) => o / theirs[i]));
  if (floor.length) {
    const floorRatio = median(floor.map((c, i) => c / theirs[i]));
    const ofFloor = median(ours.map((o, i) => o / floor[i]));
    console.log(
      `the book's loops in C: median ${median(floor).toFixed(2)} Gbit/s, ${floorRatio.toFixed(2)}x iperf3 (median of the rounds' ratios); sockit ${ofFloor.toFixed(2)}x the C loops`,
    );
  }
  return { ratio, rss };
}

if (!floorBin) console.log('(no cc: the C loops of bench/sock-floor.c are left out)');
const big = await compare(wlen, bytes, '');
console.log(
  `median of the rounds' ratios ${big.ratio.toFixed(2)}x: goal >= 0.95x iperf3 (issue 18) ${big.ratio >= 0.95 ? 'met' : 'NOT met'}, moonshot 1.0x ${big.ratio >= 1 ? 'met' : 'not met'}; sink peak RSS ${big.rss.toFixed(1)} MiB`,
);
// the book's defaults (sock -w 1024, -r 1024): a syscall per KiB, where the per-call cost shows
const small = await compare(1024, Math.min(bytes, Number(process.argv[4] ?? 256 * 2 ** 20)), " (the book's defaults, -r 1024 -w 1024)");
console.log(`median of the rounds' ratios ${small.ratio.toFixed(2)}x at the book's sizes; sink peak RSS ${small.rss.toFixed(1)} MiB`);
