// sockit ss / sockit netstat next to iproute2 ss and net-tools netstat on
// the same sockets: N loopback TCP connections (2N sockets) held by one
// helper process in a namespace of their own, at ~2,000 and ~19,800
// sockets. Prints wall time (median), the cost of one more socket (the
// slope between the two sizes, so start-up cancels out) and sockit's peak
// RSS, with ratios; then the goals, each against the anchor the
// issue names (the slopes of sockit netstat too against ss's). NODE_EXTRA_CA_CERTS is unset for every run (it costs
// each Node start tens of ms and users do not have it). Needs root.
//   node bench/netstat.mjs [runs] [small-connections] [large-connections]
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { median, requireBuilt, root, row } from './common.mjs';

requireBuilt();
if (process.getuid() !== 0) {
  console.error('bench: needs root (a network namespace of its own)');
  process.exit(2);
}
const runs = Number(process.argv[2] ?? 5);
const sizes = [Number(process.argv[3] ?? 1000), Number(process.argv[4] ?? 9900)];
const ns = `sockit-bench-${process.pid}`;
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
// ss 6.1's Process column, so that sockit's output can be checked against the installed ss first
env.SOCKIT_SS_LAYOUT = '6.1';
const sockit = [process.execPath, join(root, 'bin', 'sockit')];

// one process holding n connections to its own listener (python: written apart from sockit)
const HELPER = `
import socket, sys
n = int(sys.argv[1])
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(4096)
keep = [l]
for i in range(n):
    c = socket.socket(); c.connect(l.getsockname()); a, _ = l.accept(); keep += [c, a]
print(len(keep), flush=True)
sys.stdin.read()
`;

// wall time, CPU time (user+sys) and peak RSS of one run, measured by a parent that waits for it
// (getrusage(RUSAGE_CHILDREN): the machine is shared, so CPU time is the steadier of the two)
const MEASURE = `
import os, resource, subprocess, sys, tempfile, time
# a file, not /dev/null: src/cli/stdio.ts takes a /dev/null stdout with a piped stderr for a closed one
with tempfile.TemporaryFile(dir='/dev/shm') as out:
    t = time.monotonic()
    subprocess.run(sys.argv[1:], stdout=out, check=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print((time.monotonic() - t) * 1000, ru.ru_maxrss, (ru.ru_utime + ru.ru_stime) * 1000)
`;

function measure(argv) {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'python3', '-c', MEASURE, ...argv], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const [ms, kb, cpu] = r.stdout.trim().split(' ').map(Number);
  return { ms, kb, cpu };
}

function output(argv) {
  return spawnSync('ip', ['netns', 'exec', ns, ...argv], { env, encoding: 'utf8', maxBuffer: 256 << 20 }).stdout;
}

async function hold(n) {
  const child = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', `ulimit -n 20000 && exec python3 -c "$0" ${n}`, HELPER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const count = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`helper exited ${code}`)));
  });
  return { child, sockets: count - 1 };
}

const cases = [
  ['ss -tan', ['ss', '-tan']],
  ['netstat -tan', ['netstat', '-tan']],
  ['ss -tanp', ['ss', '-tanp']],
  ['netstat -tanp', ['netstat', '-tanp']],
];

spawnSync('ip', ['netns', 'add', ns]);
spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
const results = {};
let phases = null;
let floor = null;
try {
  for (const n of sizes) {
    const { child, sockets } = await hold(n);
    try {
      const sorted = (s) => s.split('\n').sort().join('\n');
      const outBytes = {};
      for (const [name, argv] of cases) {
        const text = output([...sockit, ...argv]);
        if (sorted(text) !== sorted(output(argv))) throw new Error(`sockit ${argv.join(' ')} and ${argv.join(' ')} disagree: run the tests`);
        outBytes[name] = Buffer.byteLength(text);
      }
      for (const [name, argv] of cases) {
        // in turns, so that a change in the machine's speed during the runs weighs on both sides alike
        const ours = [];
        const theirs = [];
        for (let i = 0; i < runs; i++) {
          ours.push(measure([...sockit, ...argv]));
          theirs.push(measure(argv));
        }
        results[`${name}@${n}`] = {
          // each sockit run against the anchor's run next to it
          pairs: median(ours.map((x, i) => x.ms / theirs[i].ms)),
          sockets,
          ours: median(ours.map((x) => x.ms)),
          theirs: median(theirs.map((x) => x.ms)),
          oursCpu: median(ours.map((x) => x.cpu)),
          theirsCpu: median(theirs.map((x) => x.cpu)),
          rss: Math.max(...ours.map((x) => x.kb)),
          outBytes: outBytes[name],
        };
      }
      // at the large size: the floor of sockit ss -tan's wall (Node's start, and Node with the dumps alone)
      if (n === sizes[1]) {
        const node0 = Array.from({ length: runs }, () => measure([process.execPath, '-e', '0']));
        const dumps = Array.from({ length: runs }, () => measure([process.execPath, join(root, 'bench', 'netstat-floor.cjs')]));
        const one = Array.from({ length: runs }, () => measure([process.execPath, join(root, 'bench', 'netstat-floor.cjs'), 'one']));
        floor = { node: median(node0.map((x) => x.ms)), dumps: median(dumps.map((x) => x.ms)), one: median(one.map((x) => x.ms)) };
      }
      // at the large size: where sockit ss -tan's time per socket goes, warm, in one process
      if (n === sizes[1]) phases = JSON.parse(output([process.execPath, join(root, 'bench', 'netstat-phases.mjs')]));
    } finally {
      child.stdin.end();
      child.kill();
    }
  }
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
}

