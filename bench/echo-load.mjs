// Echo server under load: 1,000 concurrent TCP clients on loopback, each
// sending 100 request lines one at a time (send, wait for the echo, next),
// against `sockit echo server`, the reference C server in bench/echo-server.c
// (compiled here with cc) and socat (fork per connection, PIPE), one after
// the other in the same run, for a number of rounds in rotating order after a
// warm-up round that is not counted (the clients' own process compiles its hot
// code during the first load, and whichever server came first paid for it).
// Prints the medians of requests/s, p50/p99 latency, server CPU and peak RSS,
// and the median of each round's own ratios (the servers of a round run back
// to back, while the machine's load drifts between rounds).
//   node bench/echo-load.mjs [clients] [requests-per-client] [rounds] [--no-socat]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildC, have, requireBuilt, root, row } from './common.mjs';

requireBuilt();
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const CLIENTS = Number(args[0] ?? 1000);
const REQUESTS = Number(args[1] ?? 100);
const ROUNDS = Math.max(1, Number(args[2] ?? 3));
const withSocat = !process.argv.includes('--no-socat') && have('socat');
const HOST = '127.0.0.1';

// every client and server needs a descriptor: raise the soft limit by re-running under sh
if (!process.env.ECHO_LOAD_FDS) {
  const r = spawnSync('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ECHO_LOAD_FDS: '1' },
  });
  process.exit(r.status ?? 1);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitListening(port, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before listening`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: HOST }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('server did not listen');
}

/** RSS of a process and all its descendants, KiB (socat forks one process per client). */
function treeRssKiB(pid) {
  const kids = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(e));
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))[1]);
    } catch {
      /* gone */
    }
    stack.push(...(kids.get(p) ?? []));
  }
  return total;
}

/** user + system CPU of a process and its descendants so far, ms (/proc/PID/stat, clock ticks of 10 ms). */
function treeCpuMs(pid) {
  let total = 0;
  const stack = [pid];
  const seen = new Set();
  while (stack.length) {
    const p = stack.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      const st = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) * 10; // utime, stime (USER_HZ 100)
    } catch {
      /* gone */
    }
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const st = readFileSync(`/proc/${e}/stat`, 'utf8');
        if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === p) stack.push(Number(e));
      } catch {
        /* gone */
      }
    }
  }
  return total;
}

/** One client: connect, then REQUESTS request lines, each awaited; latencies (ns) pushed to `lat`. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

function converse(s, id, lat, requests) {
  return new Promise((resolve, reject) => {
    let i = 0;
    let buf = '';
    let line = '';
    let t0 = 0n;
    const send = () => {
      line = `request ${id} ${i} ${'x'.repeat(40)}\n`;
      t0 = process.hrtime.bigint();
      s.write(line);
    };
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      if (buf.length < line.length) return;
      if (buf !== line) return reject(new Error(`client ${id}: echo mismatch`));
      lat.push(Number(process.hrtime.bigint() - t0));
      buf = '';
      if (++i === requests) {
        s.end();
        return resolve();
      }
      send();
    });
    s.on('error', reject);
    send();
  });
}

async function load(argv, requests = REQUESTS) {
  const port = await freePort();
  const child = spawn(
    argv[0],
    argv.slice(1).map((a) => a.replace('PORT', String(port))),
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitListening(port, child);
  // the server's CPU from here on: the load's, not Node's start-up (which the C server has none of)
  const cpu0 = treeCpuMs(child.pid);
  let peak = treeRssKiB(child.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, treeRssKiB(child.pid))), 100);
  // connect everyone first, 100 at a time (the listen backlog is 511), then talk
  const socks = [];
  for (let i = 0; i < CLIENTS; i += 100) socks.push(...(await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) }, () => connect(port)))));
  const lat = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(socks.map((s, id) => converse(s, id, lat, requests)));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, treeRssKiB(child.pid));
  const cpuMs = treeCpuMs(child.pid) - cpu0;
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.kill('SIGTERM');
  const end = await exited;
  lat.sort((a, b) => a - b);
  return {
    rps: lat.length / secs,
    p50: lat[Math.floor(lat.length * 0.5)] / 1e6,
    p99: lat[Math.floor(lat.length * 0.99)] / 1e6,
    rssMiB: peak / 1024,
    cpuUsPerRequest: (cpuMs * 1000) / lat.length,
    end,
  };
}

if (!have('cc')) {
  console.error('bench: cc is needed for the reference server (apt-get install gcc)');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'sockit-echo-'));
const cbin = buildC('echo-server', dir);
if (!cbin) process.exit(2);

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
/** each measure's median over the rounds */
function medians(runs) {
  const m = {};
  for (const k of ['rps', 'p50', 'p99', 'rssMiB', 'cpuUsPerRequest']) m[k] = median(runs.map((r) => r[k]));
  m.end = runs.find((r) => r.end.code !== 0)?.end ?? runs[0].end;
  return m;
}

try {
  console.log(`echo server: ${CLIENTS} concurrent TCP clients x ${REQUESTS} request lines each, loopback; median of ${ROUNDS} rounds`);
  const servers = {
    ours: [process.execPath, join(root, 'bin', 'sockit'), 'echo', 'server', '-b', HOST, '-p', 'PORT'],
    ref: [cbin, HOST, 'PORT'],
    // the floor of a server on Node's streams: the same str_echo with nothing around it
    bare: [
      process.execPath,
      '-e',
      `require('node:net').createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(PORT, '${HOST}', 511); process.on('SIGTERM', () => process.exit(0))`,
    ],
  };
  await load(servers.ref, Math.ceil(REQUESTS / 5)); // warm-up, not counted
  const runs = { ours: [], ref: [], bare: [] };
  const names = Object.keys(servers);
  for (let r = 0; r < ROUNDS; r++) {
    // rotate who goes first, so no server always follows the same one
    for (let i = 0; i < names.length; i++) {
      const k = names[(r + i) % names.length];
      runs[k].push(await load(servers[k]));
    }
  }
  const ours = medians(runs.ours);
  const ref = medians(runs.ref);
  const bare = medians(runs.bare);
  if (ours.end.code !== 0) console.log(`note: sockit's server exited ${ours.end.code ?? ours.end.signal} on SIGTERM`);
  console.log('vs the reference C server (epoll, one thread):');
  row('requests/s', ours.rps, ref.rps, 'req/s', true);
  row('p50 latency', ours.p50, ref.p50, 'ms', false);
  row('p99 latency', ours.p99, ref.p99, 'ms', false);
  row('peak RSS', ours.rssMiB, ref.rssMiB, 'MiB', false);
  row('server CPU per request', ours.cpuUsPerRequest, ref.cpuUsPerRequest, 'us', false);
  console.log(
    `${''.padEnd(34)} (user+sys of the server process from /proc over the load, start-up excluded; the clients are one Node process on the same cores)`,
  );
  // The machine's load drifts from round to round (here one round's
  // requests/s ranged over 50-80 k for the same server), more than the
  // servers differ: within a round the servers run back to back, so the
  // median of the rounds' own ratios is the steadier comparison.
  const paired = (k, key) => median(runs.ours.map((o, i) => o[key] / runs[k][i][key]));
  console.log(`paired, the median of the ${ROUNDS} rounds' own ratios (each round runs the servers back to back):`);
  console.log(
    `${'requests/s'.padEnd(34)} ratio ${paired('ref', 'rps').toFixed(2)}x vs the C server, ${paired('bare', 'rps').toFixed(2)}x vs the bare Node server`,
  );
  console.log(
    `${'p99 latency'.padEnd(34)} ratio ${paired('ref', 'p99').toFixed(2)}x vs the C server, ${paired('bare', 'p99').toFixed(2)}x vs the bare Node server`,
  );
  console.log("vs a bare Node server (net.createServer((s) => s.pipe(s)): the floor on Node's streams):");
  row('requests/s', ours.rps, bare.rps, 'req/s', true);
  row('p99 latency', ours.p99, bare.p99, 'ms', false);
  row('server CPU per request', ours.cpuUsPerRequest, bare.cpuUsPerRequest, 'us', false);
  console.log('the bare Node server vs the reference C server:');
  row('requests/s', bare.rps, ref.rps, 'req/s', true);
  row('p99 latency', bare.p99, ref.p99, 'ms', false);
  row('server CPU per request', bare.cpuUsPerRequest, ref.cpuUsPerRequest, 'us', false);
  if (withSocat) {
    const soc = await load(['socat', `TCP-LISTEN:PORT,bind=${HOST},fork,reuseaddr,backlog=1024`, 'PIPE']);
    console.log('vs socat (a process per connection):');
    row('requests/s', ours.rps, soc.rps, 'req/s', true);
    row('p50 latency', ours.p50, soc.p50, 'ms', false);
    row('p99 latency', ours.p99, soc.p99, 'ms', false);
    row('peak RSS (all processes)', ours.rssMiB, soc.rssMiB, 'MiB', false);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
