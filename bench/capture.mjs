// sockit capture -w next to tcpdump -w on a veth pair carrying an iperf3 UDP
// stream at increasing rates (needs root): for each rate and each capturer
// (alone, each with its own iperf3 run), the packets iperf3 sent, the
// capturer's three counters and its CPU time (all its threads, from
// /proc/PID/task/*/schedstat, just before SIGINT); then the highest rate
// step each captured without loss (and every step below it), their ratio (goal >= 1.0), and CPU
// seconds per million packets (a mean, and the slope over the runs).
// The sender (iperf3 on the same machine) has a ceiling: when neither side
// drops at the highest rate it reaches, the ratio says nothing; a smaller
// kernel buffer for both makes the capturer's own speed and wake-up latency
// the limit, so without a buffer argument such a table is followed by a
// second one at -B 256 -s 128. When tcpdump loses from the first step and sockit
// is lossless at one, sockit is ahead (the goal is met, with no ratio).
//   node bench/capture.mjs [seconds-per-run] [max-kpps] [buffer-KiB] [snaplen]     (default 1, 800, 2048, 262144)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chain } from './lab.mjs';
import { have, requireBuilt, root } from './common.mjs';

requireBuilt();
if (process.getuid() !== 0) {
  console.error('bench: needs root to build network namespaces');
  process.exit(2);
}
for (const t of ['tcpdump', 'iperf3'])
  if (!have(t)) {
    console.error(`bench: ${t} is not installed`);
    process.exit(2);
  }

const seconds = Number(process.argv[2] ?? 1);
const maxKpps = Number(process.argv[3] ?? 800);
let bufferKiB = String(Number(process.argv[4] ?? 2048));
// -s for both: a ring block holds one whole frame of snaplen bytes, so with the default snaplen
// sockit's ring is at least 2 blocks of 128 KiB whatever -B says; -s 128 lets -B 128 be 128 KiB
let snapArgs = process.argv[5] ? ['-s', String(Number(process.argv[5]))] : [];
const PAYLOAD = 64; // bytes of UDP payload: the packet rate, not the bit rate, is what a capturer pays for
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // users don't have it; it costs every Node start ~40 ms
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'sockit-capbench-'));
spawnSync('chmod', ['777', dir]);
const lab = chain(0, 'capbench');

const capturers = {
  'sockit (ring)': (f) => [process.execPath, `${root}bin/sockit`, 'capture', '-i', 'eth0', '-B', bufferKiB, ...snapArgs, '-w', f, 'udp port 5201'],
  'sockit (recvmsg)': (f) => [
    process.execPath,
    `${root}bin/sockit`,
    'capture',
    '-i',
    'eth0',
    '-B',
    bufferKiB,
    ...snapArgs,
    '--mechanism',
    'recvmsg',
    '-w',
    f,
    'udp port 5201',
  ],
  tcpdump: (f) => ['tcpdump', '-i', 'eth0', '-B', bufferKiB, ...snapArgs, '-w', f, 'udp port 5201'],
};

/**
 * CPU time of every thread of the process (Node's JIT and GC threads too), in
 * seconds: the on-CPU nanoseconds of /proc/PID/task/TID/schedstat (exact, not
 * the 10 ms ticks of /proc/PID/stat), the ticks where schedstat is missing.
 */
function cpuSeconds(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e9;
  } catch {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
    } catch {
      return NaN;
    }
  }
}

async function once(name, kpps) {
  const file = join(dir, `${name.replace(/\W/g, '')}.pcap`);
  const child = spawn('ip', ['netns', 'exec', lab.src, ...capturers[name](file)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const listening = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      if (/listening on/.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`${name} exited: ${stderr}`)));
  });
  const done = new Promise((resolve) => child.on('close', resolve));
  await listening;
  const cpu0 = cpuSeconds(child.pid);
  const bps = kpps * 1000 * PAYLOAD * 8;
  const r = spawnSync('ip', ['netns', 'exec', lab.src, 'iperf3', '-c', lab.dst4, '-u', '-b', String(bps), '-l', String(PAYLOAD), '-t', String(seconds), '-J'], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`iperf3: ${r.stdout}${r.stderr}`);
  const sent = JSON.parse(r.stdout).end.sum.packets;
  // past tcpdump's 1 s buffer timeout: it writes only the ring blocks the kernel has handed over
  await sleep(1200);
  const cpu = cpuSeconds(child.pid) - cpu0;
  child.kill('SIGINT');
  await done;
  const n = (what) => Number(new RegExp(`^(\\d+) packets? ${what}$`, 'm').exec(stderr)?.[1] ?? NaN);
  return { sent, captured: n('captured'), received: n('received by filter'), dropped: n('dropped by kernel'), cpu };
}

