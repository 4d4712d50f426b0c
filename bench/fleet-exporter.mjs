#!/usr/bin/env node
// sockit exporter probing N continuous targets (default 1,000) every second,
// in a namespace lab: its CPU % and RSS over a window, and the round trips it
// reports (each target's histogram _sum/_count) against iputils ping's for a
// sample of the same targets, pinged while the exporter runs. The goal: the
// medians within 50 µs. The targets are 2001:db8:ff::/112 addresses the
// destination answers for through one local route (AnyIP).
//
//   node bench/fleet-exporter.mjs [targets] [seconds]      (root; build first)
//
// bench/fleet.mjs (the fping bench) calls run() below. NODE_EXTRA_CA_CERTS
// is unset for every child: users do not have it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chain } from './lab.mjs';
import { have, median, requireBuilt, root } from './common.mjs';

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

export async function run({ targets = 1000, seconds = 15, sample = 20 } = {}) {
  requireBuilt();
  if (process.getuid() !== 0) throw new Error('bench: needs root (namespaces)');
  if (!have('ping') || !have('curl')) throw new Error('bench: needs ping (iputils) and curl');
  const lab = chain(0, 'exporter');
  const dir = mkdtempSync(join(tmpdir(), 'sockit-bench-exporter-'));
  let exporter;
  try {
    spawnSync('ip', ['-n', lab.dst, 'route', 'add', 'local', '2001:db8:ff::/112', 'dev', 'lo']);
    spawnSync('ip', ['-n', lab.src, 'route', 'add', '2001:db8:ff::/112', 'via', lab.dst6]);
    const hosts = Array.from({ length: targets }, (_, i) => target(i));
    writeFileSync(join(dir, 'exporter.yml'), `targets:\n  - hosts: [${hosts.join(', ')}]\n    interval: 1s\n`);
    exporter = spawn('ip', ['netns', 'exec', lab.src, process.execPath, join(root, 'bin/sockit'), 'exporter', '--config.file', join(dir, 'exporter.yml'),
      '--listen', `127.0.0.1:${PORT}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    exporter.stderr.on('data', (d) => (log += d));
    for (let i = 0; i < 100 && !/Listening on/.test(log); i++) await sleep(100);
    if (!/Listening on/.test(log)) throw new Error(`exporter did not start:\n${log}`);
    // the node process is the child of `ip netns exec` (which execs: same pid)
    const pid = exporter.pid;
    await sleep(3000); // let the fleet settle into its schedule
    const t0 = cpuTicks(pid);
    const w0 = performance.now();
    const rss = [];
    // iputils ping on a sample of the same targets, in the same window
    const picks = Array.from({ length: sample }, (_, i) => hosts[Math.floor((i * targets) / sample)]);
    const pings = picks.map((h) => new Promise((resolve) => {
      const p = spawn('ip', ['netns', 'exec', lab.src, 'ping', '-6', '-n', '-q', '-c', String(Math.max(3, seconds - 2)), '-i', '1', h], { env });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', () => {
        const m = /= [\d.]+\/([\d.]+)\//.exec(out);
        resolve(m ? Number(m[1]) / 1000 : NaN);
      });
    }));
    for (let s = 0; s < seconds; s++) {
      await sleep(1000);
      rss.push(rssBytes(pid));
    }
    const cpuPct = ((cpuTicks(pid) - t0) / CLK_TCK / ((performance.now() - w0) / 1000)) * 100;
    const pingAvg = (await Promise.all(pings)).filter((x) => Number.isFinite(x));
    const means = meansFrom(curlIn(lab.src, `http://127.0.0.1:${PORT}/metrics`));
    const sampled = picks.map((h) => means.get(h)).filter((x) => x !== undefined);
    const all = [...means.values()];
    const ours = median(sampled) * 1e6;
    const theirs = median(pingAvg) * 1e6;
    console.log(`sockit exporter, ${targets} continuous targets every 1 s, ${seconds} s window (NODE_EXTRA_CA_CERTS unset for the children)`);
    console.log(`  targets answering            ${means.size} of ${targets}`);
    console.log(`  CPU                          ${cpuPct.toFixed(1)} % of one core`);
    console.log(`  RSS                          ${(median(rss) / 2 ** 20).toFixed(1)} MiB median, ${(Math.max(...rss) / 2 ** 20).toFixed(1)} MiB max`);
    console.log(`  RTT, all targets             median of means ${(median(all) * 1e6).toFixed(1)} µs`);
    console.log(`  RTT, ${sample} sampled targets      sockit ${ours.toFixed(1)} µs, iputils ping ${theirs.toFixed(1)} µs (median of per-target means): ` +
      `difference ${(ours - theirs).toFixed(1)} µs (goal: within 50 µs) ${Math.abs(ours - theirs) <= 50 ? 'met' : 'NOT met'}`);
    return { cpuPct, rssBytes: median(rss), rttUs: ours, pingRttUs: theirs, answering: means.size };
  } finally {
    if (exporter && exporter.exitCode === null) exporter.kill('SIGTERM');
    await sleep(200);
    lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [n, s] = process.argv.slice(2).map(Number);
  run({ targets: n || 1000, seconds: s || 15 }).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