console.log(
  `sockit ss/netstat vs ss (iproute2) / netstat (net-tools), median of ${runs} runs, NODE_EXTRA_CA_CERTS unset, SOCKIT_SS_LAYOUT=6.1; cpu = user+sys`,
);
for (const [name] of cases) {
  const [a, b] = sizes.map((n) => results[`${name}@${n}`]);
  row(`${name}, ${a.sockets} sockets (ms)`, a.ours, a.theirs, 'ms', false);
  row(`${name}, ${b.sockets} sockets (ms)`, b.ours, b.theirs, 'ms', false);
  const per = (x, y) => ((y - x) / (b.sockets - a.sockets)) * 1000;
  row(`${name}, slope per socket (us)`, per(a.ours, b.ours), per(a.theirs, b.theirs), 'us', false);
  row(`${name}, ${b.sockets} sockets (cpu ms)`, b.oursCpu, b.theirsCpu, 'ms', false);
  row(`${name}, cpu slope per socket (us)`, per(a.oursCpu, b.oursCpu), per(a.theirsCpu, b.theirsCpu), 'us', false);
  console.log(`${name.padEnd(34)} sockit peak RSS ${(a.rss / 1024).toFixed(1)} MiB at ${a.sockets} sockets, ${(b.rss / 1024).toFixed(1)} MiB at ${b.sockets}`);
}
// the goals (issue 13, Speed), each ratio against the anchor the issue names: the cost of one
// more socket (cpu slope) of sockit ss and sockit netstat against ss's, for -tan and for -tanp; wall time
// at the large size against each tool's own (-tan <= 1.5x, -tanp <= 1.2x: met when both the ratio of
// the medians and the median of the run-by-run ratios are within it); RSS growth from the small size
console.log('goals (issue 13):');
const big = (name) => results[`${name}@${sizes[1]}`];
const small = (name) => results[`${name}@${sizes[0]}`];
const cpuSlope = (name, who) => ((big(name)[who] - small(name)[who]) / (big(name).sockets - small(name).sockets)) * 1000;
for (const [name, anchor, bar] of [
  ['ss -tan', 'ss -tan', 1.0],
  ['netstat -tan', 'ss -tan', 1.0],
  ['ss -tanp', 'ss -tanp', 1.0],
  ['netstat -tanp', 'ss -tanp', 1.0],
]) {
  const r = cpuSlope(name, 'oursCpu') / cpuSlope(anchor, 'theirsCpu');
  console.log(`  cpu slope sockit ${name} / ${anchor}: ${r.toFixed(2)}x (goal <= ${bar.toFixed(1)}x: ${r <= bar ? 'met' : 'not met'})`);
}
for (const [name, bar] of [
  ['ss -tan', 1.5],
  ['netstat -tan', 1.5],
  ['ss -tanp', 1.2],
  ['netstat -tanp', 1.2],
]) {
  const r = big(name).ours / big(name).theirs;
  const p = big(name).pairs;
  console.log(
    `  wall at ${big(name).sockets} sockets sockit ${name} / ${name}: ${r.toFixed(2)}x, run by run ${p.toFixed(2)}x (goal <= ${bar.toFixed(1)}x: ${r <= bar && p <= bar ? 'met' : 'not met'})`,
  );
}
for (const [name] of cases) {
  const mib = (kb) => `${kb >= 0 ? '+' : ''}${(kb / 1024).toFixed(1)} MiB`;
  const grew = big(name).rss - small(name).rss;
  const out = big(name).outBytes - small(name).outBytes;
  console.log(
    `  peak RSS sockit ${name}: ${mib(grew)} from ${small(name).sockets} to ${big(name).sockets} sockets, its output ${mib(out / 1024)} (goal: no more than the output: ${grew * 1024 <= out ? 'met' : 'not met'})`,
  );
}
if (floor) {
  const ss = big('ss -tan').theirs;
  console.log(
    `floor at ${big('ss -tan').sockets} sockets (wall, median): node -e 0 ${floor.node.toFixed(1)} ms; node with the two sock_diag dumps and nothing formatted ` +
      `(bench/netstat-floor.cjs) ${floor.dumps.toFixed(1)} ms = ${(floor.dumps / ss).toFixed(2)}x ss -tan's ${ss.toFixed(1)} ms, ` +
      `with sockit's one walk of both families ${floor.one.toFixed(1)} ms = ${(floor.one / ss).toFixed(2)}x; the goal 1.5x is ${(1.5 * ss).toFixed(1)} ms`,
  );
}
if (phases) {
  const f = (x) => `${x.toFixed(2)} us`;
  console.log(
    `sockit ss -tan per socket, warm, in-process CPU (bench/netstat-phases.mjs): kernel dump alone ${f(phases.kernel_dump_us)} (the floor ss shares), ` +
      `+decode ${f(phases.decoded_us)}, +ss tokens ${f(phases.tokens_us)}, +ss table ${f(phases.table_us)}`,
  );
}
