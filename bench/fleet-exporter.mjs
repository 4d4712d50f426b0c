#!/usr/bin/env node
// sockit exporter probing N continuous targets (default 1,000) every second,
// in a namespace lab: its CPU % and RSS over a window, then next to
// prometheus-smokeping-prober's on the same (fewer, default 200) targets, and
// the round trips it reports (each target's histogram _sum/_count) against
// iputils ping's for a sample of the same targets, pinged while the exporter
// runs. The goal: the medians within 50 µs. The targets are 2001:db8:ff::/112 addresses the
// destination answers for through one local route (AnyIP).
//
//   node bench/fleet-exporter.mjs [targets] [seconds] [anchor-targets]   (root; build first)
//
// bench/fleet.mjs (the fping bench) calls run() below. NODE_EXTRA_CA_CERTS
// is unset for every child: users do not have it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chain } from './lab.mjs';
import { have, median, requireBuilt, root, row } from './common.mjs';

const env = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;
const CLK_TCK = 100;
const PAGE = 4096;
const PORT = 9117;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const target = (i) => `2001:db8:ff::${(i + 1).toString(16)}`;

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
function rssBytes(pid) {
  return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
}

/** Per target, the mean RTT (s) its histogram reports. */
function meansFrom(text) {
  const sum = new Map();
  const count = new Map();
  for (const line of text.split('\n')) {
    const m = /^smokeping_response_duration_seconds_(sum|count)\{.*ip="([^"]+)".*\} (\S+)$/.exec(line);
    if (m) (m[1] === 'sum' ? sum : count).set(m[2], Number(m[3]));
  }
  const out = new Map();
  for (const [ip, n] of count) if (n > 0) out.set(ip, sum.get(ip) / n);
  return out;
}

function curlIn(ns, url) {
  return spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', url], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
}

/** Start a prober in the source namespace, let it settle, then measure CPU and RSS over the window; the means it reports at the end. */
async function measure(lab, argv, url, seconds, during = () => Promise.resolve([])) {
  const child = spawn('ip', ['netns', 'exec', lab.src, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4096)));
  try {
    // up once it serves /metrics (smokeping_prober starts its pingers one by one first)
    let up = false;
    for (let i = 0; i < 120 && !up && child.exitCode === null; i++) {
      await sleep(500);
      up = curlIn(lab.src, url).includes('# TYPE');
    }
    if (!up) throw new Error(`${argv[0]} did not start:\n${log.split('\n').slice(-5).join('\n')}`);
    // `ip netns exec` execs the program: the same pid
    const pid = child.pid;
    await sleep(3000); // let it settle into its schedule
    const t0 = cpuTicks(pid);
    const w0 = performance.now();
    const rss = [];
    const side = during();
    for (let s = 0; s < seconds; s++) {
      await sleep(1000);
      rss.push(rssBytes(pid));
    }
    const cpuPct = ((cpuTicks(pid) - t0) / CLK_TCK / ((performance.now() - w0) / 1000)) * 100;
    const means = meansFrom(curlIn(lab.src, url));
    return { cpuPct, rss: median(rss), rssMax: Math.max(...rss), means, side: await side };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await sleep(300);
  }
}

/** iputils ping's mean RTT (s) for each of `hosts`, pinged once a second for `seconds`. */
function pingMeans(lab, hosts, seconds) {
  return Promise.all(
    hosts.map(
      (h) =>
        new Promise((resolve) => {
          const p = spawn('ip', ['netns', 'exec', lab.src, 'ping', '-6', '-n', '-q', '-c', String(Math.max(3, seconds - 2)), '-i', '1', h], { env });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.on('close', () => {
            const m = /= [\d.]+\/([\d.]+)\//.exec(out);
            resolve(m ? Number(m[1]) / 1000 : NaN);
          });
        }),
    ),
  );
}

