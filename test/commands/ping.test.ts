// sockit ping against iputils ping, on loopback and in a lab of namespaces.
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatG, formatTime, optionsText, summaryText } from '../../src/commands/ping/text.js';
import { ipOptionItems } from '../../src/stack/packet/ipoptions.js';
import { PingStats, llsqrt } from '../../src/stack/ping/index.js';
import { type CliResult, Running, sockit, sockitBin, sockitIn, startSockit } from '../helpers/cli.js';
import { runnable } from '../helpers/readable.js';
import { isRoot, rootReason } from '../helpers/root.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot as labReady, needsRootReason } from '../lab/index.js';

/** Timing varies between runs; everything else must match iputils to the byte. */
function normalize(text: string): string {
  return text
    .replace(/time=[\d.]+ ms/g, 'time=T ms')
    .replace(/time \d+ms/g, 'time Tms')
    .replace(/rtt min\/avg\/max\/mdev = [\d./]+ ms/g, 'rtt min/avg/max/mdev = T ms')
    .replace(/ipg\/ewma [\d./]+ ms/g, 'ipg/ewma T ms');
}

function jsonLines(r: CliResult): Record<string, unknown>[] {
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A --json run's records, once they are checked against sockit(1)'s vocabulary. */
function jsonRun(r: CliResult): Record<string, unknown>[] {
  expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
  return jsonLines(r);
}

function summaryOf(r: CliResult): Record<string, unknown> {
  const s = jsonRun(r).find((o) => o.type === 'summary');
  if (!s) throw new Error(`no summary in:\n${r.stdout}\n${r.stderr}`);
  return s;
}

describe('iputils arithmetic', () => {
  it('-h: usage on standard error and exit 2, as iputils; --help on standard output, exit 0', async () => {
    const h = await sockit(['ping', '-h']);
    expect(h.code).toBe(2);
    expect(h.stdout).toBe('');
    expect(h.stderr).toMatch(/^Usage: sockit ping \[options\] <destination>\n[\s\S]*-R +record route\n/);
    const help = await sockit(['ping', '--help']);
    expect(help.code).toBe(0);
    // the same option list, then the exit-status note
    expect(help.stdout.startsWith(h.stderr)).toBe(true);
    expect(help.stdout).toContain('Exit status: 0 when replies came');
  });

  it('-V prints the version and exits 0, whatever else is on the line', async () => {
    const r = await sockit(['ping', '-V', '-c', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`ping from sockit ${(await import('../../package.json', { with: { type: 'json' } })).default.version}\n`);
  });

  it('walks IP options as iputils does: NOP, record route (then "same route"), timestamps, unknown types, end of list', async () => {
    const rr = (addrs: number[][]) => {
      const b = Buffer.alloc(40);
      b[0] = 1;
      b[1] = 7;
      b[2] = 39;
      b[3] = 4 + 4 * addrs.length;
      addrs.forEach((a, i) => b.set(a, 4 + 4 * i));
      return b;
    };
    const memory = { last: null };
    const route = [
      [192, 0, 2, 1],
      [192, 0, 2, 18],
    ];
    expect(ipOptionItems(rr(route), memory)).toEqual([{ kind: 'nop' }, { kind: 'rr', same: false, addresses: ['192.0.2.1', '192.0.2.18'] }]);
    expect(ipOptionItems(rr(route), memory)).toEqual([{ kind: 'nop' }, { kind: 'rr', same: true, addresses: [] }]);
    expect(ipOptionItems(rr([[192, 0, 2, 1]]), memory)[1]).toEqual({ kind: 'rr', same: false, addresses: ['192.0.2.1'] });
    // security (130) is not decoded; 0 ends the list; a length past the end stops the walk
    expect(ipOptionItems(Buffer.from([130, 4, 5, 0, 1, 0, 7, 9]), memory)).toEqual([{ kind: 'unknown', type: 130 }, { kind: 'nop' }]);
    // timestamps: the first absolute, then differences; the overflow nibble as unrecorded hops
    const ts = ipOptionItems(Buffer.from([68, 12, 13, 0x20, 0, 0, 1, 0, 0, 0, 1, 5]), memory);
    expect(ts).toEqual([
      {
        kind: 'ts',
        flags: 0x20,
        entries: [
          { stamp: 256, standard: true },
          { stamp: 261, standard: true },
        ],
      },
    ]);
    expect(await optionsText(ts, async (a) => a)).toBe('\nTS: \t256 absolute\n\t5\nUnrecorded hops: 2\n');
    // with addresses (tsandaddr), named by the lookup given; a non-standard stamp; an address with no stamp yet
    const named = ipOptionItems(Buffer.from([68, 20, 21, 0x01, 192, 0, 2, 1, 0x80, 0, 0, 9, 192, 0, 2, 18, 0x80, 0, 0, 12, 0, 0]), memory);
    expect(await optionsText(named, async (a) => `n(${a})`)).toBe('\nTS: \tn(192.0.2.1)\t9 absolute not-standard\n\tn(192.0.2.18)\t3 not-standard\n');
    const half = ipOptionItems(Buffer.from([68, 20, 17, 0x01, 192, 0, 2, 1, 0x80, 0, 0, 9, 192, 0, 2, 18, 0x80, 0, 0, 12]), memory);
    expect(await optionsText(half, async (a) => a)).toBe('\nTS: \t192.0.2.1\t9 absolute not-standard\n\t192.0.2.18');
    expect(ipOptionItems(Buffer.from([1, 7, 200, 4]), memory)).toEqual([{ kind: 'nop' }]);
  });

  it('rounds times as iputils prints them', () => {
    expect(formatTime(45)).toBe('0.045');
    expect(formatTime(999)).toBe('0.999');
    expect(formatTime(1000)).toBe('1.00');
    expect(formatTime(1234)).toBe('1.23');
    expect(formatTime(9994)).toBe('9.99');
    expect(formatTime(9995)).toBe('10.0'); // 10000 - 5 switches to one decimal
    expect(formatTime(12345)).toBe('12.3');
    expect(formatTime(99949)).toBe('99.9');
    expect(formatTime(99950)).toBe('100');
    expect(formatTime(123456)).toBe('123');
  });

  it('formats loss like printf %g of a float', () => {
    expect(formatG(Math.fround(100 / 3))).toBe('33.3333');
    expect(formatG(Math.fround(200 / 3))).toBe('66.6667');
    expect(formatG(Math.fround(100))).toBe('100');
    expect(formatG(Math.fround(0.001))).toBe('0.001');
    expect(formatG(Math.fround(12.5))).toBe('12.5');
    expect(formatG(0)).toBe('0');
  });

  it('takes mdev from the same integer square root as iputils', () => {
    expect([0, 1, 2, 3, 4, 8, 10, 16, 99, 100].map(llsqrt)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 10, 10]);
    const s = new PingStats();
    s.timing = true;
    // three replies of 35, 40, 41 us: avg 38, var (35²+40²+41²)/3 - 38² = 6.88.. -> 6, llsqrt(6) = 2
    for (const t of [35, 40, 41]) {
      s.nreceived++;
      s.tsum += t;
      s.tsum2 += t * t;
      s.tmin = Math.min(s.tmin, t);
      s.tmax = Math.max(s.tmax, t);
    }
    s.ntransmitted = 4;
    s.elapsedMs = 404;
    expect(summaryText('h', s)).toBe(
      '\n--- h ping statistics ---\n4 packets transmitted, 3 received, 25% packet loss, time 404ms\nrtt min/avg/max/mdev = 0.035/0.038/0.041/0.002 ms\n',
    );
  });
});

describe('bad input: one line, exit 2', () => {
  const cases: [string[], string][] = [
    [['-c', '0', '127.0.0.1'], "sockit ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807"],
    [['-c', '-1', '127.0.0.1'], "sockit ping: invalid argument: '-1': out of range: 1 <= value <= 9223372036854775807"],
    [['-c', 'x', '127.0.0.1'], "sockit ping: invalid argument: 'x'"],
    [['-s', '70000', '127.0.0.1'], "sockit ping: invalid argument: '70000': out of range: 0 <= value <= 65507"],
    [['-Z', '127.0.0.1'], "sockit ping: invalid option -- 'Z'"],
    [['--bogus', '127.0.0.1'], "sockit ping: unrecognized option '--bogus'"],
    [[], 'sockit ping: usage error: Destination address required'],
    [['nosuch.invalid'], 'sockit ping: nosuch.invalid: Name or service not known'],
    [['-4', '-6', '::1'], 'sockit ping: only one -4 or -6 option may be specified'],
    [['-M', 'maybe', '127.0.0.1'], 'sockit ping: invalid -M argument: maybe'],
    [['-i', 'x', '127.0.0.1'], 'sockit ping: bad timing interval: x'],
    [['-p', 'zz', '127.0.0.1'], 'sockit ping: patterns must be specified as hex digits: zz'],
  ];
  for (const [args, line] of cases) {
    it(`ping ${args.join(' ') || '(nothing)'}`, async () => {
      const r = await sockit(['ping', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(line + '\n');
      expect(r.stdout).toBe('');
    });
  }

  it('refuses a sub-2 ms interval to an unprivileged user, as iputils does', async () => {
    const { spawnSync } = await import('node:child_process');
    const argv = (bin: string) => [process.execPath, bin, 'ping', '-c', '1', '-i', '0.001', '127.0.0.1'];
    // as root, drop to nobody for this one run (from a copy nobody can read, in a directory it may enter)
    const r = isRoot
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv(runnable('bin/sockit', 'nobody'))], {
          encoding: 'utf8',
          cwd: tmpdir(),
        })
      : spawnSync(process.execPath, argv(sockitBin).slice(1), { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('sockit ping: cannot flood; minimal interval allowed for user is 2ms\n');
  });
});

describe.skipIf(!isRoot)(`loopback (${isRoot ? 'root: raw sockets' : rootReason})`, () => {
  for (const dst of ['127.0.0.1', '::1', 'localhost']) {
    it(`ping -c 3 ${dst} prints what iputils prints`, async () => {
      const args = ['-c', '3', '-i', '0.05', dst];
      const ours = await sockit(['ping', ...args]);
      const { spawnSync } = await import('node:child_process');
      const theirs = spawnSync('ping', args, { encoding: 'utf8' });
      expect(ours.code).toBe(0);
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
      expect(ours.stdout).toMatch(/^64 bytes from .*: icmp_seq=3 ttl=64 time=\d+\.\d{3} ms$/m);
      expect(ours.stdout).toMatch(/^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$/m);
    });
  }

  it('-q, -s, -D and -p', async () => {
    const q = await sockit(['ping', '-q', '-c', '2', '-i', '0.05', '127.0.0.1']);
    expect(q.stdout).toMatch(
      /^PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\.\n\n--- 127\.0\.0\.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time \d+ms\nrtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/,
    );
    const small = await sockit(['ping', '-c', '1', '-s', '8', '127.0.0.1']);
    // under 16 bytes there is no room for the send time: no time=, no rtt line
    expect(small.stdout).toContain('16 bytes from 127.0.0.1: icmp_seq=1 ttl=64\n');
    expect(small.stdout).not.toContain('rtt');
    const d = await sockit(['ping', '-D', '-c', '1', '127.0.0.1']);
    expect(d.stdout).toMatch(/^\[\d{10}\.\d{6}\] 64 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=/m);
    const p = await sockit(['ping', '-c', '1', '-p', 'ff00', '127.0.0.1']);
    expect(p.stdout.split('\n')[0]).toBe('PATTERN: 0xff00');
    expect(p.code).toBe(0); // the echoed pattern checks out: no "wrong data byte"
    expect(p.stdout).not.toContain('wrong data');
  });

  it("-t 0 is refused with iputils' words and status; -p '' prints \"PATTERN: 0x\" as iputils does", async () => {
    const { spawnSync } = await import('node:child_process');
    for (const args of [
      ['-t', '0', '-c', '1', '127.0.0.1'],
      ['-p', '', '-c', '1', '127.0.0.1'],
      ['-6', '-t', '0', '-c', '1', '::1'],
    ]) {
      const ours = await sockit(['ping', ...args]);
      const theirs = spawnSync('ping', args, { encoding: 'utf8' });
      expect(ours.code).toBe(theirs.status);
      expect(ours.stderr).toBe(theirs.stderr.replace(/^ping: /gm, 'sockit ping: '));
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
    }
    const ttl0 = await sockit(['ping', '-t', '0', '-c', '1', '127.0.0.1']);
    expect(ttl0.stderr).toBe('sockit ping: cannot set unicast time-to-live: Invalid argument\n');
    expect(ttl0.code).toBe(2);
    const empty = await sockit(['ping', '-p', '', '-c', '1', '127.0.0.1']);
    expect(empty.stdout.split('\n')[0]).toBe('PATTERN: 0x');
  });

  it('--json: one object per reply, then a summary', async () => {
    const before = Date.now();
    const r = await sockit(['ping', '--json', '-c', '3', '-i', '0.05', '127.0.0.1']);
    const lines = jsonRun(r);
    expect(lines.map((l) => l.type)).toEqual(['start', 'reply', 'reply', 'reply', 'summary']);
    expect(lines[0]).toMatchObject({ type: 'start', host: '127.0.0.1', address: '127.0.0.1', family: 4, data_bytes: 56, packet_bytes: 84 });
    expect(lines[1]).toMatchObject({ seq: 1, from: '127.0.0.1', bytes: 64, ttl: 64, dup: false, checksum_ok: true });
    const replies = lines.slice(1, 4);
    for (const l of replies) {
      expect(l.rtt_ms).toBeTypeOf('number');
      expect(l.timestamp_ms as number).toBeGreaterThanOrEqual(before);
      expect(l.timestamp_ms as number).toBeLessThanOrEqual(Date.now());
    }
    const rtts = replies.map((l) => l.rtt_ms as number);
    const s = lines[4]!;
    expect(s).toMatchObject({
      transmitted: 3,
      received: 3,
      errors: 0,
      loss_percent: 0,
      exit_code: 0,
      rtt_min_ms: Math.min(...rtts),
      rtt_max_ms: Math.max(...rtts),
    });
    // iputils' integer microseconds: the average within a microsecond of the replies' mean
    expect(Math.abs((s.rtt_avg_ms as number) - rtts.reduce((a, b) => a + b) / 3)).toBeLessThanOrEqual(0.001);
    expect(s.rtt_mdev_ms).toBeTypeOf('number');
    expect(s.elapsed_ms as number).toBeGreaterThanOrEqual(100); // two 50 ms intervals
    expect(r.code).toBe(0);
  });

  it("flood mode prints iputils' dots and backspaces", async () => {
    const r = await sockit(['ping', '-f', '-c', '5', '127.0.0.1']);
    const body = r.stdout.split('\n')[1]!;
    // a dot per request, a backspace-space-backspace per reply; on an idle machine
    // each reply comes before the next 10 ms send ('.\b \b' five times), under load
    // a second dot may come first: iputils' rule is only that replies never outrun requests
    const [dot, back] = ['.', '\b \b'];
    let [requests, replies] = [0, 0];
    for (let i = 0; i < body.length; ) {
      if (body.startsWith(dot, i)) [requests, i] = [requests + 1, i + 1];
      else if (body.startsWith(back, i)) [replies, i] = [replies + 1, i + back.length];
      else throw new Error(`unexpected ${JSON.stringify(body.slice(i))} in ${JSON.stringify(body)}`);
      expect(replies).toBeLessThanOrEqual(requests);
    }
    expect([requests, replies]).toEqual([5, 5]);
    expect(r.stdout).toMatch(/ipg\/ewma [\d.]+\/[\d.]+ ms\n$/);
  });

  it('-U, -L, -b and -C show on the live socket (read back with sockit sockopt --pid)', async () => {
    async function optionsOf(args: string[]): Promise<Record<string, unknown>> {
      const ping = startSockit(['ping', ...args, '-i', '0.2', '-c', '50', '127.0.0.1']);
      try {
        await ping.line(/icmp_seq=1 /);
        const list = jsonLines(await sockit(['sockopt', '--pid', String(ping.pid), '--json']));
        const sock = list.find((e) => e.type === 'socket' && e.kind === 'raw4');
        expect(sock).toBeDefined();
        const opts = jsonLines(await sockit(['sockopt', '--pid', String(ping.pid), '--fd', String(sock!.fd), '--json']));
        return { ...Object.fromEntries(opts.filter((e) => e.type === 'option').map((e) => [e.name, e.value])), remote: sock!.remote };
      } finally {
        await ping.stop();
      }
    }
    expect(await optionsOf([])).toMatchObject({ SO_TIMESTAMPNS: true, IP_MULTICAST_LOOP: true, SO_BROADCAST: false, remote: null });
    // -U: no kernel receive stamps, replies are timed when read; -L: no multicast loopback; -C: connected
    expect(await optionsOf(['-U', '-L', '-b', '-C'])).toMatchObject({
      SO_TIMESTAMPNS: false,
      IP_MULTICAST_LOOP: false,
      SO_BROADCAST: true,
      remote: { family: 4, address: '127.0.0.1', port: null },
    });
  });

  it('SIGINT prints the summary; SIGQUIT the status line', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['bin/sockit', 'ping', '-i', '0.05', '127.0.0.1'], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((res) => {
      const t = setInterval(() => {
        if ((out.match(/icmp_seq/g) ?? []).length >= 3) {
          clearInterval(t);
          res();
        }
      }, 10);
    });
    child.kill('SIGQUIT');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code).toBe(0);
    expect(err).toMatch(/^\r\d+\/\d+ packets, \d+% loss, min\/avg\/ewma\/max = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/);
    expect(out).toMatch(/--- 127\.0\.0\.1 ping statistics ---\n(\d+) packets transmitted, \1 received/);
  });
});

const HOSTS = (lab: Lab) => [`${lab.dst.v4} dsthost dstalias`, `${lab.routers[1]!.v4} router2`, `${lab.dst.v6} dsthost6`];

describe.skipIf(!labReady)(`in the lab (${isRoot ? 'src - r1 - r2 - dst' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 2, ipv6: true, name: 'ping' });
    lab.hosts(lab.src, HOSTS(lab));
  });
  afterAll(async () => {
    await lab?.close();
  });

  async function both(args: string[]): Promise<{ ours: CliResult; theirs: CliResult }> {
    const ours = await sockitIn(lab, lab.src, ['ping', ...args]);
    const t = await lab.exec(lab.src, ['ping', ...args]);
    return { ours, theirs: { code: t.code, signal: t.signal, stdout: t.stdout, stderr: t.stderr } };
  }

  it('three hops away the reply TTL is 62, as iputils says', async () => {
    const { ours, theirs } = await both(['-c', '2', '-i', '0.05', lab.dst.v4]);
    expect(ours.stdout).toContain(`64 bytes from ${lab.dst.v4}: icmp_seq=1 ttl=62 time=`);
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
    expect(ours.code).toBe(0);
  });

  it("IPv6: hop limit 62 and iputils' header", async () => {
    const { ours, theirs } = await both(['-c', '2', '-i', '0.05', lab.dst.v6]);
    expect(ours.stdout.split('\n')[0]).toBe(`PING ${lab.dst.v6}(${lab.dst.v6}) 56 data bytes`);
    expect(ours.stdout).toContain(`64 bytes from ${lab.dst.v6}: icmp_seq=1 ttl=62 time=`);
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
  });

  it('-t 1: From 192.0.2.1 icmp_seq=1 Time to live exceeded, exit 1', async () => {
    const { ours, theirs } = await both(['-c', '2', '-i', '0.05', '-t', '1', lab.dst.v4]);
    expect(ours.stdout).toContain('From 192.0.2.1 icmp_seq=1 Time to live exceeded\n');
    expect(ours.stdout).toContain('2 packets transmitted, 0 received, +2 errors, 100% packet loss');
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
    expect(ours.code).toBe(1);
    expect(theirs.code).toBe(1);
    // --json: each an error record of kind icmp, with the errno the kernel gives a socket for it (ping_err)
    const json = jsonRun(await sockitIn(lab, lab.src, ['ping', '--json', '-c', '2', '-i', '0.05', '-t', '1', lab.dst.v4]));
    expect(json.filter((e) => e.type === 'error')).toEqual(
      [1, 2].map((seq) => ({
        type: 'error',
        kind: 'icmp',
        seq,
        from: '192.0.2.1',
        icmp_type: 11,
        icmp_code: 0,
        code: 'EHOSTUNREACH',
        mtu: null,
        message: 'Time to live exceeded',
      })),
    );
    expect(json.at(-1)).toMatchObject({ type: 'summary', transmitted: 2, received: 0, errors: 2, exit_code: 1 });
  });

  it('IPv6 -t 1: Time exceeded: Hop limit', async () => {
    const { ours, theirs } = await both(['-c', '1', '-t', '1', lab.dst.v6]);
    expect(ours.stdout).toContain(`From ${lab.routers[0].v6} icmp_seq=1 Time exceeded: Hop limit\n`);
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
  });

  it('signals as iputils takes them: SIGINT prints the statistics and exits 0 with replies, 1 without; SIGTERM kills it, nothing more', async () => {
    const stats = (out: string) =>
      normalize(out)
        .replace(/^\d+ packets transmitted, \d+ received/m, 'N packets transmitted, N received')
        .replace(/^(64 bytes from .*\n)+/m, 'REPLIES\n')
        .replace(/, \d+% packet loss/, ', L% packet loss');
    async function interrupted(bin: string[], signal: NodeJS.Signals, replies: number) {
      const run = new Running(lab.spawn(lab.src, [...bin, '-i', '0.05', lab.dst.v4], { stdio: ['ignore', 'pipe', 'pipe'] }));
      try {
        // (iputils flushes its header only with the first reply: with none, wait a while)
        if (replies) await run.line((l) => l.includes(`icmp_seq=${replies} `));
        else await new Promise((r) => setTimeout(r, 500));
        run.kill(signal);
        return { ...(await run.exited), stdout: run.stdout, stderr: run.stderr };
      } finally {
        await run.stop();
      }
    }
    const sockitBin = [process.execPath, 'bin/sockit', 'ping'];
    for (const replies of [3, 0]) {
      const loss = replies ? undefined : await lab.loss(lab.routers[0], 100, { match: 'icmp type echo-request' });
      try {
        const ours = await interrupted(sockitBin, 'SIGINT', replies);
        const theirs = await interrupted(['ping'], 'SIGINT', replies);
        expect({ code: ours.code, signal: ours.signal }).toEqual({ code: theirs.code, signal: theirs.signal });
        expect(ours.code).toBe(replies ? 0 : 1);
        expect(stats(ours.stdout)).toBe(stats(theirs.stdout));
        expect(ours.stdout).toMatch(/--- [\d.]+ ping statistics ---\n\d+ packets transmitted/);
      } finally {
        if (loss) await lab.loss(lab.routers[0], 0, { match: 'icmp type echo-request' });
      }
    }
    const ours = await interrupted(sockitBin, 'SIGTERM', 2);
    const theirs = await interrupted(['ping'], 'SIGTERM', 2);
    expect(ours.signal).toBe('SIGTERM');
    expect({ code: ours.code, signal: ours.signal }).toEqual({ code: theirs.code, signal: theirs.signal });
    expect(ours.stdout).not.toContain('statistics');
    expect(theirs.stdout).not.toContain('statistics');
  });

  it('names: canonical name in the header, getnameinfo names on replies and errors', async () => {
    const r = await both(['-c', '1', 'dstalias']);
    expect(r.ours.stdout.split('\n')[0]).toBe(`PING dsthost (${lab.dst.v4}) 56(84) bytes of data.`);
    expect(r.ours.stdout).toContain(`64 bytes from dsthost (${lab.dst.v4}): icmp_seq=1 ttl=62`);
    expect(normalize(r.ours.stdout)).toBe(normalize(r.theirs.stdout));
    const e = await both(['-c', '1', '-t', '2', 'dsthost']);
    expect(e.ours.stdout).toContain(`From router2 (${lab.routers[1].v4}) icmp_seq=1 Time to live exceeded`);
    expect(normalize(e.ours.stdout)).toBe(normalize(e.theirs.stdout));
    const n = await both(['-n', '-c', '1', '-t', '2', 'dsthost']);
    expect(n.ours.stdout).toContain(`From ${lab.routers[1].v4} icmp_seq=1 Time to live exceeded`);
  });

  it('an unreachable route gives the unreachable lines and exit 1', async () => {
    await lab.unreachable(lab.routers[1], `${lab.dst.v4}/32`, 'host');
    try {
      const { ours, theirs } = await both(['-c', '2', '-i', '0.05', lab.dst.v4]);
      expect(ours.stdout).toContain(`From ${lab.routers[1].v4} icmp_seq=1 Destination Host Unreachable\n`);
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
      expect(ours.code).toBe(1);
    } finally {
      await lab.exec(lab.routers[1], ['ip', 'route', 'del', `${lab.dst.v4}/32`]);
    }
  });

  it('a silent host: exit 1 once -W has passed after the last probe', async () => {
    await lab.silent(lab.dst, 'all');
    try {
      const t0 = performance.now();
      const r = await sockitIn(lab, lab.src, ['ping', '-c', '2', '-i', '0.1', '-W', '0.5', lab.dst.v4]);
      const took = performance.now() - t0;
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('2 packets transmitted, 0 received, 100% packet loss');
      expect(took).toBeGreaterThanOrEqual(600); // 0.1 s between probes + 0.5 s linger
      // -w 2: probes at 0 s and 1 s, then the deadline
      const w = await both(['-w', '2', lab.dst.v4]);
      expect(w.ours.code).toBe(1);
      expect(w.ours.stdout).toMatch(/^2 packets transmitted, 0 received, 100% packet loss, time 10\d\dms$/m);
      expect(normalize(w.ours.stdout)).toBe(normalize(w.theirs.stdout));
    } finally {
      await lab.silent(lab.dst, 'none');
    }
  });

  it("under 30% random loss the summary equals the routers' nftables counters exactly", async () => {
    const req = await lab.loss(lab.routers[0], 30, { match: 'icmp type echo-request' });
    const rep = await lab.loss(lab.routers[1], 30, { match: 'icmp type echo-reply' });
    const r = await sockitIn(lab, lab.src, ['ping', '--json', '-q', '-c', '200', '-i', '0.005', '-W', '1', lab.dst.v4]);
    const s = summaryOf(r);
    const c1 = await lab.counters(lab.routers[0]);
    const c2 = await lab.counters(lab.routers[1]);
    await lab.loss(lab.routers[0], 0, { match: 'icmp type echo-request' });
    await lab.loss(lab.routers[1], 0, { match: 'icmp type echo-reply' });
    // every request crossed r1's rule; every reply that reached src passed r2's
    expect(s.transmitted).toBe(200);
    expect(c1[req.dropped].packets + c1[req.passed].packets).toBe(200);
    expect(s.received).toBe(c2[rep.passed].packets);
    expect(c2[rep.passed].packets + c2[rep.dropped].packets).toBe(c1[req.passed].packets);
    expect(s.received).toBeGreaterThan(60); // about 200 * 0.7 * 0.7 = 98
    expect(s.received).toBeLessThan(160);
    expect(s.errors).toBe(0);
    expect(r.code).toBe(0);
  });

  it("flood under 30% random loss: the counts are the routers' counters, a dot left per lost probe", async () => {
    const req = await lab.loss(lab.routers[0], 30, { match: 'icmp type echo-request' });
    const rep = await lab.loss(lab.routers[1], 30, { match: 'icmp type echo-reply' });
    let r: Awaited<ReturnType<typeof sockitIn>>;
    let c1: Awaited<ReturnType<typeof lab.counters>>;
    let c2: Awaited<ReturnType<typeof lab.counters>>;
    try {
      r = await sockitIn(lab, lab.src, ['ping', '-f', '-c', '300', '-W', '1', lab.dst.v4]);
      c1 = await lab.counters(lab.routers[0]);
      c2 = await lab.counters(lab.routers[1]);
    } finally {
      await lab.loss(lab.routers[0], 0, { match: 'icmp type echo-request' });
      await lab.loss(lab.routers[1], 0, { match: 'icmp type echo-reply' });
    }
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    expect(m).not.toBeNull();
    const [sent, got] = [Number(m![1]), Number(m![2])];
    expect(sent).toBe(300);
    expect(c1[req.dropped].packets + c1[req.passed].packets).toBe(300);
    expect(got).toBe(c2[rep.passed].packets);
    expect(got).toBeGreaterThan(100); // about 300 * 0.7 * 0.7 = 147
    expect(got).toBeLessThan(240);
    // iputils' marks: a dot per probe, a backspace-space-backspace per reply
    const marks = r.stdout.split('\n')[1]!;
    expect(marks.split('\b \b').join('').split('.').join('')).toBe('');
    expect(marks.split('.').length - 1).toBe(300);
    expect(marks.split('\b \b').length - 1).toBe(got);
    expect(r.code).toBe(0);
  });

  it('duplicates are flagged (DUP!) and counted', async () => {
    // the destination sends every echo reply twice (nft dup)
    await lab.nft(
      lab.dst,
      `add table ip twice\nadd chain ip twice out { type filter hook output priority 0; }\nadd rule ip twice out icmp type echo-reply dup to ${lab.src.v4} device eth0`,
    );
    try {
      // the run ends with the third reply, before its copy: two duplicates
      const r = await sockitIn(lab, lab.src, ['ping', '-c', '3', '-i', '0.1', lab.dst.v4]);
      expect(r.stdout).toMatch(/icmp_seq=1 ttl=62 time=[\d.]+ ms \(DUP!\)\n/);
      expect(r.stdout).toContain('3 packets transmitted, 3 received, +2 duplicates, 0% packet loss');
      const t = await lab.exec(lab.src, ['ping', '-c', '3', '-i', '0.1', lab.dst.v4]);
      expect(normalize(r.stdout)).toBe(normalize(t.stdout));
    } finally {
      await lab.nft(lab.dst, 'delete table ip twice');
    }
  });

  it('-M do over a 1400-byte link: frag needed from the router, then local errors', async () => {
    await lab.mtu(1, 1400);
    try {
      const r = await sockitIn(lab, lab.src, ['ping', '-c', '2', '-i', '0.1', '-M', 'do', '-s', '1400', lab.dst.v4]);
      expect(r.stdout).toContain(`From ${lab.routers[0].v4} icmp_seq=1 Frag needed and DF set (mtu = 1400)\n`);
      expect(r.stderr).toBe('sockit ping: local error: message too long, mtu=1400\n');
      expect(r.stdout).toContain('2 packets transmitted, 0 received, +2 errors, 100% packet loss');
      expect(r.code).toBe(1);
      const fits = await sockitIn(lab, lab.src, ['ping', '-c', '1', '-M', 'do', '-s', '1372', lab.dst.v4]);
      expect(fits.stdout).toContain(`1380 bytes from ${lab.dst.v4}: icmp_seq=1 ttl=62`);
    } finally {
      await lab.mtu(1, 1500);
    }
  });

  it('five concurrent pings (raw sockets) each count only their own replies', async () => {
    await lab.pingGroupRange(lab.src, false);
    const runs = await Promise.all(Array.from({ length: 5 }, () => sockitIn(lab, lab.src, ['ping', '--json', '-c', '20', '-i', '0.01', lab.dst.v4])));
    const idents = new Set<unknown>();
    for (const r of runs) {
      const lines = jsonRun(r);
      expect(lines[0].mechanism).toBe('raw socket');
      idents.add(lines[0].ident);
      expect(summaryOf(r)).toMatchObject({ transmitted: 20, received: 20, duplicates: 0, errors: 0 });
      expect(lines.filter((l) => l.type === 'reply').map((l) => l.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    expect(idents.size).toBe(5);
  });

  it('unprivileged: nobody pings through a ping socket once ping_group_range allows it', async () => {
    await lab.pingGroupRange(lab.src, true);
    try {
      const ok = await sockitIn(lab, lab.src, ['ping', '-v', '-c', '2', '-i', '0.05', lab.dst.v4], { user: 'nobody' });
      expect(ok.code).toBe(0);
      expect(ok.stderr).toBe('sockit ping: ping socket (SOCK_DGRAM, unprivileged)\n');
      expect(ok.stdout).toContain(`64 bytes from ${lab.dst.v4}: icmp_seq=2 ttl=62 time=`);
      const err = await sockitIn(lab, lab.src, ['ping', '-c', '1', '-t', '1', lab.dst.v4], { user: 'nobody' });
      expect(err.stdout).toContain('From 192.0.2.1 icmp_seq=1 Time to live exceeded\n'); // via IP_RECVERR
    } finally {
      await lab.pingGroupRange(lab.src, false);
    }
    const denied = await sockitIn(lab, lab.src, ['ping', '-c', '1', lab.dst.v4], { user: 'nobody' });
    expect(denied.code).toBe(2);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toBe(
      'sockit ping: no permission for an ICMP socket: ping sockets are closed to group 65534 (net.ipv4.ping_group_range = 1 0) ' +
        'and raw sockets need CAP_NET_RAW; fix: sudo sysctl -w net.ipv4.ping_group_range="0 2147483647" (ping sockets for every group; no privilege needed after), ' +
        `or run as root, or sudo setcap cap_net_raw+ep "${process.execPath}" (gives raw sockets to every Node program)\n`,
    );
  });

  it('-b: every host on the link answers a broadcast; repeats unmarked unless -v; no broadcast without -b', async () => {
    // link 0 is src - r1, a /28: its broadcast address is the prefix + 15
    const [net] = lab.links[0]!.prefix.v4.split('/');
    const bcast = net!
      .split('.')
      .map((b, i) => (i === 3 ? String(Number(b) + 15) : b))
      .join('.');
    const hosts = [lab.src, lab.routers[0]!];
    const answer = (on: boolean) => Promise.all(hosts.map((n) => lab.exec(n, ['sysctl', '-qw', `net.ipv4.icmp_echo_ignore_broadcasts=${on ? 0 : 1}`])));
    await answer(true);
    try {
      const { ours, theirs } = await both(['-b', '-c', '3', '-i', '0.2', bcast]);
      for (const r of [ours, theirs]) {
        expect(r.stderr).toBe('WARNING: pinging broadcast address\n');
        expect(r.code).toBe(0);
      }
      expect(ours.stdout.split('\n')[0]).toBe(theirs.stdout.split('\n')[0]);
      const replies = (out: string) => [...out.matchAll(/^64 bytes from ([\d.]+): icmp_seq=(\d+) ttl=64 time=[\d.]+ ms$/gm)];
      const froms = (out: string) => [...new Set(replies(out).map((m) => m[1]))].sort();
      // the sender answers its own broadcast too (it is on the link), and r1 does
      expect(froms(ours.stdout)).toEqual([lab.src.v4, lab.routers[0]!.v4].sort());
      expect(froms(ours.stdout)).toEqual(froms(theirs.stdout));
      expect(ours.stdout).not.toMatch(/DUP!|DIFFERENT ADDRESS/);
      const m = /(\d+) packets transmitted, (\d+) received, \+(\d+) duplicates/.exec(ours.stdout);
      expect(m).not.toBeNull();
      expect(replies(ours.stdout).length).toBe(Number(m![2]) + Number(m![3]));

      const verbose = await sockitIn(lab, lab.src, ['ping', '-v', '-b', '-c', '2', '-i', '0.2', bcast]);
      expect(verbose.stdout).toMatch(/icmp_seq=1 .*ttl=64 time=[\d.]+ ms \(DUP!\)\n/);

      const refused = await sockitIn(lab, lab.src, ['ping', '-c', '1', bcast]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe('sockit ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n');
      const user = await sockitIn(lab, lab.src, ['ping', '-b', '-c', '1', '-i', '0.5', bcast], { user: 'nobody' });
      expect(user.code).toBe(2);
      expect(user.stderr).toBe('WARNING: pinging broadcast address\nsockit ping: broadcast ping with too short interval: 500\n');
    } finally {
      await answer(false);
    }
  });

  it('-e sets the identifier: on a raw socket, and as the port a ping socket binds', async () => {
    const raw = await sockitIn(lab, lab.src, ['ping', '-v', '-e', '4660', '-c', '1', lab.dst.v4]);
    expect(raw.stdout).toMatch(/icmp_seq=1 ident=4660 ttl=62 time=/);
    await lab.pingGroupRange(lab.src, true);
    try {
      const dgram = await sockitIn(lab, lab.src, ['ping', '--json', '-e', '4660', '-c', '1', lab.dst.v4], { user: 'nobody' });
      expect(dgram.code).toBe(0);
      expect(vocabularyProblems(dgram.stdout, dgram.code)).toEqual([]);
      expect(JSON.parse(dgram.stdout.split('\n')[0]!)).toMatchObject({ type: 'start', mechanism: 'ping socket', ident: 4660 });
      // identifier 0 is not a ping socket's to have: -e 0 takes a raw socket, which nobody may not open
      const zero = await sockitIn(lab, lab.src, ['ping', '-e', '0', '-c', '1', lab.dst.v4], { user: 'nobody' });
      expect(zero.code).toBe(2);
      expect(zero.stderr).toMatch(/^sockit ping: no permission for an ICMP socket: raw sockets need CAP_NET_RAW/);
    } finally {
      await lab.pingGroupRange(lab.src, false);
    }
    const bad = await sockitIn(lab, lab.src, ['ping', '-e', '65536', lab.dst.v4]);
    expect(bad.stderr).toBe("sockit ping: invalid argument: '65536': out of range: 0 <= value <= 65535\n");
  });

  it('-B binds the source the kernel chose, and says so in the header as iputils does', async () => {
    const { ours, theirs } = await both(['-B', '-c', '1', lab.dst.v4]);
    expect(ours.stdout.split('\n')[0]).toBe(`PING ${lab.dst.v4} (${lab.dst.v4}) from ${lab.src.v4} : 56(84) bytes of data.`);
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
  });

  it('-R records the route there and back, "(same route)" after, as iputils prints it (names too)', async () => {
    const numeric = await both(['-R', '-c', '3', '-i', '0.1', lab.dst.v4]);
    expect(numeric.ours.stdout.split('\n')[0]).toBe(`PING ${lab.dst.v4} (${lab.dst.v4}) 56(124) bytes of data.`);
    // src, r1, r2 out; dst's way back; r2, r1 in (each router records the address it forwards from)
    expect(numeric.ours.stdout).toMatch(/icmp_seq=1 ttl=62 time=[\d.]+ ms\nRR: (\t[\d.]+\n){6,9}\n/);
    expect(numeric.ours.stdout).toMatch(/icmp_seq=2 ttl=62 time=[\d.]+ ms\t\(same route\)\n/);
    expect(normalize(numeric.ours.stdout)).toBe(normalize(numeric.theirs.stdout));
    // every address on the route gets a name for this one (no DNS to wait for), then the usual hosts file is back
    const everyAddress = lab.links.flatMap((l, i) => [`${l.left.v4} l${i}left`, `${l.right.v4} l${i}right`]);
    lab.hosts(lab.src, [`${lab.dst.v4} dsthost`, ...everyAddress.filter((h) => !h.startsWith(`${lab.dst.v4} `))]);
    try {
      const named = await both(['-R', '-c', '1', 'dsthost']);
      expect(named.ours.stdout).toMatch(/\nRR: \tl0left \([\d.]+\)\n\tl1left \(/);
      expect(normalize(named.ours.stdout)).toBe(normalize(named.theirs.stdout));
    } finally {
      lab.hosts(lab.src, HOSTS(lab));
    }

    const json = jsonRun(await sockitIn(lab, lab.src, ['ping', '--json', '-R', '-c', '1', lab.dst.v4]));
    const route = json.find((e) => e.type === 'reply')!.record_route as string[];
    expect(route[0]).toBe(lab.src.v4);
    expect(route).toContain(lab.dst.v4);
    const v6 = await sockitIn(lab, lab.src, ['ping', '-R', '-c', '1', lab.dst.v6]);
    expect(v6.stderr).toBe("sockit ping: -R: IP options are IPv4's\n");
    expect(v6.code).toBe(2);
  });

  it("-T tsonly / tsandaddr / tsprespec: the hops' timestamps as iputils prints them, and in --json", async () => {
    // the stamps are milliseconds since midnight UT: equal between the tools only in shape
    const stamps = (t: string) => normalize(t).replace(/\t-?\d+( absolute)?\n/g, '\tN$1\n');
    for (const type of ['tsonly', 'tsandaddr']) {
      const { ours, theirs } = await both(['-T', type, '-c', '2', '-i', '0.1', lab.dst.v4]);
      expect(ours.stdout.split('\n')[0]).toBe(`PING ${lab.dst.v4} (${lab.dst.v4}) 56(124) bytes of data.`);
      expect(ours.stdout).toMatch(
        type === 'tsonly' ? /ms\nTS: \t\d+ absolute\n(\t-?\d+\n){3,}/ : new RegExp(`ms\\nTS: \\t${lab.src.v4.replace(/\./g, '\\.')}\\t\\d+ absolute\\n`),
      );
      expect(stamps(ours.stdout)).toBe(stamps(theirs.stdout));
    }
    // tsprespec: only the hops named stamp, each in its own slot, by name or address
    const r1 = lab.routers[0]!.v4,
      r2 = lab.routers[1]!.v4;
    const pre = await both(['-T', 'tsprespec', r1, 'router2', '-c', '2', '-i', '0.1', lab.dst.v4]);
    expect(pre.ours.code).toBe(0);
    expect(pre.ours.stdout.split('\n')[0]).toBe(`PING ${lab.dst.v4} (${lab.dst.v4}) 56(124) bytes of data.`);
    const esc = (a: string) => a.replace(/\./g, '\\.');
    expect(pre.ours.stdout).toMatch(new RegExp(`ms\\nTS: \\t${esc(r1)}\\t\\d+ absolute\\n\\t(router2 \\()?${esc(r2)}\\)?\\t-?\\d+\\n`));
    expect(stamps(pre.ours.stdout)).toBe(stamps(pre.theirs.stdout));
    const json = jsonRun(await sockitIn(lab, lab.src, ['ping', '--json', '-T', 'tsprespec', r1, r2, '-c', '1', lab.dst.v4]));
    const reply = json.find((e) => e.type === 'reply')!;
    expect(reply.record_route).toBeUndefined();
    const slots = reply.ip_timestamps as { address: string; ms_since_midnight_ut: number }[];
    expect(slots.map((t) => t.address)).toEqual([r1, r2]);
    for (const t of slots) expect(t.ms_since_midnight_ut).toBeGreaterThanOrEqual(0);
    expect(reply.unrecorded_hops).toBeTypeOf('number');

    for (const [args, err] of [
      [['-R', '-T', 'tsonly'], 'only one of -T or -R may be used'],
      [['-T', 'often'], 'invalid timestamp type: often'],
      [['-T', 'tsprespec', 'a', 'b', 'c', 'd', 'e'], '-T tsprespec: at most 4 hops before the destination: a b c d e'],
      [['-T', 'tsonly', r1], `usage error: too many destinations: ${r1} ${lab.dst.v4}`],
      [['-6', '-T', 'tsonly'], "-T: IP options are IPv4's"],
    ] as const) {
      const r = await sockitIn(lab, lab.src, ['ping', ...args, '-c', '1', args[0] === '-6' ? lab.dst.v6 : lab.dst.v4]);
      expect(r.stderr).toBe(`sockit ping: ${err}\n`);
      expect(r.code).toBe(2);
    }
    // a hop that does not resolve is named in the one line (the lab has no resolver: getaddrinfo's own words)
    const unknown = await sockitIn(lab, lab.src, ['ping', '-T', 'tsprespec', 'nosuch.invalid', '-c', '1', lab.dst.v4]);
    expect(unknown.stderr).toMatch(/^sockit ping: nosuch\.invalid: (Name or service not known|Temporary failure in name resolution)\n$/);
    expect(unknown.code).toBe(2);
  });

  it('-N: node information queries (RFC 4620) to a responder, printed as iputils prints the answers', async () => {
    // Linux answers none itself: a small responder written apart from sockit (test/lab/ni-responder.py)
    const cfg = {
      names: [
        ['dsthost.example', true],
        ['www.@', true],
        ['dsthost', false],
      ],
      v6: [lab.dst.v6, 'fe80::1234'],
      v4: [lab.dst.v4],
      refuse_v4_subject: true,
    };
    const responder = lab.spawn(lab.dst, ['python3', 'test/lab/ni-responder.py', JSON.stringify(cfg)]);
    try {
      await new Promise<void>((resolve, reject) => {
        responder.stdout!.on('data', (b: Buffer) => {
          if (b.toString().includes('ready')) resolve();
        });
        responder.on('exit', (code) => reject(new Error(`ni-responder exited ${code}`)));
      });
      const dst = lab.dst.v6;
      for (const [args, answer] of [
        // names: a compression pointer (www.example.) and a single-label name (no dot)
        [['-N', 'name'], ' dsthost.example., www.example., dsthost'],
        [['-N', 'ipv6'], ` ${dst}, fe80::1234`],
        [['-N', 'ipv6-global'], ` ${dst}`],
        [['-N', 'ipv6-linklocal'], ' fe80::1234'],
        [['-N', 'ipv4'], ` ${lab.dst.v4}`],
        [['-N', 'name', '-N', `subject-ipv6=${dst}`], ' dsthost.example., www.example., dsthost'],
        [['-N', 'ipv4', '-N', 'subject-name=DSTHOST.example'], ` ${lab.dst.v4}`],
        [['-N', 'ipv4', '-N', `subject-ipv4=${lab.dst.v4}`], ' refused'],
      ] as const) {
        const { ours, theirs } = await both([...args, '-c', '2', '-i', '0.1', dst]);
        expect(ours.stdout.split('\n')[0]).toBe(`PING ${dst}(${dst}) 56 data bytes`);
        expect(ours.stdout).toContain(`bytes from ${dst}:${answer}; seq=1; ttl=62\n`);
        expect(ours.stdout).toContain(`:${answer}; seq=2; ttl=62\n`);
        expect(ours.stdout).toMatch(/\n2 packets transmitted, 2 received, 0% packet loss, time \d+ms\n\n?$/);
        expect(ours.stdout).not.toContain('rtt min');
        expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
        expect(ours.code).toBe(0);
      }
      // a subject the responder does not have: no answer, as for iputils
      const other = await both(['-N', 'name', '-N', 'subject-name=elsewhere', '-c', '1', '-W', '0.5', dst]);
      expect(other.ours.stdout).toContain('1 packets transmitted, 0 received, 100% packet loss');
      expect(other.ours.code).toBe(1);
      expect(normalize(other.ours.stdout)).toBe(normalize(other.theirs.stdout));

      const json = jsonRun(await sockitIn(lab, lab.src, ['ping', '--json', '-N', 'ipv6', '-c', '1', dst]));
      const reply = json.find((e) => e.type === 'reply')!;
      expect(reply).toMatchObject({ seq: 1, from: dst, ttl: 62, rtt_ms: null, different_address: false });
      expect(reply.node_info).toEqual({
        result: 'success',
        qtype: 3,
        flags: 0,
        parse_error: false,
        truncated: false,
        addresses: [
          { ttl: 60, address: dst },
          { ttl: 60, address: 'fe80::1234' },
        ],
      });
      const names = jsonRun(await sockitIn(lab, lab.src, ['ping', '--json', '-N', 'name', '-c', '1', dst]));
      expect(names.find((e) => e.type === 'reply')!.node_info).toMatchObject({ result: 'success', names: ['dsthost.example.', 'www.example.', 'dsthost'] });
    } finally {
      responder.kill();
    }

    // one line and exit 2 for what cannot be asked; -N help lists the words on stdout
    for (const [args, err] of [
      [['-N', 'nickname', lab.dst.v6], 'invalid -N option: nickname (-N help lists them)'],
      [['-N', 'name', '-N', 'ipv6', lab.dst.v6], 'Qtype conflict'],
      [['-N', 'subject-ipv4=192.0.2.1', '-N', 'subject-name=x', lab.dst.v6], 'Subject type conflict'],
      [['-N', 'name', lab.dst.v4], "-N: node information queries are IPv6's"],
      [['-N', 'name', '--mode', 'dgram', lab.dst.v6], '-N: node information queries need a raw socket (a ping socket sends only echo requests)'],
    ] as const) {
      const r = await sockitIn(lab, lab.src, ['ping', ...args]);
      expect(r.stderr).toBe(`sockit ping: ${err}\n`);
      expect(r.code).toBe(2);
    }
    const help = await sockitIn(lab, lab.src, ['ping', '-N', 'help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^sockit ping -6 -N <nodeinfo opt>\nHelp:\n  help\nQuery:\n  name\n[\s\S]*  subject-fqdn=name\n$/);
    const nobody = await sockitIn(lab, lab.src, ['ping', '-N', 'name', '-c', '1', lab.dst.v6], { user: 'nobody' });
    expect(nobody.stderr).toMatch(/^sockit ping: no permission for an ICMP socket: raw sockets need CAP_NET_RAW/);
    expect(nobody.code).toBe(2);
  });

  it("-F: IPv6 probes carry the flow label (the destination's nftables counter sees it), the header says so", async () => {
    await lab.nft(
      lab.dst,
      [
        'add table ip6 flowtest',
        'add counter ip6 flowtest labelled',
        'add chain ip6 flowtest in { type filter hook input priority 0; }',
        'add rule ip6 flowtest in ip6 flowlabel 0x12345 icmpv6 type echo-request counter name labelled',
      ].join('\n'),
    );
    try {
      const ours = await sockitIn(lab, lab.src, ['ping', '-F', '0x12345', '-c', '3', '-i', '0.1', lab.dst.v6]);
      expect(ours.code).toBe(0);
      expect(ours.stdout.split('\n')[0]).toBe(`PING ${lab.dst.v6}(${lab.dst.v6}) , flow 0x12345, 56 data bytes`);
      expect((await lab.counters(lab.dst)).labelled!.packets).toBe(3);
      // a label is leased to one socket (and lingers after it): iputils gets its own, and prints the same
      const theirs = await lab.exec(lab.src, ['ping', '-F', '0x54321', '-c', '3', '-i', '0.1', lab.dst.v6]);
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout).replace('flow 0x54321', 'flow 0x12345'));
      const taken = await sockitIn(lab, lab.src, ['ping', '-F', '0x12345', '-c', '1', lab.dst.v6]);
      expect(taken).toMatchObject({ code: 2, stderr: "sockit ping: can't set flowlabel: Operation not permitted\n" });
    } finally {
      await lab.nft(lab.dst, 'delete table ip6 flowtest');
    }
    for (const [v, err] of [
      ['0x123456', 'flow value is greater than 20 bits: 0x123456'],
      ['zz', 'bad value for flowinfo: zz'],
    ]) {
      const r = await sockitIn(lab, lab.src, ['ping', '-F', v!, lab.dst.v6]);
      expect(r).toMatchObject({ code: 2, stderr: `sockit ping: ${err}\n` });
    }
  });

  it('-O reports probes with no answer yet', async () => {
    await lab.nft(
      lab.dst,
      'add table inet seq2\nadd chain inet seq2 in { type filter hook input priority 0; }\nadd rule inet seq2 in icmp type echo-request icmp sequence 2 drop',
    );
    try {
      const { ours, theirs } = await both(['-c', '3', '-i', '0.1', '-O', '-W', '0.2', lab.dst.v4]);
      expect(ours.stdout).toContain('no answer yet for icmp_seq=2\n');
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
    } finally {
      await lab.nft(lab.dst, 'delete table inet seq2');
    }
  });
});
