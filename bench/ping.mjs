// sockit ping next to iputils ping, in one run (issue 3's speed goals):
//  1. flood: `ping -f -q -c N 127.0.0.1` wall time        (goal: sockit <= 1.0x)
//  2. latency: `ping -i 0.01 -c 500 127.0.0.1` median RTT   (goal: within +10 us)
//  3. start-up: `sockit ping -c 1 127.0.0.1` next to `node -e 0`
// and, for the flood, two floors measured in the same run: the same round
// trips in a C loop of bare sendto/recvmsg (bench/ping-floor.c, the kernel's
// share) and in a Node loop that calls sockit's addon for each syscall with
// no ping logic around it (bench/ping-floor.mjs, whole process timed: the
// least any JavaScript ping over this addon can take).
//   node bench/ping.mjs [flood-count]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have, median, requireBuilt, root, row, timed } from './common.mjs';

requireBuilt();

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
let floorBin = null;
const tmp = mkdtempSync(join(tmpdir(), 'sockit-bench-'));
if (have('cc') && process.getuid() === 0) {
  const bin = join(tmp, 'ping-floor');
  if (spawnSync('cc', ['-O2', '-o', bin, join(root, 'bench', 'ping-floor.c')], { stdio: 'inherit' }).status === 0) floorBin = bin;
}
function floorLoop() {
  const r = timed([floorBin, String(N)]);
  if (r.code !== 0) throw new Error(`ping-floor failed:\n${r.stderr}`);
  return Number(r.stdout);
}

function nodeFloor() {
  const r = timed([process.execPath, join(root, 'bench', 'ping-floor.mjs'), String(N)]);
  if (r.code !== 0) throw new Error(`ping-floor.mjs failed:\n${r.stderr}`);
  return r.ms;
}

const fo = [],
  fi = [],
  ff = [],
  fn = [],
  fj = [];
for (let i = 0; i < 3; i++) {
  fi.push(flood(['ping']));
  fo.push(flood(sockit));
  if (floorBin) ff.push(floorLoop());
  if (floorBin) fj.push(nodeFloor());
  fn.push(timed([process.execPath, '-e', '0']).ms);
}
rmSync(tmp, { recursive: true, force: true });
const us = (ms) => `${((ms * 1000) / N).toFixed(2)} us`;
row(`flood -c ${N} wall time (median of 3)`, median(fo), median(fi), 'ms', false);
console.log(`${''.padEnd(34)} per round trip: sockit ${us(median(fo))}, iputils ${us(median(fi))} (start-up included)`);
if (floorBin) {
  const bound = median(ff) + median(fn);
  console.log(`${''.padEnd(34)} kernel floor (C sendto+recvmsg loop) ${median(ff).toFixed(0)} ms = ${us(median(ff))}; node -e 0 ${median(fn).toFixed(0)} ms`);
  row('  C floor + node -e 0 (sum)', bound, median(fi), 'ms', false);
  row('  bare Node loop over the addon', median(fj), median(fi), 'ms', false);
  console.log(`${''.padEnd(34)} (bench/ping-floor.mjs, whole process: the least any JavaScript ping over this addon takes)`);
  row('  sockit against bare Node loop', median(fo), median(fj), 'ms', false);
  if (process.env.NODE_EXTRA_CA_CERTS) {
    console.log(`${''.padEnd(34)} (NODE_EXTRA_CA_CERTS is set: every Node process parses that bundle before running any code)`);
  }
} else {
  console.log(`${''.padEnd(34)} (the floor lines need root and cc)`);
}

const lo = rtts(sockit);
const li = rtts(['ping']);
row('-i 0.01 -c 500 median RTT', lo, li, 'us', false);
console.log(`${''.padEnd(34)} difference ${(lo - li).toFixed(1)} us (goal: <= +10 us)`);

const so = [],
  sn = [];
for (let i = 0; i < 5; i++) {
  so.push(timed([...sockit, '-c', '1', '127.0.0.1']).ms);
  sn.push(timed([process.execPath, '-e', '0']).ms);
}
row('start-up: ping -c 1 vs node -e 0', median(so), median(sn), 'ms', false);
