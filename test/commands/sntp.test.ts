// sockit sntp against a real NTP server (chronyd in a lab namespace, with a
// config of its own, -x: it never touches the clock) beside ntpdig, and
// against a small faulty responder written in Python for the error lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sockit, sockitIn, startSockitIn, type Running } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';
import { ntpdigLine, ssntpText } from '../../src/commands/sntp.js';
import * as ntp from '../../src/stack/packet/ntp.js';
import type { SntpSample } from '../../src/stack/sntp.js';

const RESPONDER = fileURLToPath(new URL('../fixtures/ntp-responder.py', import.meta.url));
// ntpdig's report: "2026-12-01 23:22:48.332488 (+0000) -0.002170 +/- 0.002336 host s8 no-leap"
const NTPDIG_LINE =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \([+-]\d{4}\) ([+-]\d+\.\d{6}) \+\/- (\d+\.\d{6}) (.+) s(\d+) (no-leap|add-leap|del-leap|unsync)\n$/;

type Json = Record<string, unknown>;

const REPLY: ntp.NtpPacket = {
  leap: 0,
  version: 4,
  mode: ntp.MODE_SERVER,
  stratum: 2,
  poll: 6,
  precision: -23,
  rootDelay: 0,
  rootDispersion: 0,
  referenceId: 0xc0000201,
  referenceTime: 0n,
  originateTime: 1n,
  receiveTime: 1n,
  transmitTime: 1n,
};

// one NTPv3 broadcast-mode packet (stratum 3) to 224.0.1.1:123 out of the interface with address argv[1]
const MULTICAST_SENDER = `
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
now = int(time.time()) + 2208988800
s.sendto(struct.pack('!BBbb', (3 << 3) | 5, 3, 6, -20) + bytes(36) + struct.pack('!II', now, 0), ('224.0.1.1', 123))
`;
const lines = (stdout: string): Json[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);

/** The responder on loopback with one fault; resolves with its port. */
function responder(fault: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('python3', [RESPONDER, fault], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (d: string) => {
      const m = /port (\d+)/.exec(d);
      if (m) resolve({ port: Number(m[1]), child });
      else reject(new Error(`responder said ${d}`));
    });
    child.once('exit', (code) => reject(new Error(`responder exited ${code}`)));
  });
}

describe('the printed forms', () => {
  it("ssntp's line normalises the clock difference as the book does (seconds down, microseconds in [0, 1e6))", () => {
    const sent = 1_796_167_368_000_000_000n;
    const pkt = (mode: number) => ntp.encode({ ...REPLY, mode, version: 4, stratum: 8, transmitTime: ntp.fromUnixNs(sent) });
    expect(ssntpText(pkt(5), sent + 1_250_000n)).toBe('\nv4, mode 5, strat 8, clock difference = 0 sec, 1250 usec\n');
    expect(ssntpText(pkt(5), sent - 1_000_000n)).toBe('\nv4, mode 5, strat 8, clock difference = -1 sec, 999000 usec\n');
    expect(ssntpText(pkt(5), sent + 2_000_000_000n)).toBe('\nv4, mode 5, strat 8, clock difference = 2 sec, 0 usec\n');
    expect(ssntpText(pkt(3), sent)).toBe('\nv4, mode 3, strat 8, client\n');
    expect(ssntpText(Buffer.alloc(12), sent)).toBe('\npacket too small: 12 bytes\n');
  });

  it("the client's report is ntpdig's line: local time with microseconds, signed offset, error, host, address, stratum, leap", () => {
    const t3 = BigInt(Date.UTC(2026, 11, 1, 23, 22, 48)) * 1_000_000n + 58_608_000n;
    const s = { packet: { ...REPLY, stratum: 8, leap: 0 }, t3, offsetNs: -2_170_000, errorNs: 2_336_000 } as SntpSample;
    const line = ntpdigLine('ntp.example', '192.0.2.1', s);
    const d = new Date(Date.UTC(2026, 11, 1, 23, 22, 48));
    const tz = -d.getTimezoneOffset();
    const two = (n: number) => String(n).padStart(2, '0');
    const local = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
    const zone = `${tz < 0 ? '-' : '+'}${two(Math.floor(Math.abs(tz) / 60))}${two(Math.abs(tz) % 60)}`;
    expect(line).toBe(`${local}.058608 (${zone}) -0.002170 +/- 0.002336 ntp.example 192.0.2.1 s8 no-leap\n`);
    expect(ntpdigLine('192.0.2.1', '192.0.2.1', s)).toMatch(/ \+\/- 0\.002336 192\.0\.2\.1 s8 no-leap\n$/);
  });
});

