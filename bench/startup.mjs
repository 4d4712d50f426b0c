// Start-up: what one sockit invocation costs next to `node -e 0` (the floor
// every Node program pays) and next to the anchor tool on the same input.
// Every command of the registry (dist/bundle/commands.json) gets its cheapest
// real run; a command this file does not know yet runs `--help`.
// Goals: `--version` <= 1.2x `node -e 0`; `ping -c 1 127.0.0.1` <= 1.5x.
//   node bench/startup.mjs [runs]        (median of runs, default 21)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { have, median, root, timed } from './common.mjs';

const runs = Number(process.argv[2] ?? 21);
const names = JSON.parse(readFileSync(join(root, 'dist', 'bundle', 'commands.json'), 'utf8'));
const commands = [...new Set(Object.values(names))];

// NODE_EXTRA_CA_CERTS makes every Node start parse a CA bundle (about 40 ms
// here) before any code runs; users do not have it set
const env = { ...process.env, NO_COLOR: '1' };
const unset = 'NODE_EXTRA_CA_CERTS' in env;
delete env.NODE_EXTRA_CA_CERTS;

const tmp = mkdtempSync(join(tmpdir(), 'sockit-startup-'));
// an empty capture: the pcap file header only (microseconds, Ethernet)
const pcap = join(tmp, 'empty.pcap');
const header = Buffer.alloc(24);
header.writeUInt32LE(0xa1b2c3d4, 0);
header.writeUInt16LE(2, 4);
header.writeUInt16LE(4, 6);
header.writeUInt32LE(262144, 16);
header.writeUInt32LE(1, 20);
writeFileSync(pcap, header);

/** An NTP server on loopback for sntp (the tests' responder), its port once it listens. */
async function ntpServer() {
  const child = spawn('python3', [join(root, 'test', 'fixtures', 'ntp-responder.py'), 'good', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return { child, port: /port (\d+)/.exec(line)[1] };
}
const ntp = have('python3') ? await ntpServer() : null;

/** The cheapest real run of each command, and the anchor's same run where there is one. */
const cheapest = {
  ping: { args: ['-c', '1', '127.0.0.1'], anchor: ['ping', '-c', '1', '127.0.0.1'] },
  traceroute: { args: ['-n', '-m', '1', '127.0.0.1'], anchor: ['traceroute', '-n', '-m', '1', '127.0.0.1'] },
  sockopt: { args: ['--tcp'] },
  sock: { args: ['-u', '-i', '-n', '1', '127.0.0.1', '9'] },
  connect: { args: ['127.0.0.1', '1'] },
  echo: { args: ['client', '-u', '127.0.0.1', '9'] },
  daytime: { args: ['client', '127.0.0.1', '1'] },
  dump: { args: ['-r', pcap], anchor: ['tcpdump', '-n', '-r', pcap] },
  ss: { args: ['-tln'], anchor: ['ss', '-tln'] },
  netstat: { args: ['-tn'], anchor: ['netstat', '-tn'] },
  ifaces: { args: [] },
  lookup: { args: ['localhost'], anchor: ['getent', 'ahosts', 'localhost'] },
  sntp: ntp ? { args: ['-p', ntp.port, '127.0.0.1'] } : { args: ['--help'] }, // ntpdig takes no port
  completion: { args: ['bash'] },
  links: { args: ['--help'] },
};

const sockit = [process.execPath, join(root, 'bin', 'sockit')];
const nodeE0 = [process.execPath, '-e', '0'];
const run = (argv) => timed(argv, { env, input: '' }).ms;

/**
 * Median ms of argv, and the median of its ratios to `node -e 0` run just
 * before each run: the machine's load drifts, each pair sees the same load.
 */
function time(argv) {
  const ms = [];
  const ratios = [];
  for (let i = 0; i < runs; i++) {
    const floor = run(nodeE0);
    ms.push(run(argv));
    ratios.push(ms.at(-1) / floor);
  }
  return { ms: median(ms), ratio: median(ratios) };
}

console.log(
  `startup: ${process.version}, median of ${runs} runs;` +
    (unset ? ' NODE_EXTRA_CA_CERTS unset for the runs (it makes every Node start parse a CA bundle; users do not have it set)' : ''),
);
const line = (label, t, extra = '') => console.log(`${label.padEnd(40)} ${t.ms.toFixed(1).padStart(6)} ms  ${t.ratio.toFixed(2)}x node -e 0${extra}`);
line('node -e 0', time(nodeE0));
const goals = { '--version': 1.2, 'ping -c 1 127.0.0.1': 1.5 };
const rows = [['--version', []], ['--help', []], ...commands.map((c) => [[c, ...(cheapest[c] ?? { args: ['--help'] }).args].join(' '), cheapest[c]?.anchor])];
let missed = 0;
for (const [label, anchor] of rows) {
  const t = time([...sockit, ...label.split(' ').filter(Boolean)]);
  let extra = '';
  if (anchor && have(anchor[0])) {
    const theirs = median(Array.from({ length: runs }, () => run(anchor)));
    extra += `   ${anchor[0]} ${theirs.toFixed(1)} ms (${(t.ms / theirs).toFixed(1)}x)`;
  }
  if (goals[label]) {
    const ok = t.ratio <= goals[label];
    if (!ok) missed++;
    extra += `   goal <= ${goals[label]}x: ${ok ? 'met' : 'missed'}`;
  }
  line(`sockit ${label.replace(tmp, '$TMP')}`, t, extra);
}
ntp?.child.kill();
rmSync(tmp, { recursive: true, force: true });
process.exitCode = missed ? 1 : 0;
