// What --pcap costs, next to the anchor's way of recording the same thing
// (issue 15): a flood ping on loopback as root, the file written from a
// packet socket filtered to ping's flow,
//   sockit ping -f -q -c N --pcap F 127.0.0.1
// next to iputils ping -f -q -c N 127.0.0.1 with tcpdump -i lo -w F icmp
// running beside it (tcpdump started first, stopped after ping, its wall
// time not counted); then sockit without --pcap (the recorder's own share),
// and, in a namespace of its own as nobody (a ping socket), the rebuilt path
// with and without --pcap. Each file's packet count is checked (2N).
//   node bench/pcap.mjs [count]      (root; NODE_EXTRA_CA_CERTS unset for the runs)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have, median, requireBuilt, root, row, timed } from './common.mjs';

requireBuilt();
if (process.getuid() !== 0 || !have('tcpdump') || !have('ping')) {
  console.error('bench: needs root, tcpdump and iputils ping');
  process.exit(2);
}
const N = Number(process.argv[2] ?? 20000);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const tmp = mkdtempSync(join(tmpdir(), 'sockit-bench-pcap-'));
const sockit = [process.execPath, `${root}bin/sockit`, 'ping', '-f', '-q', '-c', String(N)];

/** packets in a file, as tcpdump counts them */
function count(file) {
  const r = spawnSync('tcpdump', ['-r', file, '-n', '-q'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return r.stdout.split('\n').filter(Boolean).length;
}

function run(argv, opts = {}) {
  const r = timed(argv, { env, ...opts });
  if (r.code !== 0 || !new RegExp(`${N} received`).test(r.stdout)) throw new Error(`run failed (${argv.join(' ')}):\n${r.stdout}${r.stderr}`);
  return r.ms;
}

/** iputils ping with tcpdump -w beside it: the ping's wall time, and the file's packets. */
async function anchor(file) {
  const td = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '-w', file, 'icmp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // tcpdump says "listening on" once its socket is open
  await new Promise((resolve) => td.stderr.on('data', (d) => /listening on/.test(String(d)) && resolve()));
  const ms = run(['ping', '-f', '-q', '-c', String(N), '127.0.0.1']);
  await new Promise((r) => setTimeout(r, 200));
  td.kill('SIGINT');
  await new Promise((r) => td.on('close', r));
  return ms;
}

const live = [],
  bare = [],
  tcpd = [];
let liveCount = 0,
  tcpdCount = 0;
for (let i = 0; i < 3; i++) {
  const f = join(tmp, `live${i}.pcapng`),
    g = join(tmp, `tcpdump${i}.pcap`);
  // alternate the order so neither side always runs on a warm cache
  if (i % 2) tcpd.push(await anchor(g));
  live.push(run([...sockit, '--pcap', f, '127.0.0.1']));
  if (!(i % 2)) tcpd.push(await anchor(g));
  bare.push(run([...sockit, '127.0.0.1']));
  liveCount = count(f);
  tcpdCount = count(g);
}
console.log(`--pcap on a flood ping of ${N} on loopback (root; median of 3; NODE_EXTRA_CA_CERTS unset for the runs)`);
row('ping -f --pcap vs ping -f + tcpdump -w', median(live), median(tcpd), 'ms', false);
console.log(`${''.padEnd(34)} packets in the files: sockit ${liveCount}, tcpdump ${tcpdCount} (${2 * N} sent and received)`);
row("recorder's share: with vs without", median(live), median(bare), 'ms', false);

// the rebuilt path: a namespace with loopback up and ping sockets open to every group, as nobody
if (have('unshare') && have('setpriv')) {
  const asNobody = (args) => [
    'unshare',
    '-n',
    'sh',
    '-c',
    `ip link set lo up && sysctl -qw net.ipv4.ping_group_range="0 2147483647" && exec setpriv --reuid=65534 --regid=65534 --clear-groups ${args.map((a) => `'${a}'`).join(' ')}`,
  ];
  const rebuilt = [],
    plain = [];
  let n = 0;
  for (let i = 0; i < 3; i++) {
    const f = join(tmp, `rebuilt${i}.pcapng`);
    spawnSync('chmod', ['777', tmp]);
    // unprivileged users wait 2 ms between probes: -i 0.002 instead of -f
    const args = [process.execPath, `${root}bin/sockit`, 'ping', '-q', '-i', '0.002', '-c', String(Math.min(N, 2000))];
    const r1 = timed(asNobody([...args, '--pcap', f, '127.0.0.1']), { env });
    const r2 = timed(asNobody([...args, '127.0.0.1']), { env });
    if (r1.code !== 0 || r2.code !== 0) throw new Error(`rebuilt run failed:\n${r1.stderr}${r2.stderr}`);
    rebuilt.push(r1.ms);
    plain.push(r2.ms);
    n = count(f);
  }
  console.log(`rebuilt (nobody, a ping socket, -i 0.002 -c ${Math.min(N, 2000)}): ${n} packets in the file`);
  row('rebuilt: with vs without --pcap', median(rebuilt), median(plain), 'ms', false);
}
rmSync(tmp, { recursive: true, force: true });
