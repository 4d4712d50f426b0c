// sockit traceroute against traceroute 2.x, in labs of namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRecord, probeText, tcpFlagNames, waitArg } from '../../src/commands/traceroute.js';
import type { ProbeResult } from '../../src/stack/traceroute.js';
import { type CliResult, Running, sockit, sockitBin, sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';

/** Hop number -> the addresses on its line, in order ('*' for no answer), from traceroute's text. */
function hopList(out: string): string[][] {
  return out
    .split('\n')
    .slice(1)
    .filter((l) => /^\s*\d+ /.test(l))
    .map((l) => {
      const words = l.trim().split(/\s+/).slice(1);
      return words.filter((w) => w === '*' || (/^[\d.]+$/.test(w) && w.split('.').length === 4) || (w.includes(':') && !w.startsWith('(')));
    });
}

/** The distinct answering addresses of each hop. */
function hopAddresses(out: string): string[][] {
  return hopList(out).map((h) => [...new Set(h.filter((w) => w !== '*'))]);
}

function normalize(text: string): string {
  return text.replace(/ {2}\d+\.\d{3} ms/g, '  T ms');
}

function jsonLines(r: CliResult): Record<string, unknown>[] {
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const probe = (index: number, from: string | null, rttMs: number | null, annotation = ''): ProbeResult => ({
  hop: 7,
  index,
  from,
  rttMs,
  ttl: null,
  annotation,
  final: false,
  icmp: null,
  flags: null,
  local: null,
});

describe('traceroute text', () => {
  it('prints a hop line as traceroute does: address once, again only when it changes', () => {
    const a = (x: string) => x;
    const p0 = probe(0, '192.0.2.1', 0.5123);
    const p1 = probe(1, '192.0.2.1', 0.488);
    const p2 = probe(2, '192.0.2.9', 0.47, '!H');
    expect(probeText(p0, [], a) + probeText(p1, [p0], a) + probeText(p2, [p0, p1], a)).toBe('\n 7  192.0.2.1  0.512 ms  0.488 ms 192.0.2.9  0.470 ms !H');
    const s0 = probe(0, null, null);
    const s1 = probe(1, '192.0.2.1', 1);
    const s2 = probe(2, null, null);
    expect(probeText(s0, [], a) + probeText(s1, [s0], a) + probeText(s2, [s0, s1], a)).toBe('\n 7  * 192.0.2.1  1.000 ms *');
    // a local "message too long" has a time but no address
    expect(probeText(probe(0, null, 0.012, '!F-1500'), [], a)).toBe('\n 7  *  0.012 ms !F-1500');
  });

  it("tcp -O info: the final reply's flags after its address, in mod-tcp.c's words", () => {
    const a = (x: string) => x;
    const p0 = { ...probe(0, '192.0.2.1', 0.5), final: true, flags: 'S.' };
    const p1 = { ...probe(1, '192.0.2.1', 0.25), final: true, flags: 'S.' };
    expect(probeText(p0, [], a, true) + probeText(p1, [p0], a, true)).toBe('\n 7  192.0.2.1 <syn,ack>  0.500 ms  0.250 ms');
    expect(probeText(p0, [], a, false)).toBe('\n 7  192.0.2.1  0.500 ms');
    expect(['R.', 'S.', 'FPU', 'EW.'].map(tcpFlagNames)).toEqual(['rst,ack', 'syn,ack', 'fin,psh,urg', 'ack,ece,cwr']);
  });

  it("a probe's record: reply, timeout, or a local error with its code and MTU", () => {
    expect(probeRecord({ ...probe(0, '192.0.2.1', 0.5), ttl: 63, icmp: { type: 11, code: 0 } }, 'r1')).toEqual({
      type: 'reply',
      hop: 7,
      probe: 1,
      from: '192.0.2.1',
      name: 'r1',
      rtt_ms: 0.5,
      ttl: 63,
      final: false,
      icmp_type: 11,
      icmp_code: 0,
      tcp_flags: null,
      annotation: null,
    });
    expect(probeRecord(probe(2, null, null), null)).toEqual({ type: 'timeout', hop: 7, probe: 3, annotation: null });
    expect(probeRecord({ ...probe(0, null, 0.012, '!F-1500'), local: { code: 'EMSGSIZE', errno: 90, mtu: 1500 } }, null)).toEqual({
      type: 'error',
      kind: 'local',
      hop: 7,
      probe: 1,
      code: 'EMSGSIZE',
      message: 'Message too long',
      mtu: 1500,
      rtt_ms: 0.012,
      annotation: '!F-1500',
    });
  });

  it('reads -w as MAX[,HERE,NEAR]; MAX alone turns the adaptive rules off', () => {
    expect(waitArg('5,3,10')).toEqual({ max: 5, here: 3, near: 10 });
    expect(waitArg('2')).toEqual({ max: 2, here: 0, near: 0 });
    expect(waitArg('1.5/2')).toEqual({ max: 1.5, here: 2, near: 0 });
    expect(() => waitArg('x')).toThrow();
  });
});

describe('bad input: one line, exit 2', () => {
  const cases: [string[], string][] = [
    [['nosuch.invalid'], 'sockit traceroute: nosuch.invalid: Name or service not known'],
    [['-m', '0', '127.0.0.1'], 'sockit traceroute: first hop out of range'],
    [['-f', '40', '-m', '30', '127.0.0.1'], 'sockit traceroute: first hop out of range'],
    [['-m', '256', '127.0.0.1'], 'sockit traceroute: max hops cannot be more than 255'],
    [['-q', '11', '127.0.0.1'], 'sockit traceroute: no more than 10 probes per hop'],
    [['-q', '0', '127.0.0.1'], 'sockit traceroute: no more than 10 probes per hop'],
    [['-M', 'dccp', '127.0.0.1'], 'sockit traceroute: Unknown traceroute module dccp'],
    [['-w', '-1', '127.0.0.1'], "sockit traceroute: bad wait specifications `-1,0,0' used"],
    [['127.0.0.1', '70000'], 'sockit traceroute: too big packetlen 70000 specified'],
    [['-6', '-s', '127.0.0.1', '::1'], 'sockit traceroute: 127.0.0.1: Address family for hostname not supported'],
    [['-s', '::1', '127.0.0.1'], 'sockit traceroute: IP version mismatch in addresses specified'],
    [['-s', 'bogus', '127.0.0.1'], 'sockit traceroute: bogus: Name or service not known'],
    [['-s', 'nosuch.invalid', '127.0.0.1'], 'sockit traceroute: nosuch.invalid: Name or service not known'],
    [['-O', 'foo', '127.0.0.1'], "sockit traceroute: the default method has no option `foo'"],
    [['-I', '-O', 'info', '127.0.0.1'], "sockit traceroute: the icmp method has no option `info'"],
    [['-M', 'nosuch', '-I', '127.0.0.1'], 'sockit traceroute: Unknown traceroute module nosuch'],
    [[], 'sockit traceroute: Specify "host" missing argument.'],
    [['-s', '192.0.2.200', '127.0.0.1'], 'sockit traceroute: bind: Cannot assign requested address'],
  ];
  for (const [args, line] of cases) {
    it(`traceroute ${args.join(' ') || '(nothing)'}`, async () => {
      const r = await sockit(['traceroute', ...args]);
      expect(r.stderr).toBe(line + '\n');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    });
  }

  it('real traceroute words a source that does not resolve the same way (then its own second line)', async () => {
    const { spawnSync } = await import('node:child_process');
    const theirs = spawnSync('traceroute', ['-s', 'bogus', '127.0.0.1'], { encoding: 'utf8' });
    expect(theirs.status).toBe(2);
    const ours = await sockit(['traceroute', '-s', 'bogus', '127.0.0.1']);
    expect(ours.stderr).toBe(`sockit traceroute: ${theirs.stderr.split('\n')[0]}\n`);
  });

  it('--json: the error line on stderr, and a summary with the exit code on stdout', async () => {
    const r = await sockit(['traceroute', '--json', '-s', '192.0.2.200', '127.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sockit traceroute: bind: Cannot assign requested address\n');
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(JSON.parse(r.stdout.trim())).toEqual({ type: 'summary', exit_code: 2 });
  });
});

describe('help and usage', () => {
  for (const flag of ['-h', '--help']) {
    it(`${flag} shows the help on stdout, exit 0, with a usage line to paste`, async () => {
      const r = await sockit(['traceroute', flag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n')[0]).toBe('Usage: sockit traceroute [options] host [packetlen]');
      // every method of the registry is named, and the method options
      expect(r.stdout).toContain('default, icmp, tcp, udp');
      expect(r.stdout).toMatch(/-O, --options <OPTS>/);
    });
  }
});

// Exact per-probe comparisons run with -w 2 (MAX alone), which turns off
// traceroute's HERE/NEAR waits: with lab round trips of ~20 us, HERE = 3 x rtt
// gives a hop's later probes ~60 us, and either tool prints '*' whenever the
// machine is busy. The adaptive rules are tested in test/stack/traceroute.test.ts.
const FIXED_WAIT = ['-w', '2'];

const METHODS: [string, string[]][] = [
  ['udp (default)', []],
  ['-U', ['-U']],
  ['-I', ['-I']],
  ['-T', ['-T']],
];

for (const routers of [2, 4]) {
  describe.skipIf(!isRoot)(`a ${routers + 1}-hop chain (${isRoot ? 'namespaces' : needsRootReason})`, () => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await Lab.chain({ routers, ipv6: true, name: `tr${routers}` });
    });
    afterAll(async () => {
      await lab?.close();
    });

    for (const family of [4, 6] as const) {
      for (const [label, flags] of METHODS) {
        it(`IPv${family} ${label}: the routers, then the destination, as traceroute finds them`, async () => {
          const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
          const want = [...lab.routers.map((r) => (family === 4 ? r.v4 : r.v6)), dst].map((a) => [a]);
          const args = ['traceroute', '-n', ...FIXED_WAIT, ...flags, dst];
          const ours = await sockitIn(lab, lab.src, args);
          expect(ours.stderr).toBe('');
          expect(ours.code).toBe(0);
          expect(hopAddresses(ours.stdout)).toEqual(want);
          const theirs = await lab.exec(lab.src, args);
          expect(hopAddresses(theirs.stdout)).toEqual(want);
          // the same bytes but for the times
          expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
        });
      }
    }
  });
}

describe.skipIf(!isRoot)(`trouble on the path (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 3, ipv6: true, name: 'trtrbl' });
  });
  afterAll(async () => {
    await lab?.close();
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: a silent router is '* * *' and the trace goes on past it`, async () => {
      await lab.silent(lab.routers[1], 'icmp-errors');
      try {
        const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
        const r = await sockitIn(lab, lab.src, ['traceroute', '-n', dst]);
        const at = (n: { v4: string; v6: string }) => [family === 4 ? n.v4 : n.v6];
        expect(hopAddresses(r.stdout)).toEqual([at(lab.routers[0]), [], at(lab.routers[2]), [dst]]);
        expect(r.stdout.split('\n')[2]).toBe(' 2  * * *');
        const theirs = await lab.exec(lab.src, ['traceroute', '-n', dst]);
        expect(hopAddresses(theirs.stdout)).toEqual(hopAddresses(r.stdout));
      } finally {
        await lab.silent(lab.routers[1], 'none');
      }
    });
  }

  /** Start argv at the source, wait until `ready` matches its stdout, SIGINT it, and see how it ended. */
  async function interrupt(argv: string[], ready: RegExp) {
    const r = new Running(lab.spawn(lab.src, argv, { env: { NO_COLOR: '1' } }));
    const deadline = Date.now() + 10_000;
    while (!ready.test(r.stdout) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(r.stdout).toMatch(ready);
    // a little longer: nothing more can come, hop 2 waits 3 s
    await new Promise((res) => setTimeout(res, 200));
    r.kill('SIGINT');
    const end = await r.exited;
    return { stdout: r.stdout, stderr: r.stderr, ...end };
  }

  it('SIGINT during a silent hop: killed by the signal like traceroute (the shell sees 130), the printed hops kept', async () => {
    await lab.silent(lab.routers[1], 'icmp-errors');
    try {
      const args = ['traceroute', '-n', '-w', '3', lab.dst.v4];
      const hop1 = new RegExp(`\\n 1  ${lab.routers[0].v4.replaceAll('.', '\\.')}( {2}\\d+\\.\\d{3} ms){3}$`);
      const ours = await interrupt([process.execPath, sockitBin, ...args], hop1);
      const theirs = await interrupt(args, hop1);
      expect(theirs).toMatchObject({ code: null, signal: 'SIGINT' });
      expect(ours).toMatchObject({ code: null, signal: 'SIGINT', stderr: '' });
      // what was printed stays as it was: no line end added, nothing of the pending hop
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
      expect(ours.stdout.split('\n')).toHaveLength(2);
      // --json: the records so far, then the summary with the status the shell sees
      const json = await interrupt([process.execPath, sockitBin, 'traceroute', '--json', ...args.slice(1)], /"type":"hop","hop":1,/);
      expect(json).toMatchObject({ code: null, signal: 'SIGINT', stderr: '' });
      expect(vocabularyProblems(json.stdout, 130)).toEqual([]);
      const lines = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.type)).toEqual(['start', 'reply', 'reply', 'reply', 'hop', 'summary']);
      expect(lines.at(-1)).toMatchObject({ hops: 1, reached: false, signal: 'SIGINT', exit_code: 130 });
      // in a shell: `&&` stops, the status is 130, for traceroute and for sockit alike
      const chain = async (cmd: string) => {
        const sh = new Running(lab.spawn(lab.src, ['sh', '-c', `${cmd} && echo next; echo status=$?`], { env: { NO_COLOR: '1' } }));
        while (!hop1.test(sh.stdout)) await new Promise((res) => setTimeout(res, 20));
        const { execFileSync } = await import('node:child_process');
        process.kill(Number(execFileSync('pgrep', ['-P', String(sh.pid)], { encoding: 'utf8' }).trim()), 'SIGINT');
        await sh.exited;
        return sh.stdout.slice(sh.stdout.lastIndexOf(' ms') + 3);
      };
      expect(await chain(`${process.execPath} ${sockitBin} ${args.join(' ')}`)).toBe('status=130\n');
      expect(await chain(args.join(' '))).toBe('status=130\n');
    } finally {
      await lab.silent(lab.routers[1], 'none');
    }
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family} --json: a silent hop is three timeout records`, async () => {
      await lab.silent(lab.routers[1], 'icmp-errors');
      try {
        const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
        const r = await sockitIn(lab, lab.src, ['traceroute', '-n', '--json', dst]);
        expect(r.code).toBe(0);
        expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
        const lines = jsonLines(r);
        expect(lines.filter((l) => l.hop === 2 && l.type !== 'hop')).toEqual([1, 2, 3].map((probe) => ({ type: 'timeout', hop: 2, probe, annotation: null })));
        expect(lines.find((l) => l.type === 'hop' && l.hop === 2)).toMatchObject({ addresses: [], final: false });
        expect(lines.at(-1)).toMatchObject({ type: 'summary', hops: 4, reached: true, exit_code: 0 });
        expect(lines[0]).toMatchObject({ family });
      } finally {
        await lab.silent(lab.routers[1], 'none');
      }
    });
  }

  it('a send that fails ends the trace, exit 1: stdout as traceroute leaves it, the error after a line end on stderr', async () => {
    await lab.unreachable(lab.src, '203.0.113.0/24', 'prohibit');
    try {
      const args = ['traceroute', '-n', '203.0.113.1'];
      const ours = await sockitIn(lab, lab.src, args);
      const theirs = await lab.exec(lab.src, args);
      expect([ours.code, theirs.code]).toEqual([1, 1]);
      expect(ours.stdout).toBe(theirs.stdout);
      expect(theirs.stderr).toBe('\nconnect: Permission denied\n');
      expect(ours.stderr).toBe('\nsockit traceroute: connect: Permission denied\n');
      const json = await sockitIn(lab, lab.src, ['traceroute', '--json', ...args.slice(1)]);
      expect(json.code).toBe(1);
      expect(json.stderr).toBe('sockit traceroute: connect: Permission denied\n');
      expect(vocabularyProblems(json.stdout, json.code)).toEqual([]);
      const lines = jsonLines(json);
      expect(lines.map((l) => l.type)).toEqual(['start', 'error', 'summary']);
      expect(lines[1]).toEqual({ type: 'error', kind: 'send', code: 'EACCES', message: 'connect: Permission denied' });
      expect(lines[2]).toMatchObject({ hops: 0, reached: false, exit_code: 1 });
    } finally {
      await lab.exec(lab.src, ['ip', 'route', 'del', '203.0.113.0/24']);
    }
  });

  it('IPv4: no route at a router gives !H and the trace stops there', async () => {
    await lab.unreachable(lab.routers[1], `${lab.dst.v4}/32`, 'host');
    try {
      // few probes at once: the kernel lets a router send only 5 such errors in a burst
      const r = await sockitIn(lab, lab.src, ['traceroute', '-n', ...FIXED_WAIT, '-N', '3', lab.dst.v4]);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[2]).toMatch(new RegExp(`^ 2  ${lab.routers[1].v4.replaceAll('.', '\\.')}( {2}\\d+\\.\\d{3} ms !H){3}$`));
    } finally {
      await lab.exec(lab.routers[1], ['ip', 'route', 'del', `${lab.dst.v4}/32`]);
    }
  });

  for (const [kind, note] of [
    ['net', '!N'],
    ['prohibit', '!X'],
  ] as const) {
    it(`IPv6: a router's ${kind} route gives ${note} and the trace stops there`, async () => {
      await lab.unreachable(lab.routers[1], `${lab.dst.v6}/128`, kind);
      try {
        const r = await sockitIn(lab, lab.src, ['traceroute', '-n', ...FIXED_WAIT, lab.dst.v6]);
        const lines = r.stdout.trimEnd().split('\n');
        expect(lines).toHaveLength(3);
        expect(lines[2]).toMatch(new RegExp(`^ 2  ${lab.routers[1].v6}( {2}\\d+\\.\\d{3} ms ${note}){3}$`));
        const theirs = await lab.exec(lab.src, ['traceroute', '-n', ...FIXED_WAIT, lab.dst.v6]);
        expect(normalize(r.stdout)).toBe(normalize(theirs.stdout));
      } finally {
        await lab.exec(lab.routers[1], ['ip', '-6', 'route', 'del', `${lab.dst.v6}/128`]);
      }
    });
  }

  for (const family of [4, 6] as const) {
    it(`IPv${family} --mtu: a 1400-byte link reports F=1400 at the hop past its router`, async () => {
      await lab.mtu(2, 1400); // r2 - r3: r2's "frag needed" answers the probes meant for hop 3
      try {
        const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
        for (const flags of [[], ['-I']]) {
          const r = await sockitIn(lab, lab.src, ['traceroute', '-n', ...FIXED_WAIT, '--mtu', ...flags, dst]);
          const lines = r.stdout.trimEnd().split('\n');
          expect(lines[0]).toBe(`traceroute to ${dst} (${dst}), 30 hops max, 65000 byte packets`);
          expect(lines[1]).toMatch(/^ 1  \S+ {2}\d+\.\d{3} ms F=1500 /);
          expect(lines[2]).not.toContain('F=');
          expect(lines[3]).toMatch(/^ 3  \S+ {2}\d+\.\d{3} ms F=1400 /);
          const theirs = await lab.exec(lab.src, ['traceroute', '-n', ...FIXED_WAIT, '--mtu', ...flags, dst]);
          expect(normalize(r.stdout)).toBe(normalize(theirs.stdout));
        }
      } finally {
        await lab.mtu(2, 1500);
      }
    });
  }
});

