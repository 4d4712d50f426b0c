// sockit ping next to iputils ping, in one run (issue 3's speed goals):
//  1. flood: `ping -f -q -c N 127.0.0.1` wall time        (goal: sockit <= 1.0x)
//  2. latency: `ping -i 0.01 -c 500 127.0.0.1` median RTT   (goal: within +10 us)
//  3. start-up: `sockit ping -c 1 127.0.0.1` next to `node -e 0`
//   node bench/ping.mjs [flood-count]
import { have, median, root, row, timed } from './common.mjs';

const sockit = [process.execPath, `${root}bin/sockit`, 'ping'];
const N = Number(process.argv[2] ?? 100000);
if (!have('ping')) {
  console.error('bench: iputils ping is not installed (apt-get install iputils-ping)');
  process.exit(2);
}

function flood(argv) {
  const r = timed([...argv, '-f', '-q', '-c', String(N), '127.0.0.1']);
  const m = /(\d+) received/.exec(r.stdout);
  if (r.code !== 0 || !m || Number(m[1]) !== N) throw new Error(`flood run failed (${argv.join(' ')}):\n${r.stdout}${r.stderr}`);
  return r.ms;
}

function rtts(argv) {
  const r = timed([...argv, '-i', '0.01', '-c', '500', '127.0.0.1']);
  const t = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  if (t.length < 450) throw new Error(`latency run got ${t.length} replies:\n${r.stderr}`);
  return median(t);
}

console.log(`sockit ping vs iputils ping (${process.getuid() === 0 ? 'root: raw sockets' : 'unprivileged'})`);
// alternate the order so neither side always runs on a warm cache
const fo = [], fi = [];
for (let i = 0; i < 3; i++) {
  fi.push(flood(['ping']));
  fo.push(flood(sockit));
}
row(`flood -c ${N} wall time (median of 3)`, median(fo), median(fi), 'ms', false);

const lo = rtts(sockit);
const li = rtts(['ping']);
row('-i 0.01 -c 500 median RTT', lo, li, 'us', false);
console.log(`${''.padEnd(34)} difference ${(lo - li).toFixed(1)} us (goal: <= +10 us)`);

const so = [], sn = [];
for (let i = 0; i < 5; i++) {
  so.push(timed([...sockit, '-c', '1', '127.0.0.1']).ms);
  sn.push(timed([process.execPath, '-e', '0']).ms);
}
row('start-up: ping -c 1 vs node -e 0', median(so), median(sn), 'ms', false);
