// sockit dump against tcpdump and tshark on traffic made in a lab: the same
// lines for the same files, the same packets for the same filters, files
// written that both read back, and clean failures on damaged files.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sockit, sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';
import { type Captures, makeCaptures } from './dump-captures.js';
import { EXPRESSIONS } from './dump-expressions.js';

function tcpdump(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tcpdump', args, { encoding: 'latin1', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The packets an expression selects, by their -tt timestamps. */
const stamps = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0]);

describe.skipIf(!isRoot)(`sockit dump on captured traffic (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  let c: Captures;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 1, ipv6: true, name: 'dump' });
    c = await makeCaptures(lab);
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
    if (c && !process.env.SOCKIT_KEEP_CAPTURES) rmSync(c.dir, { recursive: true, force: true });
  });

  const files = () => [c.us, c.ns, c.ng];

  it('captured what the tests need', () => {
    const all = tcpdump(['-n', '-r', c.us]).stdout;
    for (const want of [
      /Flags \[S\]/,
      /Flags \[R\.\]/,
      /Flags \[P\.\]/,
      /UDP, length/,
      /ICMP echo request/,
      /time exceeded in-transit/,
      /udp port 9999 unreachable/,
      /ICMP6, echo request/,
      /neighbor solicitation/,
      /neighbor advertisement/,
      /ARP, Request/,
      /ARP, Reply/,
      /4242\+ A\? host\.example\./,
      /4243\* 2\/0\/0 CNAME alias\.example\., A 192\.0\.2\.99/,
      /NXDomain/,
      /frag \(0\|/,
      /ip-proto-1/,
      /multicast listener report/,
    ])
      expect(all).toMatch(want);
    expect(tcpdump(['-n', '-e', '-r', c.us]).stdout).toMatch(/vlan 20, p 3/);
    const verbose = tcpdump(['-n', '-vv', '-r', c.us]).stdout;
    for (const want of [
      /options \(NOP,RR /,
      /options \(timestamp TS\{TSONLY /,
      /NTPv4, Client, length 48\n\tLeap indicator/,
      /NTPv4, Server, length 48\n\tLeap indicator: {2}\(0\), Stratum 2 \(secondary reference\)/,
      /router advertisement, length 64\n\thop limit 64, Flags \[managed\]/,
      /prefix info option \(3\), length 32 \(4\): 2001:db8:5::\/64, Flags \[onlink, auto\]/,
      /\[gaddr ff02::1:ff00:99 to_ex \{ \}\]/,
      / q: A\? host\.example\. /,
    ])
      expect(verbose).toMatch(want);
  });

  for (const flags of [
    [],
    ['-tt'],
    ['-e'],
    ['-q'],
    ['-x'],
    ['-X'],
    ['-xx'],
    ['-XX'],
    ['-A'],
    ['-#'],
    ['-S'],
    ['-ttt'],
    ['-tttt'],
    ['-ttttt'],
    ['-e', '-q', '-#'],
    ['-v'],
    ['-v', '-e', '-X'],
    ['-vv'],
    ['-vvv'],
    ['-vv', '-e', '-q'],
  ]) {
    it(`prints what tcpdump -n ${flags.join(' ')} -r F prints, for pcap µs, pcap ns and pcapng`, async () => {
      for (const f of files()) {
        const want = tcpdump(['-n', ...flags, '-r', f]);
        const got = await sockit(['dump', '-n', ...flags, '-r', f]);
        expect(got.stderr).toBe(want.stderr);
        expect(got.stdout.split('\n')).toEqual(want.stdout.split('\n'));
        expect(got.code).toBe(0);
      }
    });
  }

  it('without -n prints the names tcpdump prints: hosts from the resolver, ports from /etc/services, MACs with their OUI', async () => {
    // both read the same /etc/hosts: `ip netns exec` bind-mounts the node's own over it
    const [src, r1, dst] = [lab.src, lab.routers[0]!, lab.dst];
    lab.hosts(src, [
      `${src.v4} src.lab`,
      `${dst.v4} dst.lab dst`,
      `${src.v6} src6.lab`,
      `${dst.v6} dst6.lab`,
      `${r1.v4} r1.lab`,
      'ff02::16 all-mldv2-routers',
      'ff02::1 ip6-allnodes',
    ]);
    lab.noDns(src);
    const named: string[] = [];
    for (const f of files()) {
      for (const flags of [[], ['-e'], ['-v'], ['-vv', '-e'], ['-q']]) {
        const want = await lab.exec(src, ['tcpdump', ...flags, '-r', f]);
        const got = await sockitIn(lab, src, ['dump', ...flags, '-r', f]);
        expect(got.stdout.split('\n'), `${f} ${flags.join(' ')}`).toEqual(want.stdout.split('\n'));
        expect(got.code).toBe(0);
        named.push(got.stdout);
      }
    }
    const all = named.join('');
    for (const want of [/src\.lab > dst\.lab: ICMP echo request/, /src6\.lab > dst6\.lab/, /dst\.lab\.domain > /, /\(oui Unknown\)/, /Broadcast/, /: icmp$/m])
      expect(all).toMatch(want);
  });

  it('honours TZ and --nano as tcpdump does', async () => {
    for (const tz of ['UTC', 'Asia/Kolkata', 'America/St_Johns']) {
      for (const flags of [[], ['--nano'], ['-tttt', '--nano']]) {
        const want = tcpdump(['-n', ...flags, '-r', c.ns], { TZ: tz });
        const got = await sockit(['dump', '-n', ...flags, c.ns], { env: { TZ: tz } });
        expect(got.stdout).toBe(want.stdout);
      }
    }
  });

  it(`selects the packets tcpdump selects, for ${EXPRESSIONS.length} expressions`, async () => {
    expect(EXPRESSIONS.length).toBeGreaterThanOrEqual(60);
    const { compileFilter, filterFunction, runFilter } = await import('../../src/stack/filter/index.js');
    const { readCapture } = await import('../../src/stack/capture/index.js');
    for (const f of [c.us, c.ng]) {
      const packets: { n: string; data: Buffer; len: number; lt: number }[] = [];
      for await (const ev of readCapture(
        (async function* () {
          yield readFileSync(f);
        })(),
      )) {
        if (ev.kind === 'packet')
          packets.push({
            n: `${ev.packet.sec}.${String(Math.floor(ev.packet.nsec / 1000)).padStart(6, '0')}`,
            data: Buffer.from(ev.packet.data),
            len: ev.packet.len,
            lt: ev.packet.linktype,
          });
      }
      let nonEmpty = 0;
      for (const e of EXPRESSIONS) {
        const want = tcpdump(['-n', '-tt', '-r', f, e]);
        expect(want.code, `tcpdump ${e}: ${want.stderr}`).toBe(0);
        const prog = compileFilter(e, packets[0]!.lt, 262144);
        const got = packets.filter((p) => runFilter(prog, p.data, p.len) > 0).map((p) => p.n);
        expect(got, `${f}: ${e}`).toEqual(stamps(want.stdout));
        // the program compiled to a function (what dump runs) keeps the interpreter's verdicts
        const match = filterFunction(prog);
        expect(
          packets.filter((p) => match(p.data, p.len) !== runFilter(prog, p.data, p.len)).map((p) => p.n),
          `${f}: ${e}`,
        ).toEqual([]);
        if (got.length > 0 && got.length < packets.length) nonEmpty++;
      }
      // the expressions tell packets apart: most select some but not all
      expect(nonEmpty).toBeGreaterThan(EXPRESSIONS.length / 2);
    }
  });

  it('filters on the command line as tcpdump does (the expression in one word or many)', async () => {
    for (const e of ['tcp port 5001', 'icmp or arp', 'vlan 20 and udp', 'not ip6']) {
      const want = tcpdump(['-n', '-r', c.us, e]);
      expect((await sockit(['dump', '-n', '-r', c.us, e])).stdout).toBe(want.stdout);
      expect((await sockit(['dump', '-n', c.us, ...e.split(' ')])).stdout).toBe(want.stdout);
    }
    const first = tcpdump(['-n', '-c', '3', '-r', c.us, 'ip']);
    expect((await sockit(['dump', '-n', '-c', '3', c.us, 'ip'])).stdout).toBe(first.stdout);
  });

  it('reads a big capture (4 MiB and more: in a Node with a capped young generation) as tcpdump does', async () => {
    // the lab capture's records again and again, past the size dump relaunches itself at
    const small = readFileSync(c.us);
    const records = small.subarray(24);
    const copies = Math.ceil((4.5 * 2 ** 20) / records.length);
    const big = join(c.dir, 'big.pcap');
    writeFileSync(big, Buffer.concat([small.subarray(0, 24), ...Array.from({ length: copies }, () => records)]));
    const want = tcpdump(['-n', '-r', big]);
    const got = await sockit(['dump', '-n', '-r', big]);
    expect(got.code).toBe(0);
    expect(got.stdoutBytes.toString('latin1')).toBe(want.stdout);
    expect(got.stderr).toBe(want.stderr);
    // the same with a filter and a count, and without the relaunch
    const filtered = tcpdump(['-n', '-c', '25', '-r', big, 'icmp']);
    expect((await sockit(['dump', '-n', '-c', '25', '-r', big, 'icmp'])).stdoutBytes.toString('latin1')).toBe(filtered.stdout);
    expect((await sockit(['dump', '-n', '-c', '25', '-r', big, 'icmp'], { env: { SOCKIT_NO_RELAUNCH: '1' } })).stdoutBytes.toString('latin1')).toBe(
      filtered.stdout,
    );
    rmSync(big);
  });

  it('reads standard input (-r - and a bare -) as tcpdump -r - does', async () => {
    const bytes = readFileSync(c.ng);
    const want = spawnSync('tcpdump', ['-n', '-r', '-'], { input: bytes, encoding: 'latin1' });
    for (const args of [['-r', '-'], ['-']]) {
      const got = await sockit(['dump', '-n', ...args], { input: bytes });
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe(want.stderr);
    }
  });

  it('writes pcap and pcapng that tcpdump and tshark read back as the original', async () => {
    const want = tcpdump(['-n', '-r', c.us]).stdout;
    for (const [format, name] of [
      ['pcap', 'out.pcap'],
      ['pcapng', 'out.pcapng'],
    ] as const) {
      const out = join(c.dir, name);
      const w = await sockit(['dump', '-r', c.us, '-w', out, '--format', format]);
      expect(w.code).toBe(0);
      expect(w.stdout).toBe('');
      expect(tcpdump(['-n', '-r', out]).stdout).toBe(want);
      expect((await sockit(['dump', '-n', out])).stdout).toBe(want);
      const ts = spawnSync('tshark', ['-n', '-r', out, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
      const orig = spawnSync('tshark', ['-n', '-r', c.us, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
      expect(ts.status).toBe(0);
      expect(ts.stdout).toBe(orig.stdout);
    }
    // a filter while writing keeps what tcpdump -w keeps
    const mine = join(c.dir, 'icmp-mine.pcap'),
      theirs = join(c.dir, 'icmp-theirs.pcap');
    await sockit(['dump', '-r', c.ns, '-w', mine, 'icmp or icmp6']);
    tcpdump(['-r', c.ns, '-w', theirs, 'icmp or icmp6']);
    expect(tcpdump(['-n', '--nano', '-r', mine]).stdout).toBe(tcpdump(['-n', '--nano', '-r', theirs]).stdout);
    expect(readFileSync(mine).subarray(24)).toEqual(readFileSync(theirs).subarray(24));
  });

  it('prints one JSON packet record per packet in the vocabulary, then a summary', async () => {
    const r = await sockit(['dump', '--json', '-r', c.us]);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const count = tcpdump(['-n', '-r', c.us]).stdout.split('\n').filter(Boolean).length;
    expect(recs.filter((x) => x.type === 'packet')).toHaveLength(count);
    expect(recs.at(-1)).toMatchObject({ type: 'summary', exit_code: 0, packets: count, matched: count });
    const syn = recs.find((x) => x.type === 'packet' && x.layers.some((l: any) => l.layer === 'tcp' && l.flags === 'S'))!;
    const tcp = syn.layers.find((l: any) => l.layer === 'tcp');
    expect(tcp.destination).toEqual({ family: 4, address: lab.dst.v4, port: 5001 });
    expect(syn.layers.map((l: any) => l.layer)).toEqual(['ether', 'ipv4', 'tcp']);
    const dns = recs.find((x) => x.type === 'packet' && x.layers.some((l: any) => l.layer === 'dns' && l.response && l.id === 4243))!;
    expect(dns.layers.at(-1).answers.map((a: any) => a.data)).toEqual(['alias.example.', '192.0.2.99']);
  });

  it('every truncation of a file prints what was read, then one line, exit as tcpdump does', async () => {
    const whole = readFileSync(c.us);
    const cuts = [0, 3, 10, 24, 30, 39, 40, 41, 100, 500, whole.length - 1];
    for (const n of cuts) {
      const f = join(c.dir, `cut-${n}.pcap`);
      writeFileSync(f, whole.subarray(0, n));
      const want = tcpdump(['-n', '-r', f]);
      const got = await sockit(['dump', '-n', '-r', f]);
      expect(got.stdout, `cut at ${n}`).toBe(want.stdout);
      expect(got.code, `cut at ${n}`).toBe(want.code);
      const theirs = want.stderr
        .split('\n')
        .filter((l) => l.startsWith('tcpdump:'))
        .map((l) => l.replace(/^tcpdump: (pcap_loop: )?/, ''));
      const mine = got.stderr
        .split('\n')
        .filter((l) => l.startsWith('sockit dump:'))
        .map((l) => l.replace(/^sockit dump: /, ''));
      expect(mine, `cut at ${n}`).toEqual(theirs);
    }
  });

  // Issue 14: every snapshot length from a bare Ethernet header to past the
  // transport headers, cut by editcap -s, printed as tcpdump -n prints it:
  // each printer stops where print-*.c stops (ND_TCHECK, GET_* longjmps) and
  // prints what it read so far, then its [|proto] mark.
  it('prints what tcpdump prints at every snapshot length (editcap -s 14..130)', async () => {
    let marks = 0;
    for (let n = 14; n <= 130; n++) {
      const f = join(c.dir, `snap-${n}.pcap`);
      const e = spawnSync('editcap', ['-s', String(n), c.us, f], { encoding: 'utf8' });
      expect(e.status, e.stderr).toBe(0);
      const want = tcpdump(['-n', '-r', f]);
      expect(want.code, want.stderr).toBe(0);
      const got = await sockit(['dump', '-n', '-r', f]);
      expect(got.stdout.split('\n'), `-s ${n}`).toEqual(want.stdout.split('\n'));
      marks += (want.stdout.match(/\[\|\w+\]/g) ?? []).length;
      rmSync(f);
    }
    // the lengths cut every layer: the comparison saw many truncation marks
    expect(marks).toBeGreaterThan(500);
  }, 300_000);
});

describe('sockit dump -d and bad expressions', () => {
  // the expressions whose program libpcap's optimizer leaves in the shape sockit's
  // generator (with its load elimination and jump threading) produces
  const SAME_AS_TCPDUMP = [
    'ip',
    'arp',
    'ip6',
    'icmp',
    'tcp',
    'udp',
    'icmp6',
    'ip6 proto 6',
    'ip proto 6',
    'vlan',
    'len > 100',
    'greater 50',
    'ip[2:2] > 100',
    'ether broadcast',
    'ether multicast',
    'ether[0] & 1 = 1',
    'ip6 host 2001:db8::1',
    'ether host 02:00:00:00:00:01',
    'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn',
    'icmp or arp',
  ];
  it(`prints the program tcpdump -d prints, for ${SAME_AS_TCPDUMP.length} expressions`, async () => {
    for (const e of SAME_AS_TCPDUMP) {
      const want = spawnSync('tcpdump', ['-d', e], { encoding: 'utf8' });
      const got = await sockit(['dump', '-d', e]);
      expect(got.stdout, e).toBe(want.stdout);
      expect(got.code).toBe(0);
    }
  });

  it('a bad expression is one line naming the word, exit 2', async () => {
    for (const [e, word] of [
      ['tcp and', 'the end'],
      ['host 192.0.2.1 xor 7', "'xor' (word 3)"],
      ['port 99999', "'99999' (word 2)"],
      ['host no.such.name', "'no.such.name' (word 2)"],
      ['ip[1:3] = 0', "'3'"],
    ]) {
      const r = await sockit(['dump', '-d', e!]);
      expect(r.code, e).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^sockit dump: expression: /);
      expect(lines[0]).toContain(word);
    }
  });

  it('usage errors and a missing file are one line each', async () => {
    const missing = await sockit(['dump', '-n', '/nonexistent/x.pcap']);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe('sockit dump: /nonexistent/x.pcap: No such file or directory\n');
    // a file that opens but cannot be read: tcpdump's words, the real one run on the same path
    const dir = await sockit(['dump', '-n', '-r', '/']);
    const theirs = spawnSync('tcpdump', ['-n', '-r', '/'], { encoding: 'utf8' });
    expect(theirs.stderr).toBe('tcpdump: error reading dump file: Is a directory\n');
    expect([dir.code, dir.stdout, dir.stderr]).toEqual([1, '', theirs.stderr.replace(/^tcpdump:/, 'sockit dump:')]);
    const count = await sockit(['dump', '-c', 'x', '-']);
    expect(count.code).toBe(2);
    expect(count.stderr).toBe('sockit dump: invalid packet count x\n');
    const none = await sockit(['dump']);
    expect(none.code).toBe(2);
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
