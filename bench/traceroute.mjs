// sockit traceroute next to traceroute 2.x, in one run, in a lab of network
// namespaces (needs root):
//  1. silent tail: a 5-hop chain (4 routers + destination) whose last two
//     routers and destination answer nothing; `-n` with defaults, so 30 hops
//     and traceroute's 5 s waits decide the wall time   (goal: sockit <= 1.0x)
//  2. responsive: the same chain answering; both complete, times printed
//   node bench/traceroute.mjs [rounds]
import { chain } from './lab.mjs';
import { have, median, requireBuilt, root, row, timed } from './common.mjs';

requireBuilt();
if (process.getuid() !== 0) {
  console.error('bench: needs root to build network namespaces');
  process.exit(2);
}
if (!have('traceroute')) {
  console.error('bench: traceroute is not installed (apt-get install traceroute)');
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 1);
const sockit = [process.execPath, `${root}bin/sockit`, 'traceroute'];

function hops(out) {
  return out
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) =>
      l
        .trim()
        .split(/\s+/)
        .filter((w) => /^[\d.]+$/.test(w) && w.includes('.') && w.split('.').length === 4),
    );
}

function run(lab, argv) {
  const r = timed(['ip', 'netns', 'exec', lab.src, ...argv, '-n', lab.dst4]);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}):\n${r.stdout}${r.stderr}`);
  return r;
}

function compare(label, lab) {
  const ours = [];
  const theirs = [];
  for (let i = 0; i < rounds; i++) {
    // alternate who goes first
    const a = i % 2 ? run(lab, ['traceroute']) : run(lab, sockit);
    const b = i % 2 ? run(lab, sockit) : run(lab, ['traceroute']);
    const [o, t] = i % 2 ? [b, a] : [a, b];
    if (JSON.stringify(hops(o.stdout)) !== JSON.stringify(hops(t.stdout))) {
      throw new Error(`hop lists differ:\n${o.stdout}\n${t.stdout}`);
    }
    ours.push(o.ms);
    theirs.push(t.ms);
  }
  row(label, median(ours), median(theirs), 'ms', false);
}

const lab = chain(4, 'trbench');
try {
  // warm up neighbour caches and the routers' first forwarding
  run(lab, sockit);
  compare('responsive 5 hops, -n', lab);
  for (const ns of [lab.routers[2], lab.routers[3], lab.dst]) lab.silent(ns);
  compare('silent last 2 routers + dst, -n', lab);
} finally {
  lab.close();
}