async function ladder() {
  console.log(
    `sockit capture -w vs tcpdump -w: iperf3 UDP, ${PAYLOAD}-byte payloads, ${seconds} s per run, -B ${bufferKiB} KiB${snapArgs.length ? ` and -s ${snapArgs[1]}` : ''} for both, each capturer alone; NODE_EXTRA_CA_CERTS unset for the children`,
  );
  console.log(
    `${'target kpps'.padEnd(12)} ${'capturer'.padEnd(17)} ${'sent pps'.padStart(9)} ${'captured'.padStart(9)} ${'dropped'.padStart(8)} ${'lost'.padStart(7)} ${'lossless'.padEnd(8)} cpu s/Mpkt`,
  );
  // the highest step (target rate) each was lossless at with every step below it lossless too (a
  // step after a loss can be lossless only because the sender managed fewer packets there), and the
  // packets the sender managed there
  const lostOnce = Object.fromEntries(Object.keys(capturers).map((k) => [k, false]));
  const best = Object.fromEntries(Object.keys(capturers).map((k) => [k, 0]));
  const bestStep = Object.fromEntries(Object.keys(capturers).map((k) => [k, 0]));
  const points = Object.fromEntries(Object.keys(capturers).map((k) => [k, []]));
  const cpuPerM = Object.fromEntries(Object.keys(capturers).map((k) => [k, []]));
  const lostShare = Object.fromEntries(Object.keys(capturers).map((k) => [k, []]));
  for (let kpps = 25; kpps <= maxKpps; kpps *= 2) {
    for (const name of Object.keys(capturers)) {
      const r = await once(name, kpps);
      const lossless = r.dropped === 0 && r.captured >= r.sent;
      const sentPps = r.sent / seconds;
      if (!lossless) lostOnce[name] = true;
      if (lossless && !lostOnce[name] && kpps > bestStep[name]) {
        bestStep[name] = kpps;
        best[name] = sentPps;
      }
      if (r.captured > 0) cpuPerM[name].push((r.cpu / r.captured) * 1e6);
      points[name].push([r.captured, r.cpu]);
      const lost = Math.max(0, r.sent - r.captured) / r.sent;
      lostShare[name].push(lost);
      console.log(
        `${String(kpps).padEnd(12)} ${name.padEnd(17)} ${sentPps.toFixed(0).padStart(9)} ${String(r.captured).padStart(9)} ${String(r.dropped).padStart(8)} ${(100 * lost).toFixed(2).padStart(6)}% ${(lossless ? 'yes' : 'no').padEnd(8)} ${((r.cpu / r.captured) * 1e6).toFixed(2)}`,
      );
    }
  }
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  // CPU seconds against packets over every run: the slope is the cost per packet without the fixed
  // costs of a run (a Node process's JIT and GC threads just after start-up, the idle wake-ups)
  const slope = (ps) => {
    const mx = mean(ps.map((p) => p[0])),
      my = mean(ps.map((p) => p[1]));
    const sxx = ps.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    return sxx > 0 ? (ps.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx) * 1e6 : NaN;
  };
  console.log('');
  for (const name of Object.keys(capturers)) {
    console.log(
      `${name.padEnd(17)} highest lossless step ${String(bestStep[name]).padStart(4)} kpps (${best[name].toFixed(0).padStart(7)} pps sent), mean loss ${(100 * mean(lostShare[name])).toFixed(2)}%, CPU s per million packets: mean ${mean(cpuPerM[name]).toFixed(2)}, slope ${slope(points[name]).toFixed(2)}`,
    );
  }
  // the ratio is of the steps (the same target rates for all): what the sender managed at a step varies run to run
  for (const name of ['sockit (ring)', 'sockit (recvmsg)']) {
    const cpu = slope(points[name]) / slope(points.tcpdump);
    if (bestStep.tcpdump === 0) {
      // no ratio to take: tcpdump lost from the first step on; the goal (>= 1.0) is met when sockit has one
      console.log(
        bestStep[name] > 0
          ? `ratio ${name} / tcpdump: ahead (tcpdump lost packets from the first step, ${name} was lossless up to ${bestStep[name]} kpps; goal >= 1.0: met), ${cpu.toFixed(2)}x its CPU per packet (slopes)`
          : `ratio ${name} / tcpdump: n/a (both lost packets from the first step; mean loss ${(100 * mean(lostShare[name])).toFixed(2)}% against ${(100 * mean(lostShare.tcpdump)).toFixed(2)}%; try a larger buffer)`,
      );
      continue;
    }
    const ratio = bestStep[name] / bestStep.tcpdump;
    console.log(
      `ratio ${name} / tcpdump: ${ratio.toFixed(2)}x the highest lossless rate (goal >= 1.0: ${ratio >= 1 ? 'met' : 'not met'}), ${cpu.toFixed(2)}x its CPU per packet (slopes)`,
    );
  }
  const top = 25 * 2 ** Math.floor(Math.log2(maxKpps / 25));
  return Object.values(bestStep).every((b) => b === top);
}

const server = spawn('ip', ['netns', 'exec', lab.dst, 'iperf3', '-s'], { stdio: 'ignore' });
try {
  await sleep(500);
  // with the default buffer both may keep up with all the sender can do: the table then ends at the
  // sender's ceiling and says nothing of the capturers, so a second ladder with a small kernel buffer
  // (-B 256 -s 128 for both: sockit's ring is four blocks of 64 KiB) makes their own speed and wake-ups the limit
  if (await ladder()) {
    if (process.argv[4])
      console.log("(every capturer was lossless at the top step: the sender's ceiling, not the capturers', ends the table; try a smaller buffer)");
    else {
      console.log("\n(every capturer was lossless at the top step: the sender's ceiling ended the table; again with -B 256 -s 128)\n");
      bufferKiB = '256';
      snapArgs = ['-s', '128'];
      if (await ladder()) console.log("(every capturer was lossless at the top step again: the sender's ceiling ended the table)");
    }
  }
} finally {
  server.kill('SIGKILL');
  lab.close();
  rmSync(dir, { recursive: true, force: true });
}