export async function run({ targets = 1000, seconds = 15, sample = 20, anchorTargets = 200 } = {}) {
  requireBuilt();
  if (process.getuid() !== 0) throw new Error('bench: needs root (namespaces)');
  if (!have('ping') || !have('curl')) throw new Error('bench: needs ping (iputils) and curl');
  const lab = chain(0, 'exporter');
  const dir = mkdtempSync(join(tmpdir(), 'sockit-bench-exporter-'));
  try {
    spawnSync('ip', ['-n', lab.dst, 'route', 'add', 'local', '2001:db8:ff::/112', 'dev', 'lo']);
    spawnSync('ip', ['-n', lab.src, 'route', 'add', '2001:db8:ff::/112', 'via', lab.dst6]);
    const hosts = Array.from({ length: targets }, (_, i) => target(i));
    const yml = `targets:\n  - hosts: [${hosts.join(', ')}]\n    interval: 1s\n`;
    writeFileSync(join(dir, 'exporter.yml'), yml);
    const picks = Array.from({ length: sample }, (_, i) => hosts[Math.floor((i * targets) / sample)]);
    const ours = await measure(
      lab,
      [process.execPath, join(root, 'bin/sockit'), 'exporter', '--config.file', join(dir, 'exporter.yml'), '--listen', `127.0.0.1:${PORT}`],
      `http://127.0.0.1:${PORT}/metrics`,
      seconds,
      () => pingMeans(lab, picks, seconds),
    );
    const pingAvg = ours.side.filter((x) => Number.isFinite(x));
    const sampled = picks.map((h) => ours.means.get(h)).filter((x) => x !== undefined);
    const rttUs = median(sampled) * 1e6;
    const pingUs = median(pingAvg) * 1e6;
    console.log(`sockit exporter, ${targets} continuous targets every 1 s, ${seconds} s window (NODE_EXTRA_CA_CERTS unset for the children)`);
    console.log(`  targets answering            ${ours.means.size} of ${targets}`);
    console.log(`  CPU                          ${ours.cpuPct.toFixed(1)} % of one core`);
    console.log(`  RSS                          ${(ours.rss / 2 ** 20).toFixed(1)} MiB median, ${(ours.rssMax / 2 ** 20).toFixed(1)} MiB max`);
    let anchor = null;
    if (have('prometheus-smokeping-prober') && anchorTargets > 0) {
      // smokeping_prober 0.6.1 opens a raw socket per target, and each gets every reply:
      // at 1,000 targets its start alone takes minutes here, so the side by side is smaller
      const few = hosts.slice(0, anchorTargets);
      const fewYml = `targets:\n  - hosts: [${few.join(', ')}]\n    interval: 1s\n`;
      writeFileSync(join(dir, 'few.yml'), fewYml);
      const mine = await measure(
        lab,
        [process.execPath, join(root, 'bin/sockit'), 'exporter', '--config.file', join(dir, 'few.yml'), '--listen', `127.0.0.1:${PORT}`],
        `http://127.0.0.1:${PORT}/metrics`,
        seconds,
      );
      const theirs = await measure(
        lab,
        ['prometheus-smokeping-prober', '--config.file', join(dir, 'few.yml'), '--privileged', '--web.listen-address', `127.0.0.1:${PORT + 1}`],
        `http://127.0.0.1:${PORT + 1}/metrics`,
        seconds,
      );
      console.log(
        `side by side with prometheus-smokeping-prober, ${anchorTargets} targets (answering: sockit ${mine.means.size}, smokeping_prober ${theirs.means.size})`,
      );
      row('CPU (% of one core)', mine.cpuPct, theirs.cpuPct, '%', false);
      row('RSS (median, MiB)', mine.rss / 2 ** 20, theirs.rss / 2 ** 20, 'MiB', false);
      row('RTT, median of the means', median([...mine.means.values()]) * 1e6, median([...theirs.means.values()]) * 1e6, 'µs', false);
      anchor = { targets: anchorTargets, cpuPct: theirs.cpuPct, rssBytes: theirs.rss, sockitCpuPct: mine.cpuPct, sockitRssBytes: mine.rss };
    } else {
      console.log('  (prometheus-smokeping-prober not installed: no side by side for CPU and RSS)');
    }
    console.log(
      `  RTT, ${sample} sampled targets      sockit ${rttUs.toFixed(1)} µs, iputils ping ${pingUs.toFixed(1)} µs (median of per-target means): ` +
        `difference ${(rttUs - pingUs).toFixed(1)} µs (goal: within 50 µs) ${Math.abs(rttUs - pingUs) <= 50 ? 'met' : 'NOT met'}`,
    );
    return { cpuPct: ours.cpuPct, rssBytes: ours.rss, rttUs, pingRttUs: pingUs, answering: ours.means.size, anchor };
  } finally {
    lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [n, s, a] = process.argv.slice(2).map(Number);
  run({ targets: n || 1000, seconds: s || 15, anchorTargets: Number.isFinite(a) ? a : 200 }).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
