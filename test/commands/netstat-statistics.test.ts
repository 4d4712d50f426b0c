// sockit netstat -s against net-tools netstat -s (2.10): first on the
// counters of a lab namespace after some traffic (both tools read the same
// kernel state; the few IPv6 counters that the link's own chatter moves
// between the two runs are masked by name), then on counter files made up
// here — every counter the kernel has, names it no longer has, unknown
// groups, zeros, -1 and values past 2^53 — put in a private /proc (a tmpfs
// over /proc in a mount namespace), where both tools read exactly the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, isRoot } from '../lab/index.js';
import { sockitBin, sockitIn } from '../helpers/cli.js';
import { lcg } from '../helpers/fuzz.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

const VARIANTS = [['-s'], ['-st'], ['-su'], ['-sw'], ['-stu'], ['-s', '--inet'], ['-s4'], ['-s6'], ['-s6t'], ['-s6u'], ['-s6w'], ['-s', '--inet6', '-u']];

/** IPv6 neighbour discovery and MLD on the lab's link tick these between two runs */
const MOVING = [
  /^( {4})\d+( (total packets received|incoming packets delivered|requests sent out|outgoing multicast packets|incoming multicast packets|ICMP messages (received|sent)))$/,
  /^( {8})\d+()$/, // never used: keeps the group numbering of the others
  /^( +)(Ip6(In|Out)(Mcast)?Octets|Ip6InNoECTPkts|Ip6OutTransmits|Icmp6OutMLDv2Reports|Icmp6(In|Out)Type13[3-6]|Icmp6(In|Out)Type143): \d+$/,
  /^( +)(neighbor solicits|neighbour solicits|router solicits|neighbor advertisements|neighbour advertisement|router advertisement): \d+$/,
];

function maskMoving(text: string, v6: boolean): string {
  if (!v6) return text;
  let group = '';
  return text
    .split('\n')
    .map((l) => {
      if (/^\S/.test(l)) group = l;
      if (group !== 'Ip6:' && group !== 'Icmp6:') return l;
      if (MOVING[0]!.test(l)) return l.replace(/\d+/, 'N');
      if (MOVING[2]!.test(l) || MOVING[3]!.test(l)) return l.replace(/\d+$/, 'N');
      return l;
    })
    .join('\n');
}

describe.skipIf(!isRoot)('netstat -s is net-tools netstat -s', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'nstat' });
    // something in every group: echo, a port unreachable, a refused and a completed connection
    for (const argv of [
      ['ping', '-c2', '-i0.2', lab.dst.v4],
      ['ping', '-6', '-c2', '-i0.2', lab.dst.v6!],
      [
        'python3',
        '-c',
        `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b"x",("${lab.dst.v4}",9))\nc=socket.socket()\ntry: c.connect(("${lab.dst.v4}",9))\nexcept OSError: pass\nl=socket.socket(); l.bind(("127.0.0.1",0)); l.listen(); a=socket.create_connection(l.getsockname()); b,_=l.accept(); a.send(b"hi"); b.recv(2); a.close(); b.close()`,
      ],
    ]) {
      const r = await lab.exec(lab.src, argv);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 30_000);

  afterAll(async () => {
    await lab?.close();
  });

  for (const args of VARIANTS) {
    it(`sockit netstat ${args.join(' ')} on a namespace's counters`, async () => {
      const theirs = await lab.exec(lab.src, ['netstat', ...args]);
      const ours = await sockitIn(lab, lab.src, ['netstat', ...args]);
      expect(ours.code).toBe(0);
      expect(ours.stderr).toBe('');
      const v6 = args.some((a) => a.includes('6'));
      expect(maskMoving(ours.stdout, v6)).toBe(maskMoving(theirs.stdout, v6));
      // the traffic above is there: the comparison is not of empty tables
      if (!v6 && !args.includes('-su')) expect(ours.stdout).toMatch(/^ {4}[1-9]\d* (active connection openings|total packets received)$/m);
    });
  }

  it('--json: one counter record per kernel counter, in the vocabulary', async () => {
    const r = await sockitIn(lab, lab.src, ['netstat', '-st', '--json']);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toContainEqual(expect.objectContaining({ type: 'counter', file: 'snmp', group: 'Tcp', name: 'MaxConn', value: -1 }));
    expect(recs.find((x) => x.name === 'ActiveOpens')!.value).toBeGreaterThanOrEqual(2);
    // -t leaves out Ip, Icmp and Udp (unknown groups such as IcmpMsg stay, as netstat prints them)
    expect(recs.some((x) => x.group === 'Udp' || x.group === 'Ip')).toBe(false);
    expect(recs.some((x) => x.group === 'TcpExt')).toBe(true);
  });
});

