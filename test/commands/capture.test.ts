// sockit capture next to tcpdump on the same lab interface and the same
// traffic (ping, traceroute, TCP/UDP/DNS, VLAN frames, iperf3): the same
// lines, the same packets in the -w files, the same counters; -D, -c, -Q,
// a file read while it grows, and the unprivileged failure that writes nothing.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sockitBin, sockitIn } from '../helpers/cli.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';
import { makeCaptures, vlanFrames } from './dump-captures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<number | null>;
}

/** Start a capturing program in the lab and resolve once it says it is listening. */
async function started(lab: Lab, argv: string[], node = lab.src): Promise<Running> {
  const child = lab.spawn(node, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Running = { child, stdout: '', stderr: '', done: new Promise((resolve) => child.on('close', resolve)) };
  child.stdout!.setEncoding('latin1').on('data', (d: string) => (r.stdout += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${argv.join(' ')}: not listening: ${r.stderr}`)), 10_000);
    child.stderr!.setEncoding('latin1').on('data', (d: string) => {
      r.stderr += d;
      if (/listening on/.test(r.stderr)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('close', () => {
      clearTimeout(t);
      reject(new Error(`${argv.join(' ')} exited: ${r.stderr}`));
    });
  });
  return r;
}

async function interrupt(r: Running, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  r.child.kill(signal);
  return r.done;
}

const sockitArgv = (args: string[]) => [process.execPath, sockitBin, 'capture', ...args];
/** Lines without their timestamps (the first word). */
const masked = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => (/^\d/.test(l) ? l.slice(l.indexOf(' ') + 1) : l));

/**
 * The packets of -tt output (a line, with -x/-X its dump lines) stamped in
 * [from, until) seconds, timestamps masked: the captures start one after
 * another and an unsolicited MLD report may reach only the first. In
 * timestamp order: two packets handled at once on two CPUs reach two packet
 * sockets in either order (each CPU hands its packet to every socket in turn),
 * so arrival order is not the same for two capturers; the kernel's timestamps are.
 */
function windowed(out: string, from: number, until: number): string[] {
  const packets: { ts: number; text: string }[] = [];
  for (const l of out.split('\n').filter(Boolean)) {
    if (/^\d/.test(l)) packets.push({ ts: Number(l.slice(0, l.indexOf(' '))), text: l.slice(l.indexOf(' ') + 1) });
    else if (packets.length) packets[packets.length - 1]!.text += `\n${l}`;
  }
  return packets
    .filter((p) => p.ts >= from && p.ts < until)
    .sort((a, b) => a.ts - b.ts || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .map((p) => p.text);
}
/**
 * Packets (windowed's texts) by flow and direction, in their order within
 * each: two capture sockets see every packet, and the packets of one
 * direction of one flow in the same order, but not always the same
 * interleaving of packets that crossed within microseconds (two FINs
 * passing each other), each socket stamping its own copy.
 */
function byFlow(packets: string[]): [string, string[]][] {
  const flows = new Map<string, string[]>();
  for (const p of packets) {
    const first = p.split('\n', 1)[0]!;
    const at = first.indexOf(': ');
    const key = at < 0 ? first : first.slice(0, at);
    let f = flows.get(key);
    if (!f) flows.set(key, (f = []));
    f.push(p);
  }
  return [...flows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
const tcpdumpRead = (file: string, args: string[] = []) => spawnSync('tcpdump', ['-n', '-r', file, ...args], { encoding: 'latin1', maxBuffer: 64 << 20 });
const counters = (stderr: string) => stderr.split('\n').filter((l) => /^\d+ packets? (captured|received by filter|dropped by kernel)$/.test(l));
/** tcpdump's stderr with its own name where sockit's is. */
const asSockit = (stderr: string) => stderr.replace(/^tcpdump: /gm, 'sockit capture: ');

async function iperf3Traffic(lab: Lab): Promise<void> {
  const server = lab.spawn(lab.dst, ['iperf3', '-s', '-p', '5202'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await sleep(500);
  try {
    await lab.exec(lab.src, ['iperf3', '-c', lab.dst.v4, '-p', '5202', '-n', '200K', '-l', '8K'], { timeoutMs: 20_000 });
    await lab.exec(lab.src, ['iperf3', '-c', lab.dst.v4, '-p', '5202', '-u', '-b', '2M', '-l', '1000', '-t', '1'], { timeoutMs: 20_000 });
  } finally {
    server.kill('SIGKILL');
  }
}

describe.skipIf(!isRoot)(`sockit capture next to tcpdump (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 1, ipv6: true, name: 'cap' });
    dir = mkdtempSync(join(tmpdir(), 'sockit-capture-'));
    chmodSync(dir, 0o777); // tcpdump drops to its own user before it writes
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const iface of ['eth0', 'any']) {
    it(`prints the lines and writes the packets tcpdump does on ${iface} (ping, traceroute, TCP, UDP, DNS, VLAN, iperf3)`, async () => {
      const s = { pcap: join(dir, `s-${iface}.pcap`), ng: join(dir, `s-${iface}.pcapng`) };
      const t = join(dir, `t-${iface}.pcap`);
      const runs = [
        await started(lab, sockitArgv(['-i', iface, '-n', '-tt'])),
        // immediate mode makes libpcap use TPACKET_V2, a frame of snaplen bytes per packet:
        // a 64 MiB buffer (-B) keeps tcpdump from dropping iperf3's bursts
        await started(lab, ['tcpdump', '-i', iface, '-n', '-tt', '--immediate-mode', '-B', '65536']),
        await started(lab, sockitArgv(['-i', iface, '-w', s.pcap])),
        await started(lab, sockitArgv(['-i', iface, '-w', s.ng, '--format', 'pcapng', '--mechanism', 'recvmsg'])),
        await started(lab, ['tcpdump', '-i', iface, '--immediate-mode', '-B', '65536', '-U', '-w', t]),
      ];
      const from = Date.now() / 1000;
      const c = await makeCaptures(lab);
      rmSync(c.dir, { recursive: true, force: true });
      await iperf3Traffic(lab);
      const until = Date.now() / 1000;
      await sleep(1500);
      const codes = [];
      for (const r of runs) codes.push(await interrupt(r));
      expect(codes).toEqual([0, 0, 0, 0, 0]);
      const [sText, tText, sFile, sNg, tFile] = runs as [Running, Running, Running, Running, Running];

      // the lines, timestamps masked (neither side lost any)
      expect(counters(tText.stderr)[2]).toBe('0 packets dropped by kernel');
      expect(counters(tFile.stderr)[2]).toBe('0 packets dropped by kernel');
      for (const r of [sText, sFile, sNg]) expect(counters(r.stderr)[2], r.stderr).toBe('0 packets dropped by kernel');
      const lines = windowed(tText.stdout, from, until);
      expect(lines.length).toBeGreaterThan(100);
      expect(byFlow(windowed(sText.stdout, from, until))).toEqual(byFlow(lines));
      for (const want of [/ICMP echo request/, /time exceeded in-transit/, /Flags \[S\]/, /A\? host\.example\./, /UDP, length 1000/])
        expect(sText.stdout).toMatch(want);
      // the banner and the counters, in tcpdump's words
      const sLines = sText.stderr.split('\n'),
        tLines = asSockit(tText.stderr).split('\n');
      expect(sLines.slice(0, -4)).toEqual(tLines.slice(0, -4));
      // each side counts the lines it printed
      for (const r of [sText, tText]) expect(counters(r.stderr)[0]).toBe(`${r.stdout.split('\n').filter(Boolean).length} packets captured`);
      expect(counters(sText.stderr)).toHaveLength(3);
      expect(counters(sText.stderr)[2]).toBe('0 packets dropped by kernel');

      // the files: the same packets, read back by tcpdump (and tshark for pcapng)
      const want = tcpdumpRead(t, ['-tt', '-XX']);
      expect(want.status).toBe(0);
      const wanted = windowed(want.stdout, from, until);
      expect(wanted.length).toBe(lines.length);
      for (const f of [s.pcap, s.ng]) {
        const got = tcpdumpRead(f, ['-tt', '-XX']);
        expect(got.status, got.stderr).toBe(0);
        expect(byFlow(windowed(got.stdout, from, until))).toEqual(byFlow(wanted));
      }
      expect(asSockit(sFile.stderr).split('\n')[0]).toBe(asSockit(tFile.stderr).split('\n')[0]);
      // every packet of each file is counted as captured
      const inFile = (f: string) => tcpdumpRead(f).stdout.split('\n').filter(Boolean).length;
      for (const [r, f] of [
        [sFile, s.pcap],
        [sNg, s.ng],
        [tFile, t],
      ] as const)
        expect(counters(r.stderr)[0]).toBe(`${inFile(f)} packets captured`);
      const tshark = spawnSync('tshark', ['-r', s.ng, '-T', 'fields', '-e', 'frame.len'], { encoding: 'latin1', maxBuffer: 64 << 20 });
      expect(tshark.status, tshark.stderr).toBe(0);
      expect(tshark.stdout.split('\n').filter(Boolean).length).toBe(inFile(s.ng));
    }, 180_000);
  }

  it('puts back the VLAN tag the receiving side took off (PACKET_AUXDATA), as tcpdump does, ring and recvmsg', async () => {
    // a tagged frame arriving on r1's eth0 loses its tag to the skb's metadata before taps see it
    const r1 = lab.routers[0]!;
    const files = { ring: join(dir, 'vlan-ring.pcap'), recvmsg: join(dir, 'vlan-recvmsg.pcap'), tcpdump: join(dir, 'vlan-tcpdump.pcap') };
    const runs = [
      await started(lab, sockitArgv(['-i', 'eth0', '-e', '-n', 'vlan']), r1),
      await started(lab, ['tcpdump', '-i', 'eth0', '-e', '-n', '--immediate-mode', 'vlan'], r1),
      await started(lab, sockitArgv(['-i', 'eth0', '-w', files.ring, 'vlan']), r1),
      await started(lab, sockitArgv(['-i', 'eth0', '--mechanism', 'recvmsg', '-w', files.recvmsg, 'vlan']), r1),
      await started(lab, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-w', files.tcpdump, 'vlan'], r1),
    ];
    const mac = (await lab.exec(lab.src, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    for (const frame of vlanFrames(mac)) await lab.exec(lab.src, ['socat', '-u', '-', 'INTERFACE:eth0'], { input: Buffer.from(frame, 'hex') });
    await sleep(1200);
    for (const r of runs) expect(await interrupt(r)).toBe(0);
    const [s, t] = runs as [Running, Running];
    expect(masked(t.stdout)).toHaveLength(2);
    expect(t.stdout).toMatch(/vlan 20, p 3/);
    expect(masked(s.stdout)).toEqual(masked(t.stdout));
    const want = tcpdumpRead(files.tcpdump, ['-e', '-XX']).stdout;
    for (const f of [files.ring, files.recvmsg]) expect(masked(tcpdumpRead(f, ['-e', '-XX']).stdout)).toEqual(masked(want));
  });

  it("-c N: exactly N packets, then tcpdump's three lines (as tcpdump -c N)", async () => {
    const s = started(lab, sockitArgv(['-i', 'eth0', '-n', '-c', '3', 'icmp']));
    const t = started(lab, ['tcpdump', '-i', 'eth0', '-n', '-c', '3', '--immediate-mode', 'icmp']);
    const [sr, tr] = await Promise.all([s, t]);
    await lab.exec(lab.src, ['ping', '-c', '3', '-i', '0.2', lab.dst.v4]);
    const [sc, tc] = await Promise.all([sr.done, tr.done]);
    expect([sc, tc]).toEqual([0, 0]);
    expect(masked(sr.stdout)).toHaveLength(3);
    expect(masked(sr.stdout)).toEqual(masked(tr.stdout));
    expect(counters(sr.stderr)[0]).toBe('3 packets captured');
    expect(sr.stderr.split('\n').slice(0, 2)).toEqual(asSockit(tr.stderr).split('\n').slice(0, 2));
  });

  for (const format of ['pcap', 'pcapng'])
    it(`-c 2 -w - (${format}): exactly two packets as a ${format} stream on standard output, as tcpdump -c 2 -w - writes`, async () => {
      const s = started(lab, sockitArgv(['-i', 'eth0', '-c', '2', '--format', format, '-w', '-', 'icmp']));
      const t = started(lab, ['tcpdump', '-i', 'eth0', '-c', '2', '--immediate-mode', '-w', '-', 'icmp']);
      const [sr, tr] = await Promise.all([s, t]);
      await lab.exec(lab.src, ['ping', '-c', '2', '-i', '0.2', lab.dst.v4]);
      expect(await Promise.all([sr.done, tr.done])).toEqual([0, 0]);
      const files = [join(dir, `stdout.${format}`), join(dir, 'stdout-tcpdump.pcap')];
      writeFileSync(files[0]!, Buffer.from(sr.stdout, 'latin1'));
      writeFileSync(files[1]!, Buffer.from(tr.stdout, 'latin1'));
      const [got, want] = files.map((f) => tcpdumpRead(f, ['-XX']));
      expect(got!.status, got!.stderr).toBe(0);
      expect(masked(got!.stdout).filter((l) => /^IP /.test(l))).toHaveLength(2);
      expect(masked(got!.stdout)).toEqual(masked(want!.stdout));
      expect(counters(sr.stderr)[0]).toBe('2 packets captured');
    });

  for (const dir_ of ['in', 'out']) {
    it(`-Q ${dir_} keeps the packets tcpdump -Q ${dir_} keeps`, async () => {
      const sr = await started(lab, sockitArgv(['-i', 'eth0', '-n', '-Q', dir_, 'icmp']));
      const tr = await started(lab, ['tcpdump', '-i', 'eth0', '-n', '-Q', dir_, '--immediate-mode', 'icmp']);
      await lab.exec(lab.src, ['ping', '-c', '2', '-i', '0.2', lab.dst.v4]);
      await sleep(1200);
      await Promise.all([interrupt(sr, 'SIGTERM'), interrupt(tr, 'SIGTERM')]);
      expect(masked(sr.stdout)).toHaveLength(2);
      expect(masked(sr.stdout)).toEqual(masked(tr.stdout));
      expect(sr.stdout).toMatch(dir_ === 'in' ? /echo reply/ : /echo request/);
    });
  }

  it('-w: a reader of the growing file sees whole records while the capture runs', async () => {
    const f = join(dir, 'growing.pcap');
    const r = await started(lab, sockitArgv(['-i', 'eth0', '-w', f, 'icmp']));
    await lab.exec(lab.src, ['ping', '-c', '3', '-i', '0.2', lab.dst.v4]);
    await sleep(300);
    const during = tcpdumpRead(f);
    expect(during.status, during.stderr).toBe(0);
    expect(during.stderr).not.toMatch(/truncated/);
    expect(during.stdout.split('\n').filter(Boolean)).toHaveLength(6);
    expect(await interrupt(r)).toBe(0);
    expect(tcpdumpRead(f).stdout).toBe(during.stdout);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    for (const mechanism of ['ring', 'recvmsg']) {
      it(`${signal} right after the traffic (${mechanism}): what the kernel still held is in the file, the counters add up, exit as tcpdump's`, async () => {
        const f = join(dir, `${signal}-${mechanism}.pcap`),
          t = join(dir, `${signal}-${mechanism}-tcpdump.pcap`);
        const r = await started(lab, sockitArgv(['-i', 'eth0', '--mechanism', mechanism, '-w', f, 'icmp']));
        const tr = await started(lab, ['tcpdump', '-i', 'eth0', '--immediate-mode', '-U', '-w', t, 'icmp']);
        await lab.exec(lab.src, ['ping', '-c', '3', '-i', '0.2', lab.dst.v4]);
        // well inside the ring's 50 ms block timeout: the last reply is still in a block the kernel owns
        const [code, tcode] = await Promise.all([interrupt(r, signal), interrupt(tr, signal)]);
        expect(code).toBe(tcode);
        expect(code).toBe(0);
        expect(tcpdumpRead(f).stdout.split('\n').filter(Boolean)).toHaveLength(6);
        // tcpdump may leave the last reply unread at the signal; what it wrote, sockit wrote
        const ours = masked(tcpdumpRead(f).stdout),
          theirs = masked(tcpdumpRead(t).stdout);
        expect(ours.slice(0, theirs.length)).toEqual(theirs);
        expect(counters(r.stderr)).toEqual(['6 packets captured', '6 packets received by filter', '0 packets dropped by kernel']);
      });
    }

  it("dump's printing options live (-e -x, -X -#, -q -A, -v, -S -XX) print what tcpdump prints with them", async () => {
    const sets = [['-e', '-x'], ['-X', '-#'], ['-q', '-A'], ['-v'], ['-S', '-XX']];
    const runs: [Running, Running][] = [];
    for (const opts of sets)
      runs.push([
        await started(lab, sockitArgv(['-i', 'eth0', '-n', '-t', ...opts, 'icmp or tcp port 40009'])),
        await started(lab, ['tcpdump', '-i', 'eth0', '-n', '-t', '--immediate-mode', ...opts, 'icmp or tcp port 40009']),
      ]);
    await lab.exec(lab.src, ['ping', '-c', '2', '-i', '0.2', lab.dst.v4]);
    // a SYN and its RST: TCP flags and sequence numbers (-S) on the wire too
    await lab.exec(lab.src, ['socat', '-u', 'OPEN:/dev/null', `TCP:${lab.dst.v4}:40009,connect-timeout=1`]);
    await sleep(300);
    for (const [i, [sr, tr]] of runs.entries()) {
      await Promise.all([interrupt(sr), interrupt(tr)]);
      expect(tr.stdout.length, sets[i]!.join(' ')).toBeGreaterThan(0);
      expect(sr.stdout, sets[i]!.join(' ')).toBe(tr.stdout);
    }
  });

  for (const mechanism of ['ring', 'recvmsg'])
    it(`under a flood with a small buffer (${mechanism}): captured + dropped = received by filter, and the file holds every packet captured`, async () => {
      const f = join(dir, `flood-${mechanism}.pcap`);
      const server = lab.spawn(lab.dst, ['iperf3', '-s', '-1', '-p', '5203']);
      await sleep(500);
      try {
        const r = await started(lab, sockitArgv(['-i', 'eth0', '-B', '64', '-s', '128', '--mechanism', mechanism, '-w', f, 'udp port 5203']));
        await lab.exec(lab.src, ['iperf3', '-c', lab.dst.v4, '-p', '5203', '-u', '-b', '400M', '-l', '64', '-t', '1'], { timeoutMs: 20_000 });
        // SIGINT reads what the kernel still holds (the ring's last block, the socket's queue) before the
        // counters are read: no packet is left between "received" and "captured or dropped"
        expect(await interrupt(r)).toBe(0);
        const [captured, received, dropped] = counters(r.stderr).map((l) => Number(l.split(' ')[0]));
        expect(received).toBeGreaterThan(1000);
        expect(captured! + dropped!).toBe(received);
        expect(tcpdumpRead(f).stdout.split('\n').filter(Boolean)).toHaveLength(captured!);
      } finally {
        server.kill('SIGKILL');
      }
    });

  it('-v says which mechanism reads the packets and where the filter runs', async () => {
    for (const [args, want] of [
      [[], /^sockit capture: reading with a TPACKET_V3 ring \(\d+ blocks of \d+ KiB\); the filter runs in the kernel$/m],
      [['--mechanism', 'recvmsg'], /^sockit capture: reading with recvmsg batches \(no TPACKET_V3 ring\); the filter runs in the kernel$/m],
      [['vlan'], /^sockit capture: reading with a TPACKET_V3 ring \(\d+ blocks of \d+ KiB\); the filter runs in the process$/m],
    ] as const) {
      const r = await started(lab, sockitArgv(['-i', 'eth0', '-v', '-w', join(dir, 'v.pcap'), ...args]));
      await sleep(100);
      expect(await interrupt(r)).toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(want);
      // tcpdump -v's banner: no "verbose output suppressed" line
      expect(r.stderr.split('\n')[0]).toMatch(/^sockit capture: listening on eth0, link-type EN10MB \(Ethernet\), snapshot length 262144 bytes$/);
    }
  });

  for (const iface of ['eth0', 'any'])
    it(`-s 64 on ${iface}: the banner, the file's snaplen and the cut packets tcpdump -s 64 writes`, async () => {
      const s = join(dir, `snap-${iface}.pcap`),
        t = join(dir, `snap-${iface}-tcpdump.pcap`);
      const runs = [
        await started(lab, sockitArgv(['-i', iface, '-s', '64', '-w', s, 'icmp'])),
        await started(lab, ['tcpdump', '-i', iface, '-s', '64', '--immediate-mode', '-U', '-w', t, 'icmp']),
      ];
      await lab.exec(lab.src, ['ping', '-c', '2', '-i', '0.2', '-s', '400', lab.dst.v4]);
      await sleep(300);
      for (const r of runs) expect(await interrupt(r)).toBe(0);
      const [sr, tr] = runs as [Running, Running];
      expect(sr.stderr.split('\n').slice(0, -4)).toEqual(asSockit(tr.stderr).split('\n').slice(0, -4));
      expect(sr.stderr).toMatch(/snapshot length 64 bytes/);
      const header = (f: string) => readFileSync(f).readUInt32LE(16);
      expect(header(s)).toBe(header(t));
      const got = masked(tcpdumpRead(s, ['-XX']).stdout),
        want = masked(tcpdumpRead(t, ['-XX']).stdout);
      expect(want.filter((l) => /^\S*\s*IP /.test(l) || / In | Out /.test(l))).toHaveLength(4);
      expect(got).toEqual(want);
      // what tcpdump -r says of the cut packets: caplen 64 of a longer packet
      const lens = (f: string) =>
        spawnSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len'], { encoding: 'latin1' }).stdout.split('\n').filter(Boolean);
      expect(lens(s)).toEqual(lens(t));
      expect(lens(s)[0]!.split('\t')[0]).toBe('64');
    });

  it('-p leaves the interface out of promiscuous mode, as tcpdump -p does; without it both turn it on', async () => {
    // PACKET_MR_PROMISC counts in the device's promiscuity, not in the IFF_PROMISC flag ip link shows
    const promisc = async () => Number(/promiscuity (\d+)/.exec((await lab.exec(lab.src, ['ip', '-d', '-o', 'link', 'show', 'eth0'])).stdout)?.[1]) > 0;
    expect(await promisc()).toBe(false);
    const seen: Record<string, boolean> = {};
    for (const [name, argv] of [
      ['sockit', sockitArgv(['-i', 'eth0', '-w', join(dir, 'p.pcap')])],
      ['sockit -p', sockitArgv(['-i', 'eth0', '-p', '-w', join(dir, 'p.pcap')])],
      ['tcpdump', ['tcpdump', '-i', 'eth0', '-w', join(dir, 'p-tcpdump.pcap')]],
      ['tcpdump -p', ['tcpdump', '-i', 'eth0', '-p', '-w', join(dir, 'p-tcpdump.pcap')]],
    ] as const) {
      const r = await started(lab, [...argv]);
      seen[name] = await promisc();
      expect(await interrupt(r)).toBe(0);
      expect(await promisc(), `${name} left it promiscuous`).toBe(false);
    }
    expect(seen).toEqual({ sockit: true, 'sockit -p': false, tcpdump: true, 'tcpdump -p': false });
  });

  it('-w to a full device: one line, exit 1', async () => {
    const r = await sockitIn(lab, lab.src, ['capture', '-i', 'eth0', '-w', '/dev/full']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sockit capture: /dev/full: No space left on device\n');
  });

  it('-D lists the devices tcpdump -D lists (without its non-network pseudo-devices)', async () => {
    const got = await sockitIn(lab, lab.src, ['capture', '-D']);
    const want = await lab.exec(lab.src, ['tcpdump', '-D']);
    const ours = got.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\d+\./, ''));
    const names = new Set(ours.map((l) => l.split(' ')[0]));
    const theirs = want.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\d+\./, ''))
      .filter((l) => names.has(l.split(' ')[0]!));
    expect(ours).toEqual(theirs);
    expect(ours).toEqual(
      expect.arrayContaining([
        'eth0 [Up, Running, Connected]',
        'any (Pseudo-device that captures on all interfaces) [Up, Running]',
        'lo [Up, Running, Loopback]',
      ]),
    );
    expect(got.stdout.split('\n')[0]).toMatch(/^1\./);
  });

  it("-d prints the program for the interface's link type, as tcpdump -d does", async () => {
    for (const [iface, e] of [
      ['eth0', 'icmp'],
      ['eth0', 'ip6'],
      ['any', 'ip'],
    ]) {
      const got = await sockitIn(lab, lab.src, ['capture', '-i', iface!, '-d', e!]);
      const want = await lab.exec(lab.src, ['tcpdump', '-i', iface!, '-d', e!]);
      expect(got.stdout, `${iface} ${e}`).toBe(want.stdout);
    }
  });

  it('as nobody: one line that says what to change, exit 2, and no file', async () => {
    const f = join(dir, 'nobody.pcap');
    const r = await sockitIn(lab, lab.src, ['capture', '-i', 'eth0', '-w', f], { user: 'nobody' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sockit capture: no permission: capturing packets (an AF_PACKET socket) needs CAP_NET_RAW; fix: run as root, or grant the capability: sudo setcap cap_net_raw+ep "$(command -v node)"\n',
    );
    expect(existsSync(f)).toBe(false);
  });

  it('bad input is one line and exit 2: an unknown interface, a bad expression, a bad -Q', async () => {
    for (const args of [
      ['-i', 'nosuch0'],
      ['-i', 'eth0', 'tcp', 'port'],
      ['-Q', 'sideways'],
      ['-i', 'eth0', '-s', 'x'],
    ]) {
      const r = await sockitIn(lab, lab.src, ['capture', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^sockit capture: [^\n]+\n$/);
    }
  });

  it('--json: a start record, packets, a summary with the counters', async () => {
    const run = lab.spawn(lab.src, sockitArgv(['-i', 'eth0', '--json', '-c', '2', 'icmp']), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const done = new Promise((resolve) => run.on('close', resolve));
    await sleep(700);
    await lab.exec(lab.src, ['ping', '-c', '1', lab.dst.v4]);
    expect(await done).toBe(0);
    const recs = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => r.type)).toEqual(['start', 'packet', 'packet', 'summary']);
    expect(recs[0]).toMatchObject({ interface: 'eth0', link_type: 1, link_type_name: 'EN10MB', snapshot_bytes: 262144, kernel_filter: true });
    expect(recs[3]).toMatchObject({ exit_code: 0, captured: 2, dropped_by_kernel: 0 });
  });
});
