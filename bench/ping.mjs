// sockit ping next to iputils ping, in one run (issue 3's speed goals):
//  1. flood: `ping -f -q -c N 127.0.0.1`, the cost of one more round trip
//     (slope between two counts; CPU and wall)            (goal: sockit <= 1.1x)
//  2. latency: `ping -i 0.01 -c 500 127.0.0.1` median RTT   (goal: within +10 us)
//  3. start-up: `sockit ping -c 1 127.0.0.1` next to `node -e 0`
// and, for the flood, two floors measured in the same run: the same round
// trips in a C loop of bare sendto/recvmsg (bench/ping-floor.c, the kernel's
// share) and in a Node loop that calls sockit's addon for each syscall with
// no ping logic around it (bench/ping-floor.mjs, whole process timed: the
// least any JavaScript ping over this addon can take).
// Each flood slope is printed between the medians, between the best runs,
// and paired: the median of each run's own ratio to the iputils run of the
// same round (the sides of a round go back to back; the load drifts).
//   node bench/ping.mjs [flood-count]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchEnv, buildC, have, median, requireBuilt, root, row, timed, timedCpu } from './common.mjs';

requireBuilt();

const sockit = [process.execPath, `${root}bin/sockit`, 'ping'];
const N = Number(process.argv[2] ?? 100000);
if (!have('ping')) {
  console.error('bench: iputils ping is not installed (apt-get install iputils-ping)');
  process.exit(2);
}

function flood(argv, n) {
  const r = timedCpu([...argv, '-f', '-q', '-c', String(n), '127.0.0.1'], { env: benchEnv() });
  const m = /(\d+) received/.exec(r.stdout);
  if (r.code !== 0 || !m || Number(m[1]) !== n) throw new Error(`flood run failed (${argv.join(' ')}):\n${r.stdout}${r.stderr}`);
  return r;
}

function rtts(argv) {
  const r = timed([...argv, '-i', '0.01', '-c', '500', '127.0.0.1']);
  const t = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  if (t.length < 450) throw new Error(`latency run got ${t.length} replies:\n${r.stderr}`);
  return median(t);
}

console.log(`sockit ping vs iputils ping (${process.getuid() === 0 ? 'root: raw sockets' : 'unprivileged'})`);
// alternate the order so neither side always runs on a warm cache
const tmp = mkdtempSync(join(tmpdir(), 'sockit-bench-'));
const floorBin = process.getuid() === 0 ? buildC('ping-floor', tmp) : null;
function floorRun(argv, n, ...flags) {
  const r = timedCpu([...argv, String(n), ...flags], { env: benchEnv() });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  return r;
}

// The cost of one more round trip: the slope between a short and a long
// run of each, so start-up (Node's ~25 ms, the bundle's) cancels out. Both
// wall time and CPU time (user + sys of the child, from wait4): the machine
// is shared, and CPU time is what moves least under other people's load.
const N1 = Math.max(1000, Math.round(N / 5));
const sides = [
  ['iputils ping -f', (n) => flood(['ping'], n)],
  ['sockit ping -f', (n) => flood(sockit, n)],
];
if (floorBin) {
  sides.push(['C floor (sendto+recvmsg)', (n) => floorRun([floorBin], n)]);
  sides.push(['Node loop, sendto+recvmsg', (n) => floorRun([process.execPath, join(root, 'bench', 'ping-floor.mjs')], n)]);
  sides.push(['Node loop, addon sendrecv', (n) => floorRun([process.execPath, join(root, 'bench', 'ping-floor.mjs')], n, '--sendrecv')]);
}
const REPS = Number(process.env.BENCH_REPS ?? 5);
const runs = sides.map(() => ({ short: [], long: [] }));
for (let i = 0; i < REPS; i++) {
  sides.forEach(([, run], k) => {
    runs[k].short.push(run(N1));
    runs[k].long.push(run(N));
  });
}
rmSync(tmp, { recursive: true, force: true });
// Two estimates of each slope: between the medians, and between the best
// runs (the least each count took). On a shared machine other load only
// ever adds time, so the best runs are the steadier estimate of the cost
// itself; both are printed, for every side alike.
const best = (xs) => Math.min(...xs);
const slope = (k, key, of) => (of(runs[k].long.map((r) => r[key])) - of(runs[k].short.map((r) => r[key]))) / (N - N1);
const perRt = (of) => sides.map((_, k) => ({ wall: slope(k, 'ms', of) * 1000, cpu: slope(k, 'cpuMs', of) * 1000 }));
console.log(`flood, cost of one more round trip: slope between -c ${N1} and -c ${N}, ${REPS} runs each, us per round trip`);
for (const [label, of] of [
  ['medians', median],
  ['best runs', best],
]) {
  const rt = perRt(of);
  console.log(`${`(${label})`.padEnd(30)} ${'CPU (user+sys)'.padStart(16)} ${'ratio'.padStart(7)} ${'wall'.padStart(10)} ${'ratio'.padStart(7)}`);
  sides.forEach(([name], k) => {
    const p = rt[k];
    console.log(
      `${name.padEnd(30)} ${p.cpu.toFixed(2).padStart(13)} us ${(p.cpu / rt[0].cpu).toFixed(2).padStart(6)}x ${p.wall.toFixed(2).padStart(7)} us ${(p.wall / rt[0].wall).toFixed(2).padStart(6)}x`,
    );
  });
}
// And paired: each run's own slope next to the iputils slope of the same
// run (the sides of a run go back to back, while the machine's load drifts
// between runs; iputils' own slope moved 6.5-7.0 us between two runs here).
const runSlope = (k, key, i) => (runs[k].long[i][key] - runs[k].short[i][key]) / (N - N1);
const pairedRatio = (k, key) => median(runs[k].long.map((_, i) => runSlope(k, key, i) / runSlope(0, key, i)));
console.log(`${"(paired: median of the runs' own ratios)".padEnd(47)} ${'ratio'.padStart(7)} ${''.padStart(10)} ${'ratio'.padStart(7)}`);
sides.forEach(([name], k) => {
  if (k === 0) return;
  console.log(
    `${name.padEnd(30)} ${''.padStart(16)} ${pairedRatio(k, 'cpuMs').toFixed(2).padStart(6)}x ${''.padStart(10)} ${pairedRatio(k, 'ms').toFixed(2).padStart(6)}x`,
  );
});
console.log(`${''.padEnd(30)} (ratios against iputils; goal: sockit <= 1.1x; NODE_EXTRA_CA_CERTS unset for the children)`);
if (!floorBin) console.log(`${''.padEnd(30)} (the floor lines need root and cc)`);

const lo = rtts(sockit);
const li = rtts(['ping']);
row('-i 0.01 -c 500 median RTT', lo, li, 'us', false);
console.log(`${''.padEnd(34)} difference ${(lo - li).toFixed(1)} us (goal: <= +10 us)`);

const so = [],
  sn = [];
for (let i = 0; i < 5; i++) {
  so.push(timed([...sockit, '-c', '1', '127.0.0.1'], { env: benchEnv() }).ms);
  sn.push(timed([process.execPath, '-e', '0'], { env: benchEnv() }).ms);
}
row('start-up: ping -c 1 vs node -e 0', median(so), median(sn), 'ms', false);