describe.skipIf(!isRoot)(`TCP, privilege and output (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 1, ipv6: true, name: 'trtcp' });
    lab.hosts(lab.src, [`${lab.routers[0].v4} router1`, `${lab.dst.v4} dsthost`, `${lab.routers[0].v6} router1-6`, `${lab.dst.v6} dsthost6`]);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('-T to an open and to a closed port: both reached, and no connection is left behind', async () => {
    const server = lab.spawn(lab.dst, ['socat', 'TCP-LISTEN:8080,fork,reuseaddr', 'SYSTEM:true']);
    try {
      // wait for the listener
      for (let i = 0; i < 100; i++) {
        const ss = await lab.exec(lab.dst, ['ss', '-Htln', 'sport = :8080']);
        if (ss.stdout.includes('8080')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const port of ['8080', '8081']) {
        const r = await sockitIn(lab, lab.src, ['traceroute', '-n', '-T', '-p', port, lab.dst.v4]);
        expect(hopAddresses(r.stdout)).toEqual([[lab.routers[0].v4], [lab.dst.v4]]);
        const jr = await sockitIn(lab, lab.src, ['traceroute', '-n', '--json', '-T', '-p', port, lab.dst.v4]);
        expect(vocabularyProblems(jr.stdout, jr.code)).toEqual([]);
        const json = jsonLines(jr);
        expect(json[0]).toMatchObject({ type: 'start', method: 'tcp', port: Number(port), mechanism: 'raw socket' });
        const last = json.filter((o) => o.type === 'reply' && o.hop === 2);
        expect(last.map((o) => o.tcp_flags)).toEqual(port === '8080' ? ['S.', 'S.', 'S.'] : ['R.', 'R.', 'R.']);
        expect(json.at(-1)).toMatchObject({ type: 'summary', reached: true, hops: 2, exit_code: 0 });
        // -O info: the flags of the final replies, as traceroute prints them
        const info = ['traceroute', '-n', ...FIXED_WAIT, '-T', '-O', 'info', '-p', port, lab.dst.v4];
        const ours = await sockitIn(lab, lab.src, info);
        expect(ours.stdout).toContain(` 2  ${lab.dst.v4} <${port === '8080' ? 'syn,ack' : 'rst,ack'}>  `);
        expect(normalize(ours.stdout)).toBe(normalize((await lab.exec(lab.src, info)).stdout));
      }
      // the SYN-ACKs were answered with RSTs by the kernel: nothing half-open or open
      await new Promise((r) => setTimeout(r, 50));
      const ss = await lab.exec(lab.dst, ['ss', '-Htan', 'sport = :8080']);
      expect(ss.stdout.split('\n').filter((l) => l && !/^LISTEN/.test(l))).toEqual([]);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('as nobody: UDP finds the same hops with no privilege; TCP says why it cannot', async () => {
    const root = await sockitIn(lab, lab.src, ['traceroute', '-n', lab.dst.v6]);
    const nobody = await sockitIn(lab, lab.src, ['traceroute', '-n', lab.dst.v6], { user: 'nobody' });
    expect(nobody.code).toBe(0);
    expect(hopAddresses(nobody.stdout)).toEqual(hopAddresses(root.stdout));
    expect(hopAddresses(nobody.stdout)).toEqual([[lab.routers[0].v6], [lab.dst.v6]]);
    const v4 = await sockitIn(lab, lab.src, ['traceroute', '-n', lab.dst.v4], { user: 'nobody' });
    expect(hopAddresses(v4.stdout)).toEqual([[lab.routers[0].v4], [lab.dst.v4]]);
    const tcp = await sockitIn(lab, lab.src, ['traceroute', '-T', lab.dst.v4], { user: 'nobody' });
    expect(tcp.code).toBe(2);
    expect(tcp.stdout).toBe('');
    expect(tcp.stderr).toMatch(
      /^sockit traceroute: no permission: the TCP method needs a raw socket, which needs CAP_NET_RAW; fix: use the default \(UDP\) method[^\n]*\n$/,
    );
  });

  it('-I as nobody uses a ping socket when ping_group_range allows it, else says what to change', async () => {
    await lab.pingGroupRange(lab.src, true);
    try {
      const r = await sockitIn(lab, lab.src, ['traceroute', '-n', '-I', lab.dst.v4], { user: 'nobody' });
      expect(r.code).toBe(0);
      expect(hopAddresses(r.stdout)).toEqual([[lab.routers[0].v4], [lab.dst.v4]]);
    } finally {
      await lab.pingGroupRange(lab.src, false);
    }
    const denied = await sockitIn(lab, lab.src, ['traceroute', '-n', '-I', lab.dst.v4], { user: 'nobody' });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/^sockit traceroute: no permission for an ICMP socket: [^\n]*\n$/);
  });

  it('names hops through the resolver unless -n, as traceroute does', async () => {
    const ours = await sockitIn(lab, lab.src, ['traceroute', ...FIXED_WAIT, 'dsthost']);
    expect(ours.stdout).toMatch(
      new RegExp(`^traceroute to dsthost \\(${lab.dst.v4}\\), 30 hops max, 60 byte packets\n 1  router1 \\(${lab.routers[0].v4}\\)  \\d`),
    );
    expect(ours.stdout).toContain(` 2  dsthost (${lab.dst.v4})  `);
    const theirs = await lab.exec(lab.src, ['traceroute', ...FIXED_WAIT, 'dsthost']);
    expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
  });

  it('--json: start, a reply per probe, a hop per TTL, then a summary, in the vocabulary', async () => {
    const r = await sockitIn(lab, lab.src, ['traceroute', '-n', '--json', '-q', '2', lab.dst.v4]);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const lines = jsonLines(r);
    expect(lines.map((l) => l.type)).toEqual(['start', 'reply', 'reply', 'hop', 'reply', 'reply', 'hop', 'summary']);
    expect(lines[0]).toMatchObject({
      host: lab.dst.v4,
      address: lab.dst.v4,
      family: 4,
      method: 'default',
      port: 33434,
      max_hops: 30,
      queries: 2,
      packet_bytes: 60,
      header_bytes: 28,
      data_bytes: 32,
      max_wait_ms: 5000,
      here_factor: 3,
      near_factor: 10,
      source: lab.src.v4,
    });
    expect(lines[1]).toMatchObject({
      hop: 1,
      probe: 1,
      from: lab.routers[0].v4,
      name: null,
      ttl: 64,
      annotation: null,
      final: false,
      icmp_type: 11,
      icmp_code: 0,
    });
    expect(lines[1].rtt_ms).toBeGreaterThan(0);
    expect(lines[3]).toMatchObject({ hop: 1, addresses: [lab.routers[0].v4], final: false });
    // the destination's port unreachable
    expect(lines[4]).toMatchObject({ hop: 2, probe: 1, from: lab.dst.v4, final: true, icmp_type: 3, icmp_code: 3 });
    expect(lines[6]).toMatchObject({ hop: 2, addresses: [lab.dst.v4], final: true });
    expect(lines[7]).toMatchObject({ type: 'summary', hops: 2, reached: true, exit_code: 0 });
    expect(lines[7].elapsed_ms).toBeGreaterThan(0);
  });

  it('--json without -n: each reply carries the name the text would print', async () => {
    const r = await sockitIn(lab, lab.src, ['traceroute', '--json', '-q', '1', '-6', 'dsthost6']);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const replies = jsonLines(r).filter((l) => l.type === 'reply');
    expect(replies.map((l) => [l.from, l.name])).toEqual([
      [lab.routers[0].v6, 'router1-6'],
      [lab.dst.v6, 'dsthost6'],
    ]);
    expect(jsonLines(r)[0]).toMatchObject({ family: 6, host: 'dsthost6', address: lab.dst.v6 });
  });

  // traceroute 2.x: the last of -I, -T, -U and -M NAME picks the method. A
  // packet length tells them apart in the header: ICMP and UDP honour it,
  // TCP's SYN is always its own size.
  const PRECEDENCE: [string[], string][] = [
    [['-T', '-I'], 'icmp'],
    [['-I', '-T'], 'tcp'],
    [['-M', 'tcp', '-I'], 'icmp'],
    [['-I', '-M', 'tcp'], 'tcp'],
    [['-U', '-T'], 'tcp'],
    [['-T', '-U'], 'udp'],
    [['-M', 'icmp', '-M', 'default'], 'default'],
  ];
  for (const [flags, method] of PRECEDENCE) {
    it(`traceroute ${flags.join(' ')}: the last method option wins (${method}), as in traceroute 2.x`, async () => {
      const args = ['traceroute', '-n', '-q', '1', ...FIXED_WAIT, ...flags, lab.dst.v4, '100'];
      const ours = await sockitIn(lab, lab.src, args);
      const theirs = await lab.exec(lab.src, args);
      expect(ours.code).toBe(0);
      expect(normalize(ours.stdout)).toBe(normalize(theirs.stdout));
      expect(ours.stdout.split('\n')[0]).toContain(method === 'tcp' ? ', 60 byte packets' : ', 100 byte packets');
      const json = await sockitIn(lab, lab.src, ['traceroute', '--json', ...args.slice(1)]);
      expect(vocabularyProblems(json.stdout, json.code)).toEqual([]);
      expect(jsonLines(json)[0]).toMatchObject({ type: 'start', method });
    });
  }

  it('packet lengths per method and family, as traceroute counts them', async () => {
    for (const [flags, len] of [
      [[], '20'],
      [['-I'], '20'],
      [['-U'], '1000'],
      [['-I', '-6'], '50'],
      [['-6'], '10'],
      [['-T'], '100'],
      [['-T', '-6'], '20'],
    ] as [string[], string][]) {
      const dst = flags.includes('-6') ? lab.dst.v6 : lab.dst.v4;
      const args = ['traceroute', '-n', '-q', '1', ...FIXED_WAIT, ...flags.filter((f) => f !== '-6'), dst, len];
      const ours = await sockitIn(lab, lab.src, args);
      const theirs = await lab.exec(lab.src, args);
      expect(ours.stdout.split('\n')[0], args.join(' ')).toBe(theirs.stdout.split('\n')[0]);
    }
  });
});
