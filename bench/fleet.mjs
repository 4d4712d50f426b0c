// sockit fping next to fping 5.1, in one run (issue 17's speed goal):
//   `fping -c 3 -q` over 1,000 lab addresses      (goal: sockit wall <= 1.0x)
// in a two-namespace lab (src — dst), dst answering for 1,000 documentation
// addresses through local routes: 198.51.100.1-254, 203.0.113.1-254,
// 192.0.2.129-254 and 2001:db8:100::1-16e (so both families' sockets work).
// Both read the same -f file; both must report 3/3/0% for every target.
// The run is paced by fping's -i (10 ms between any two sends): 3,000 sends
// take 30 s whatever the tool, so the ratio says how closely each keeps the
// pace and what it adds (start-up, lookups, the end). NODE_EXTRA_CA_CERTS is
// unset for sockit's process (users do not have it; it costs ~40 ms a start).
// Then bench/fleet-exporter.mjs (the exporter's half), when it exists.
//   node bench/fleet.mjs [runs]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have, median, requireBuilt, root, row, timed } from './common.mjs';
import { chain } from './lab.mjs';

requireBuilt();
const RUNS = Number(process.argv[2] ?? 1);
if (process.getuid() !== 0) {
  console.error('bench: needs root (network namespaces)');
  process.exit(2);
}
if (!have('fping')) {
  console.error('bench: fping is not installed (apt-get install fping)');
  process.exit(2);
}

function sh(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/** 1,000 documentation addresses, both families. */
function targets() {
  const out = [];
  for (let i = 1; i <= 254; i++) out.push(`198.51.100.${i}`);
  for (let i = 1; i <= 254; i++) out.push(`203.0.113.${i}`);
  for (let i = 129; i <= 254; i++) out.push(`192.0.2.${i}`);
  for (let i = 1; out.length < 1000; i++) out.push(`2001:db8:100::${i.toString(16)}`);
  return out;
}

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
console.log('sockit fping vs fping 5.1, -c 3 -q over 1,000 lab addresses (root: raw sockets; NODE_EXTRA_CA_CERTS unset for sockit)');

const lab = chain(0, 'fleet');
const dir = mkdtempSync(join(tmpdir(), 'sockit-fleet-'));
try {
  for (const p of ['198.51.100.0/24', '203.0.113.0/24', '192.0.2.128/25']) sh(['ip', '-n', lab.dst, 'route', 'add', 'local', p, 'dev', 'lo']);
  sh(['ip', '-n', lab.dst, '-6', 'route', 'add', 'local', '2001:db8:100::/118', 'dev', 'lo']);
  const list = targets();
  const file = join(dir, 'targets');
  writeFileSync(file, list.join('\n') + '\n');

  const run = (argv, withEnv) => {
    const r = timed(['ip', 'netns', 'exec', lab.src, ...argv, '-c', '3', '-q', '-f', file], withEnv ? { env } : {});
    const ok = (r.stderr.match(/xmt\/rcv\/%loss = 3\/3\/0%/g) ?? []).length;
    if (ok !== list.length) throw new Error(`${argv[0]}: ${ok} of ${list.length} targets at 3/3/0% (exit ${r.code}):\n${r.stderr.slice(0, 2000)}`);
    return r.ms;
  };
  const ours = [];
  const theirs = [];
  for (let i = 0; i < RUNS; i++) {
    theirs.push(run(['fping']));
    ours.push(run([process.execPath, `${root}bin/sockit`, 'fping'], true));
  }
  row('fping -c 3 -q, 1,000 targets (wall)', median(ours), median(theirs), 'ms', false);
  console.log(`  (${RUNS} run${RUNS > 1 ? 's' : ''} each; the floor is 3,000 sends x 10 ms = 30,000 ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  lab.close();
}

const exporterBench = fileURLToPath(new URL('./fleet-exporter.mjs', import.meta.url));
if (existsSync(exporterBench)) {
  console.log('\nbench/fleet-exporter.mjs:');
  const r = spawnSync(process.execPath, [exporterBench], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