describe('sockit sntp against a faulty responder (RFC 4330 section 5 checks)', () => {
  const cases: [string, string, RegExp][] = [
    ['kod:RATE', 'RATE', /^sockit sntp: 127\.0\.0\.1: kiss-o'-death RATE \(rate exceeded[^)]*\)\n$/],
    ['kod:DENY', 'DENY', /^sockit sntp: 127\.0\.0\.1: kiss-o'-death DENY \(access denied by remote server\)\n$/],
    [
      'origin',
      'ORIGINATE',
      /^sockit sntp: 127\.0\.0\.1: reply's originate timestamp [0-9a-f]{8}\.[0-9a-f]{8} does not echo our transmit timestamp [0-9a-f]{8}\.[0-9a-f]{8}\n$/,
    ],
    ['short', 'SHORT', /^sockit sntp: 127\.0\.0\.1: short reply: 20 bytes \(an NTP packet has 48\)\n$/],
    ['leap3', 'UNSYNCHRONIZED', /^sockit sntp: 127\.0\.0\.1: server clock not synchronized \(leap indicator 3\)\n$/],
    ['zero-xmt', 'TRANSMIT', /^sockit sntp: 127\.0\.0\.1: reply's transmit timestamp is zero\n$/],
    ['mode3', 'MODE', /^sockit sntp: 127\.0\.0\.1: reply in mode 3, not 4 \(server\)\n$/],
    ['v3', 'VERSION', /^sockit sntp: 127\.0\.0\.1: reply of version 3 to a version 4 request\n$/],
  ];
  for (const [fault, code, line] of cases) {
    it(`${fault}: one clear line, exit 1; --json an error record with code ${code}`, async () => {
      const { port, child } = await responder(fault);
      try {
        const r = await sockit(['sntp', '-t', '2', '-p', String(port), '127.0.0.1']);
        expect(r.stderr).toMatch(line);
        expect(r.stdout).toBe('');
        expect(r.code).toBe(1);
        const j = await sockit(['sntp', '--json', '-t', '2', '-p', String(port), '127.0.0.1']);
        expect(j.code).toBe(1);
        expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
        const recs = lines(j.stdout);
        expect(recs[1]).toMatchObject({ type: 'error', kind: 'ntp', code, seq: 1, from: { family: 4, address: '127.0.0.1', port } });
        expect(recs.at(-1)).toMatchObject({ type: 'summary', replies: 0, exit_code: 1 });
      } finally {
        child.kill();
      }
    });
  }

  it("a kiss-o'-death stops the samples (RFC 4330 section 8); a good reply prints the ntpdig line", async () => {
    const kod = await responder('kod:RATE');
    const good = await responder('good');
    try {
      const r = await sockit(['sntp', '--json', '-c', '3', '-p', String(kod.port), '127.0.0.1']);
      expect(lines(r.stdout).filter((x) => x.type === 'error')).toHaveLength(1);
      const g = await sockit(['sntp', '-c', '2', '-p', String(good.port), '127.0.0.1']);
      expect(g.code).toBe(0);
      const m = NTPDIG_LINE.exec(g.stdout);
      expect(m, g.stdout).not.toBeNull();
      expect(m!.slice(4)).toEqual(['127.0.0.1', '2', 'no-leap']);
    } finally {
      kod.child.kill();
      good.child.kill();
    }
  });

  it('nothing listening: the refusal is one line, exit 1; bad input exit 2', async () => {
    const { port, child } = await responder('good');
    child.kill();
    await new Promise((r) => child.once('exit', r));
    const r = await sockit(['sntp', '-t', '2', '-p', String(port), '127.0.0.1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sockit sntp: 127.0.0.1: Connection refused\n');
    for (const args of [[], ['-c', '0', 'h'], ['-t', 'x', 'h'], ['-4', '-6', 'h'], ['no-such-host.invalid']]) {
      const u = await sockit(['sntp', ...args]);
      expect(u.code, args.join(' ')).toBe(2);
      expect(u.stderr).toMatch(/^sockit sntp: [^\n]+\n$/);
    }
  });
});

describe.skipIf(!isRoot)(`sockit sntp against chronyd in a lab (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  let dir: string;
  let listener: Running | undefined;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'sntp' });
    dir = mkdtempSync(join(tmpdir(), 'sockit-chrony-'));
    // the link's broadcast address, for chronyd's broadcast mode
    for (const n of [lab.src, lab.dst]) await lab.exec(n, ['ip', 'addr', 'change', `${n.v4}/28`, 'brd', '+', 'dev', 'eth0']);
    writeFileSync(
      join(dir, 'chrony.conf'),
      [
        'allow all',
        'local stratum 8',
        `pidfile ${dir}/chronyd.pid`,
        `driftfile ${dir}/drift`,
        'cmdport 0',
        'bindcmdaddress /',
        'user root',
        'broadcast 1 192.0.2.15',
      ].join('\n') + '\n',
    );
    // -x: never touch the clock; -d: foreground, killed with the lab
    lab.spawn(lab.dst, ['chronyd', '-x', '-d', '-f', join(dir, 'chrony.conf')]);
    for (let i = 0; i < 100; i++) {
      const r = await sockitIn(lab, lab.src, ['sntp', '-t', '0.2', lab.dst.v4]);
      if (r.code === 0) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('chronyd did not answer');
  }, 60_000);
  afterAll(async () => {
    await listener?.stop();
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** ntpdig -d's four timestamps give its offset and delay: t21 = T2 - T1, t34 = T3 - T4. */
  async function ntpdig(args: string[]): Promise<{ line: string; offset: number; delay: number }> {
    const r = await lab.exec(lab.src, ['ntpdig', '-d', ...args]);
    expect(r.code, r.stderr).toBe(0);
    const m = /rec-org t21: (-?[\d.]+)\s+xmt-dst t34: (-?[\d.]+)/.exec(r.stdout)!;
    const [t21, t34] = [Number(m[1]), Number(m[2])];
    return { line: r.stdout.split('\n').find((l) => NTPDIG_LINE.test(`${l}\n`))!, offset: (t21 + t34) / 2, delay: t21 - t34 };
  }

  for (const family of [4, 6] as const) {
    it(`IPv${family}: the line ntpdig prints, with offset and delay within 1 ms of ntpdig's`, async () => {
      const server = family === 4 ? lab.dst.v4 : lab.dst.v6;
      // ntpdig's T1 and T4 are user-space clock reads: its best of three is its honest figure
      const runs = [await ntpdig([`-${family}`, server]), await ntpdig([`-${family}`, server]), await ntpdig([`-${family}`, server])];
      const theirs = runs.sort((a, b) => a.delay - b.delay)[0]!;
      const text = await sockitIn(lab, lab.src, ['sntp', `-${family}`, '-c', '3', server]);
      expect(text.code, text.stderr).toBe(0);
      const mine = NTPDIG_LINE.exec(text.stdout)!;
      const ref = NTPDIG_LINE.exec(`${theirs.line}\n`)!;
      expect(mine, text.stdout).not.toBeNull();
      // host, stratum and leap as ntpdig has them
      expect(mine.slice(4)).toEqual(ref.slice(4));
      const j = await sockitIn(lab, lab.src, ['sntp', '--json', `-${family}`, '-c', '3', server]);
      expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
      const sum = lines(j.stdout).at(-1)!;
      expect(sum).toMatchObject({ type: 'summary', stratum: 8, samples: 3, replies: 3, exit_code: 0 });
      // the two clients measure one after the other: on a loaded machine one of them can be
      // descheduled between its clock read and its send, so a pair that misses by more than
      // 1 ms is measured again (at most twice more) before the difference counts
      let [offset, delay] = [sum.offset_ms as number, sum.delay_ms as number];
      let best = theirs;
      for (let retry = 0; retry < 2 && (Math.abs(offset - best.offset * 1e3) >= 1 || Math.abs(delay - best.delay * 1e3) >= 1); retry++) {
        const again = [await ntpdig([`-${family}`, server]), await ntpdig([`-${family}`, server]), await ntpdig([`-${family}`, server])];
        best = again.sort((a, b) => a.delay - b.delay)[0]!;
        const j2 = await sockitIn(lab, lab.src, ['sntp', '--json', `-${family}`, '-c', '3', server]);
        const s2 = lines(j2.stdout).at(-1)!;
        [offset, delay] = [s2.offset_ms as number, s2.delay_ms as number];
      }
      expect(Math.abs(offset - best.offset * 1e3)).toBeLessThan(1);
      expect(Math.abs(delay - best.delay * 1e3)).toBeLessThan(1);
      expect(sum.delay_ms as number).toBeGreaterThanOrEqual(0);
      const reply = lines(j.stdout).find((x) => x.type === 'reply')!;
      // chronyd's `local` reference: 127.127.1.1
      expect(reply).toMatchObject({
        from: { family, address: server, port: 123 },
        version: 4,
        mode: 4,
        stratum: 8,
        leap: 'no-leap',
        reference_id: '127.127.1.1',
      });
    });
  }

  it("--listen is the book's ssntp: joins the groups, hears chronyd's broadcast mode (mode 5)", async () => {
    listener = startSockitIn(lab, lab.src, ['sntp', '--listen']);
    await listener.line(/^joined 224\.0\.1\.1:123 on eth0$/);
    await listener.line(/^joined \[ff05::101\]:123 on eth0$/);
    const heard = await listener.line(/^v4, mode 5, strat 8, clock difference = -?\d+ sec, \d+ usec$/, 10_000);
    // the clocks are the host's one clock: within a second
    expect(heard).toMatch(/clock difference = (0|-1) sec/);
    await listener.stop();
    listener = undefined;
    const j = startSockitIn(lab, lab.src, ['sntp', '--listen', '224.0.1.1', '--json']);
    try {
      const joined = await j.json<Json>('listening');
      expect(joined).toMatchObject({ type: 'listening', group: '224.0.1.1', port: 123, family: 4 });
      const d = await j.json<Json>('datagram', 10_000);
      expect(d).toMatchObject({ from: { family: 4, address: lab.dst.v4, port: 123 }, version: 4, mode: 5, stratum: 8, bytes: 48 });
      expect(Math.abs(d.clock_difference_ms as number)).toBeLessThan(1000);
      // a packet sent to the group itself (not chronyd's broadcast): the join is what lets it in
      const send = await lab.exec(lab.dst, ['python3', '-c', MULTICAST_SENDER, lab.dst.v4]);
      expect(send.code, send.stderr).toBe(0);
      const m = JSON.parse(await j.line((l) => l.includes('"stratum":3'), 10_000)) as Json;
      expect(m).toMatchObject({ type: 'datagram', from: { family: 4, address: lab.dst.v4 }, version: 3, mode: 5, stratum: 3 });
      j.kill('SIGTERM');
      await j.exited;
      expect(vocabularyProblems(j.stdout, 0)).toEqual([]);
    } finally {
      await j.stop();
    }
  }, 30_000);

  it('--listen without CAP_NET_BIND_SERVICE says what to change', async () => {
    const r = await sockitIn(lab, lab.src, ['sntp', '--listen'], { user: 'nobody' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^sockit sntp: no permission: binding UDP port 123 needs CAP_NET_BIND_SERVICE; fix: run as root, .*ip_unprivileged_port_start=123.*\n$/,
    );
  });

  // last: the drop rule stays until the lab closes
  it('replies dropped at the server: the timeout line, exit 1', async () => {
    await lab.nft(lab.dst, 'add rule inet lab output udp sport 123 drop');
    const r = await sockitIn(lab, lab.src, ['sntp', '-t', '0.5', lab.dst.v4]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`sockit sntp: ${lab.dst.v4}: no reply within 0.5 s\n`);
    const j = await sockitIn(lab, lab.src, ['sntp', '--json', '-c', '2', '-t', '0.3', lab.dst.v4]);
    expect(j.code).toBe(1);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(lines(j.stdout).filter((x) => x.type === 'timeout')).toEqual([
      { type: 'timeout', seq: 1, from: { family: 4, address: lab.dst.v4, port: 123 } },
      { type: 'timeout', seq: 2, from: { family: 4, address: lab.dst.v4, port: 123 } },
    ]);
  });
});