/** the counters of this host's /proc/net, with made-up values; extra names and groups */
function madeUp(seed: number): Record<string, string> {
  const rand = lcg(seed);
  const value = () => {
    const r = rand() % 10;
    if (r < 3) return '0';
    if (r === 3) return '-1';
    if (r === 4) return String((1n << 63n) + BigInt(rand()));
    return String(rand() % 100000);
  };
  const pairs = (text: string, extra: [string, string[]][]) => {
    const lines = text.split('\n').filter(Boolean);
    const out: string[] = [];
    const groups: [string, string[]][] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) groups.push([lines[i]!.split(':')[0]!, lines[i]!.split(':')[1]!.trim().split(/\s+/)]);
    for (const [g, names] of [...groups, ...extra]) out.push(`${g}: ${names.join(' ')}`, `${g}: ${names.map(value).join(' ')}`);
    return out.join('\n') + '\n';
  };
  const snmp6 = readFileSync('/proc/net/snmp6', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => `${l.split(/\s+/)[0]!.padEnd(32)}\t${value()}`);
  return {
    snmp: pairs(readFileSync('/proc/net/snmp', 'utf8'), [
      ['Sctp', ['SctpCurrEstab']],
      ['Made', ['Up', 'Counters']],
    ]),
    // names older kernels had, and names out of net-tools' strcmp order
    netstat: pairs(readFileSync('/proc/net/netstat', 'utf8'), [
      ['TcpExt', ['TCPPrequeued', 'TCPDSackUndo', 'TCPDSACKUndo', 'TWRecycled', 'TCPForwardRetrans', 'TCPFACKReorder', 'SockMallocOOM', 'TW', 'TWKilled']],
    ]),
    snmp6: [...snmp6, `${'Ip6FragOKs'.padEnd(32)}\t${value()}`, `${'Udp6Made'.padEnd(32)}\t${value()}`].join('\n') + '\n',
    'sctp/snmp': ['SctpCurrEstab', 'SctpActiveEstabs', 'SctpInSCTPPacks', 'SctpT1InitExpireds'].map((n) => `${n.padEnd(32)}\t${value()}`).join('\n') + '\n',
  };
}

describe.skipIf(!isRoot)('netstat -s on made-up counters in a private /proc', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sockit-snmp-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** both tools in one mount namespace whose /proc is a tmpfs holding only `files` */
  function inPrivateProc(files: Record<string, string>, args: string[]): { theirs: string; ours: string } {
    rmSync(join(dir, 'net'), { recursive: true, force: true });
    mkdirSync(join(dir, 'net', 'sctp'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'net', name), text);
    const q = (a: string[]) => a.map((x) => `'${x}'`).join(' ');
    const script =
      `mount --make-rprivate / && mount -t tmpfs none /proc && cp -r '${dir}/net' /proc/ && ` +
      `netstat ${q(args)} > '${dir}/theirs' 2>&1; '${process.execPath}' '${sockitBin}' netstat ${q(args)} > '${dir}/ours' 2>&1`;
    execFileSync('unshare', ['-m', 'sh', '-c', script], { env: { ...process.env, NO_COLOR: '1' } });
    return { theirs: readFileSync(join(dir, 'theirs'), 'utf8'), ours: readFileSync(join(dir, 'ours'), 'utf8') };
  }

  it('byte for byte, for every narrowing, on five sets of values', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const files = madeUp(seed);
      for (const args of VARIANTS) {
        const { theirs, ours } = inPrivateProc(files, args);
        expect(ours, `seed ${seed}, ${args.join(' ')}`).toBe(theirs);
      }
    }
    // the made-up values reach the corners: unknown names, wrapped -1, huge values, histograms
    const { ours } = inPrivateProc(madeUp(3), ['-s']);
    expect(ours).toMatch(/^ {4}Forwarding: \d+$/m);
    expect(ours).toMatch(/^Made:$/m);
    expect(ours).toContain('18446744073709551615');
    expect(ours).toMatch(/^ {4}ICMP input histogram:$/m);
  }, 120_000);
});
