// sockit ss and sockit netstat against iproute2 ss and net-tools netstat,
// in a lab namespace holding only the sockets test/fixtures/sockets.py
// opens (every kind: listeners, pairs, TIME_WAIT, UDP, raw, unix, IPv6,
// v4-mapped). Both tools run in the same namespace, as root and as nobody;
// lines are compared sorted, with the timers that move between the two
// runs masked explicitly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Lab, isRoot, type User } from '../lab/index.js';
import { sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

interface Fixture {
  tcp4_any: number;
  tcp4_lo: number;
  tcp6_only: number;
  tcp6_dual: number;
  tcp4_client: number;
  tcp6_client: number;
  mapped_client: number;
  timewait_client: number;
  udp4_any: number;
  udp4_lo: number;
  udp_connected: number;
  udp6: number;
  stream_path: string;
  dgram_path: string;
  abstract: string;
  pid: number;
}

/** ss's timers ("timer:(timewait,59sec,0)") and netstat's ("timewait (59.87/0/0)") count down between runs */
const maskTimers = (s: string) =>
  s.replace(/timer:\((\w+),[^,]*,(\d+)\)/g, 'timer:($1,T,$2)').replace(/\b(on\d?|off|keepalive|timewait|probe) \(\d+\.\d\d\//g, '$1 (T/');

/** Header lines first, the rest sorted: the two tools need not dump in one order. */
function lines(text: string, header: number): string[] {
  const all = maskTimers(text).split('\n');
  if (all.at(-1) === '') all.pop();
  const out: string[] = [];
  let i = 0;
  // netstat prints two tables, each with a two-line title
  const block: string[] = [];
  const flush = () => {
    out.push(...block.sort());
    block.length = 0;
  };
  for (const l of all) {
    if (i++ < header || /^(Active |Proto |State |Netid |Recv-Q )/.test(l)) {
      flush();
      out.push(l);
    } else block.push(l);
  }
  flush();
  return out;
}

describe.skipIf(!isRoot)('ss and netstat match the real tools in a lab namespace', () => {
  let lab: Lab;
  let fixture: ChildProcess;
  let fx: Fixture;
  let dir: string;

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'netstat' });
    dir = mkdtempSync(join(tmpdir(), 'sockit-inv-'));
    chmodSync(dir, 0o755);
    fixture = lab.spawn(lab.src, ['python3', 'test/fixtures/sockets.py', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    fx = await new Promise<Fixture>((resolve, reject) => {
      let out = '';
      fixture.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as Fixture);
      });
      fixture.on('exit', (code) => reject(new Error(`sockets.py exited ${code}`)));
    });
  }, 30_000);

  afterAll(async () => {
    fixture?.stdin?.end();
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Both tools on one input. sockit ss is run with iproute2 6.1's Process
   * column (SOCKIT_SS_LAYOUT=6.1) to compare byte for byte with the ss
   * installed here; its own, fixed, layout is compared with 6.1 apart from
   * exactly that column in 'the Process column' below.
   */
  async function both(tool: 'ss' | 'netstat', args: string[], user: User = 'root', env: Record<string, string> = {}) {
    const theirs = await lab.exec(lab.src, [tool, ...args], { user });
    const ours = await sockitIn(lab, lab.src, [tool, ...args], { user, env: tool === 'ss' ? { SOCKIT_SS_LAYOUT: '6.1', ...env } : env });
    return { theirs, ours };
  }

  const ssCases: string[][] = [
    ['-tan'],
    ['-tuln'],
    ['-uan'],
    ['-wan'],
    ['-xa'],
    ['-xl'],
    ['-x'],
    ['-tanp'],
    ['-tane'],
    ['-tano'],
    ['-tanoe'],
    ['-ta', '-n', '-H'],
    ['-tan4'],
    ['-tan6'],
    ['-an', '-f', 'inet'],
    ['-A', 'tcp,udp', '-n'],
    ['-tn', 'state', 'established'],
    ['-tn', 'state', 'listening'],
    ['-tan', 'exclude', 'time-wait'],
    ['-tn', 'state', 'connected'],
    ['-tun', 'state', 'all'],
    ['-xn', 'state', 'connected'],
  ];
  for (const args of ssCases) {
    it(`sockit ss ${args.join(' ')} is ss ${args.join(' ')}`, async () => {
      const { theirs, ours } = await both('ss', args);
      expect(ours.code).toBe(0);
      expect(lines(ours.stdout, 1)).toEqual(lines(theirs.stdout, 1));
    });
  }

  // the order too: sockit walks TCP's two families at once (Inventory.tcpRaw) and must still list
  // every IPv4 socket before the IPv6 ones, each family in the kernel's order, as ss and netstat do
  for (const [tool, args] of [
    ['ss', ['-tan']],
    ['ss', ['-tln']],
    ['netstat', ['-tan']],
  ] as const) {
    it(`sockit ${tool} ${args.join(' ')} lists the sockets in ${tool}'s order (unsorted)`, async () => {
      const { theirs, ours } = await both(tool, [...args]);
      expect(ours.code).toBe(0);
      expect(theirs.stdout).toMatch(/\[::\]|::1|:::|ffff/); // both families are there
      expect(maskTimers(ours.stdout)).toBe(maskTimers(theirs.stdout));
    });
  }

  // -i's values move between two runs (rtt, last*, rates, busy) and the width of
  // the Process column is the longest of those lines: values masked, blanks folded
  const maskInfo = (t: string) =>
    maskTimers(t)
      .replace(
        /\b(lastsnd|lastrcv|lastack|busy|rtt|rto|minrtt|ato|rcv_rtt|delivered|segs_out|segs_in|bytes_acked|bytes_sent|bytes_received|data_segs_out|data_segs_in|rcv_space|rcv_ssthresh|cwnd|skmem):\S+/g,
        '$1:N',
      )
      .replace(/\b(send|pacing_rate|delivery_rate) \S+bps/g, '$1 Nbps')
      .replace(/bw:[^,]+,mrtt:[^,)]+/g, 'bw:N,mrtt:N')
      .replace(/ app_limited/g, '')
      .replace(/[ \t]+/g, ' ')
      .replace(/ $/gm, '');
  for (const args of [['-tin'], ['-tinpeom'], ['-uain'], ['-wain'], ['-tinO'], ['-tinpeomO']]) {
    it(`sockit ss ${args.join(' ')} is ss ${args.join(' ')} (tcp_info values masked)`, async () => {
      const { theirs, ours } = await both('ss', args);
      expect(ours.code).toBe(0);
      const norm = (t: string) => maskInfo(t.replace(/\n\t/g, ' \\t ')).split('\n').sort();
      expect(norm(ours.stdout)).toEqual(norm(theirs.stdout));
    });
  }

  it("ss -s: the summary from /proc/net/sockstat and snmp is ss's", async () => {
    for (const args of [['-s'], ['-s', '-a'], ['-s', '-tn']]) {
      const { theirs, ours } = await both('ss', args);
      expect(ours.code).toBe(0);
      // "Total" counts every socket of the namespace at the moment it is read, the
      // reader's own included (ss has none open yet; node has its own): masked, but near
      const total = (t: string) => Number(/^Total: (\d+)/.exec(t)?.[1]);
      expect(Math.abs(total(ours.stdout) - total(theirs.stdout)), args.join(' ')).toBeLessThanOrEqual(3);
      // TCP's "alloc" (the first number, and "closed" from it) also counts sockets not yet
      // freed (sock_put after an RCU grace period): it can differ by one between two reads
      const mask = (t: string) => t.replace(/^Total: \d+/, 'Total: N').replace(/^TCP: +\d+ \(estab (\d+), closed \d+,/m, 'TCP: N (estab $1, closed N,');
      expect(lines(mask(ours.stdout), 9), args.join(' ')).toEqual(lines(mask(theirs.stdout), 9));
    }
    const j = await sockitIn(lab, lab.src, ['ss', '-s', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(JSON.parse(j.stdout.split('\n')[0]!)).toMatchObject({ type: 'sockstat', tcp_tws: 1, raw4: 1, raw6: 1 });
  });

  it('the expression filter selects what ss selects', async () => {
    const filters = [
      ['sport', '=', `:${fx.tcp4_lo}`],
      ['dport', 'eq', `:${fx.tcp4_lo}`],
      ['src', '127.0.0.1'],
      ['dst', '[::1]'],
      ['(', 'sport', '>', ':1024', 'and', 'dport', '<', ':1024', ')'],
      ['not', 'src', '127.0.0.0/8'],
      ['src', `[::ffff:127.0.0.1]:${fx.tcp6_dual}`],
      ['dst', '127.0.0.1', 'or', 'dst', '[::1]'],
      [`sport >= :${fx.tcp6_dual} && ! dport = :0`],
      ['src', '*:' + String(fx.tcp4_any)],
      ['dport', '!=', `:${fx.tcp4_lo}`],
    ];
    for (const f of filters) {
      const { theirs, ours } = await both('ss', ['-tan', ...f]);
      expect(ours.code, f.join(' ')).toBe(0);
      expect(lines(ours.stdout, 1), f.join(' ')).toEqual(lines(theirs.stdout, 1));
    }
    // the filter picked something: a listener and its accepted pair
    const picked = await sockitIn(lab, lab.src, ['ss', '-tanH', 'sport', '=', `:${fx.tcp4_lo}`]);
    expect(picked.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('the filter runs in the kernel (INET_DIAG_REQ_BYTECODE): only matching sockets come back, as root and as nobody', async () => {
    const replies = async (args: string[], env: Record<string, string> = {}, user: User = 'root') => {
      const r = await sockitIn(lab, lab.src, ['ss', ...args, '--json'], { env, user });
      expect(r.code, args.join(' ')).toBe(0);
      const recs = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>);
      return {
        sockets: recs
          .filter((x) => x.type === 'socket')
          .map((x) => JSON.stringify([x.local, x.peer, x.state]))
          .sort(),
        replies: recs.at(-1)!.inet_diag_replies as number,
      };
    };
    const all = await replies(['-tan']);
    for (const user of ['root', 'nobody'] as const) {
      for (const f of [
        ['sport', '=', `:${fx.tcp4_lo}`],
        ['(', 'sport', '>', ':1024', 'and', 'dport', '<', ':1024', ')'],
        ['not', 'dport', '!=', `:${fx.tcp4_lo}`],
        ['dst', '127.0.0.1/32'],
      ]) {
        const kernel = await replies(['-tan', ...f], {}, user);
        const here = await replies(['-tan', ...f], { SOCKIT_BYTECODE: '0' }, user);
        // the same sockets either way; without the program every socket of the tables comes back
        expect(kernel.sockets, f.join(' ')).toEqual(here.sockets);
        expect(here.replies, f.join(' ')).toBe(all.replies);
        expect(kernel.replies, f.join(' ')).toBeLessThan(all.replies);
      }
      // one port: only its listener and the connection accepted on it are sent (IPv4; the IPv6 dump has none)
      const one = await replies(['-tan', 'sport', '=', `:${fx.tcp4_lo}`], {}, user);
      expect([one.sockets.length, one.replies]).toEqual([2, 2]);
    }
  });

  it('on a terminal the columns use its width, as ss spreads them (script(1) gives both a pty)', async () => {
    for (const cols of [40, 80, 132, 200]) {
      for (const args of ['-tan', '-xa', '-tuanp']) {
        const tty = (cmd: string) => lab.exec(lab.src, ['script', '-qec', `stty cols ${cols} rows 50; ${cmd}`, '/dev/null']);
        const theirs = await tty(`ss ${args}`);
        const ours = await tty(`SOCKIT_SS_LAYOUT=6.1 ${process.execPath} bin/sockit ss ${args}`);
        expect(lines(ours.stdout, 1), `${cols} columns, ${args}`).toEqual(lines(theirs.stdout, 1));
        expect(ours.stdout.split('\n')[0]!.replace(/\r$/, '').length, `${cols} columns`).toBeGreaterThanOrEqual(Math.min(cols, 60));
      }
    }
  });

  it('the Process column: sockit follows iproute2 6.8, which shows it only with -p and keeps users:(...) in it', async () => {
    const fixed = (args: string[]) => sockitIn(lab, lab.src, ['ss', ...args]);
    // without -p, 6.1 prints "Process" over the last column, glued to "Port" with -l, and pads every
    // line to its seven characters; the fixed ss prints neither: exactly that is taken off 6.1's text
    for (const args of [['-tln'], ['-uln'], ['-xl']]) {
      const theirs = await lab.exec(lab.src, ['ss', ...args]);
      const ours = await fixed(args);
      const [head, ...rows] = theirs.stdout.split('\n');
      expect(head, args.join(' ')).toMatch(/ Address:PortProcess$/);
      const expected = [head!.replace(/Process$/, ''), ...rows.map((r) => (r === '' ? r : r.slice(0, -'Process'.length)))].join('\n');
      expect(lines(ours.stdout, 1), args.join(' ')).toEqual(lines(expected, 1));
    }
    // with -p the header is there (glued with -l, as in later ss too), users:(...) has its column and
    // what follows it (-e, -o) its own: the same words as 6.1, the blanks between them differ
    const words = (t: string, p: boolean) =>
      maskTimers(t)
        .split('\n')
        .map((l, i) => (i === 0 ? l.replace(/Port ?Process *$/, p ? 'Port Process' : 'Port') : l).trim().split(/\s+/).join(' '))
        .sort();
    for (const args of [['-tanp'], ['-tlnp'], ['-tanpeo'], ['-xap'], ['-tane'], ['-tano']]) {
      const p = args[0]!.includes('p');
      const theirs = await lab.exec(lab.src, ['ss', ...args]);
      const ours = await fixed(args);
      expect(ours.code).toBe(0);
      expect(words(ours.stdout, p), args.join(' ')).toEqual(words(theirs.stdout, p));
      expect(ours.stdout.split('\n')[0]!.includes('Process'), args.join(' ')).toBe(p);
    }
    // users:(...) is padded to its column, then come the extras: their starts line up
    const o = await fixed(['-tanpe']);
    const owned = o.stdout.split('\n').filter((l) => l.includes('users:'));
    expect(owned.length).toBeGreaterThan(1);
    expect(new Set(owned.map((l) => l.indexOf(' ino:'))).size).toBe(1);
  });

  const netstatCases: string[][] = [
    ['-tan'],
    ['-tuln'],
    ['-uan'],
    ['-wan'],
    ['-xa'],
    ['-x'],
    ['-xl'],
    ['-tn'],
    ['-tanp'],
    ['-tanee'],
    ['-tanpee'],
    ['-tanoW'],
    ['-tuwan'],
    ['-an'],
    ['-4an'],
    ['-6an'],
    ['-tanW'],
    ['-xap'],
  ];
  for (const args of netstatCases) {
    it(`sockit netstat ${args.join(' ')} is netstat ${args.join(' ')}`, async () => {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      expect(lines(ours.stdout, 0)).toEqual(lines(theirs.stdout, 0));
    });
  }

  it('netstat -i and -ia: the interface table from RTM_GETLINK is the one netstat reads from /proc/net/dev', async () => {
    // down, so only -a shows them; vx10 after vx9 (nstrcmp)
    for (const [a, b] of [
      ['vx9', 'vy9'],
      ['vx10', 'vy10'],
    ]) {
      expect((await lab.exec(lab.src, ['ip', 'link', 'add', a!, 'type', 'veth', 'peer', 'name', b!])).code).toBe(0);
    }
    // eth0's packet counters move with the link's IPv6 chatter between the two runs: masked
    const mask = (t: string) => t.replace(/^(eth0 +\d+) +\d+(.{22}) +\d+/m, '$1 RX$2 TX');
    for (const args of [['-i'], ['-ia'], ['-ian']]) {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      expect(mask(ours.stdout), args.join(' ')).toBe(mask(theirs.stdout));
    }
    const j = await sockitIn(lab, lab.src, ['netstat', '-ia', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    const names = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name?: string })
      .map((r) => r.name)
      .filter(Boolean);
    expect(names).toEqual(['eth0', 'lo', 'vx9', 'vx10', 'vy9', 'vy10']);
  });

  it('netstat -g: group memberships from /proc/net/igmp and igmp6, as netstat prints them', async () => {
    // a group joined on eth0 besides the kernel's own (all-hosts, all-nodes)
    expect((await lab.exec(lab.src, ['ip', 'addr', 'add', '239.1.2.3/32', 'dev', 'eth0', 'autojoin'])).code).toBe(0);
    for (const args of [['-g'], ['-gn'], ['-g4n'], ['-g6n']]) {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      // in /proc's order; -4/-6 add the connection tables, compared sorted
      if (args[0]!.length === 3) expect(ours.stdout, args.join(' ')).toBe(theirs.stdout);
      else expect(lines(ours.stdout, 0), args.join(' ')).toEqual(lines(theirs.stdout, 0));
    }
    const j = await sockitIn(lab, lab.src, ['netstat', '-gn', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(j.stdout).toContain('{"type":"membership","family":4,"interface":"eth0","refcnt":1,"group":"239.1.2.3"}');
    expect(j.stdout).toContain('{"type":"membership","family":6,"interface":"lo","refcnt":1,"group":"ff02::1"}');
  });

  it('netstat -r: the routing table from RTM_GETROUTE is the one netstat reads from /proc/net/route', async () => {
    // names without DNS (there is none here): the gateway and the host route's target from the lab's hosts file
    lab.hosts(lab.src, [`${lab.dst.v4} gw-dst`, '203.0.113.5 host-five']);
    for (const route of [
      ['198.51.100.0/24', 'via', lab.dst.v4],
      ['203.0.113.5/32', 'via', lab.dst.v4],
      ['unreachable', '203.0.113.64/26'],
      ['198.51.100.128/25', 'dev', 'eth0', 'metric', '7', 'advmss', '1400', 'window', '1000'],
      ['default', 'via', lab.dst.v4],
    ]) {
      const r = await lab.exec(lab.src, ['ip', 'route', 'add', ...route]);
      expect(r.code, `${route.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // -C: the IPv4 routing cache, a header alone since Linux 3.6 (rt_cache), in each -e layout
    for (const args of [['-r'], ['-rn'], ['-rne'], ['-rnee'], ['-re'], ['-rC'], ['-rCe'], ['-rnCee'], ['-C', '-tn']]) {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      expect(ours.stdout, args.join(' ')).toBe(theirs.stdout);
      if (!args[0]!.includes('n') && !args.join('').includes('C'))
        expect(ours.stdout).toMatch(/^default +gw-dst .*\n(.*\n)*host-five +gw-dst +255\.255\.255\.255 UGH /m);
    }
    const j = await sockitIn(lab, lab.src, ['netstat', '-rn', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(j.stdout).toContain(`{"type":"route","family":4,"destination":"198.51.100.0","prefix_length":24,"gateway":"${lab.dst.v4}","interface":"eth0"`);
  });

  it('netstat -6 -r (and -A inet6, -e, both families): the table netstat reads from /proc/net/ipv6_route', async () => {
    // every destination is looked up without -n: names from the hosts file, the rest refused at once
    lab.hosts(lab.src, [`${lab.dst.v4} gw-dst`, '203.0.113.5 host-five', `${lab.dst.v6} gw6-dst`, '2001:db8:5::5 host6-five']);
    lab.noDns(lab.src);
    for (const route of [
      ['2001:db8:100::/48', 'via', lab.dst.v6!],
      ['2001:db8:5::5/128', 'via', lab.dst.v6!, 'metric', '7'],
      ['unreachable', '2001:db8:200::/48'],
      ['2001:db8:300::/56', 'dev', 'eth0', 'metric', '2048'],
    ]) {
      const r = await lab.exec(lab.src, ['ip', '-6', 'route', 'add', ...route]);
      expect(r.code, `${route.join(' ')}: ${r.stderr}`).toBe(0);
    }
    for (const args of [['-6', '-r'], ['-6', '-rn'], ['-A', 'inet6', '-rn'], ['-r6e'], ['-rn', '-A', 'inet6,inet'], ['-r', '-4', '-6'], ['-rC6'], ['-rnC46']]) {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      expect(ours.stdout, args.join(' ')).toBe(theirs.stdout);
    }
    const named = await sockitIn(lab, lab.src, ['netstat', '-6r']);
    expect(named.stdout).toMatch(/^host6-five\/128 +gw6-dst +UG +7 /m);
    expect(named.stdout).toMatch(/^2001:db8:200::\/48 +\[::\] +!n? /m);
    const j = await sockitIn(lab, lab.src, ['netstat', '-6rn', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(j.stdout).toContain(`{"type":"route","family":6,"destination":"2001:db8:100::","prefix_length":48,"gateway":"${lab.dst.v6}","interface":"eth0"`);
  });

  it("netstat -ie: ifconfig's blocks, from RTM_GETLINK, RTM_GETADDR and /proc/net/if_inet6", async () => {
    for (const cmd of [
      ['ip', 'link', 'add', 'vp0', 'type', 'veth', 'peer', 'name', 'vq0'],
      ['ip', 'link', 'set', 'vp0', 'up', 'mtu', '1280'],
      ['ip', 'addr', 'add', '198.51.100.7/25', 'dev', 'vp0'],
      ['ip', 'addr', 'add', '198.51.100.9/25', 'dev', 'vp0'],
      ['ip', 'addr', 'add', '2001:db8:77::7/64', 'dev', 'vp0', 'nodad'],
      ['ip', 'addr', 'add', '203.0.113.1', 'peer', '203.0.113.2', 'dev', 'vq0'],
      ['ip', 'link', 'set', 'vp0', 'promisc', 'on'],
      ['ip', 'link', 'set', 'vq0', 'txqueuelen', '77'],
    ]) {
      const r = await lab.exec(lab.src, cmd);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // the links' own IPv6 chatter moves the packet and byte counters of the up ones between the runs,
    // and vp0's drops (its peer is down)
    const mask = (t: string) =>
      t.replace(/^( {8}[RT]X packets )\d+  bytes \d+ \([\d.]+ \w+\)$/gm, '$1N  bytes N (N)').replace(/^( {8}TX errors \d+  dropped )\d+/gm, '$1N');
    for (const args of [['-ie'], ['-iea'], ['-ieen'], ['-iae']]) {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      expect(mask(ours.stdout), args.join(' ')).toBe(mask(theirs.stdout));
    }
    const { ours } = await both('netstat', ['-iea']);
    expect(ours.stdout).toMatch(
      /^vp0: flags=4355<UP,BROADCAST,PROMISC,MULTICAST>  mtu 1280\n {8}inet 198\.51\.100\.7  netmask 255\.255\.255\.128  broadcast 0\.0\.0\.0\n {8}inet6 2001:db8:77::7  prefixlen 64  scopeid 0x0<global>\n/m,
    );
    expect(ours.stdout).toMatch(
      /^vq0: flags=4098<BROADCAST,MULTICAST>  mtu 1500\n {8}inet 203\.0\.113\.1  netmask 255\.255\.255\.255  broadcast 0\.0\.0\.0\n {8}ether [0-9a-f:]{17}  txqueuelen 77  \(Ethernet\)\n/m,
    );
  });

  it('netstat -i, -ie: IPv4 aliases (labels) are interfaces of their own, as SIOCGIFCONF lists them', async () => {
    for (const cmd of [
      ['ip', 'link', 'add', 'va0', 'type', 'veth', 'peer', 'name', 'vb0'],
      ['ip', 'link', 'set', 'va0', 'up'],
      ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'va0'],
      ['ip', 'addr', 'add', '192.0.2.5/24', 'dev', 'va0'], // a secondary with the link's own label: not listed
      ['ip', 'addr', 'add', '198.51.100.1/24', 'brd', '+', 'dev', 'va0', 'label', 'va0:1'],
      ['ip', 'addr', 'add', '198.51.100.10/24', 'dev', 'va0', 'label', 'va0:10'], // a secondary of its own label
      ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'va0', 'label', 'va0:2'],
      ['ip', 'addr', 'add', '203.0.113.9/32', 'dev', 'va0', 'label', 'va0:foo'],
      ['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'vb0', 'label', 'vb0:3'], // vb0 is down: -a only
      ['ip', 'addr', 'add', '192.0.2.77/32', 'dev', 'lo', 'label', 'lo:5'],
    ]) {
      const r = await lab.exec(lab.src, cmd);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const mask = (t: string) =>
      t
        .replace(/^( {8}[RT]X packets )\d+  bytes \d+ \([\d.]+ \w+\)$/gm, '$1N  bytes N (N)')
        .replace(/^( {8}TX errors \d+  dropped )\d+/gm, '$1N')
        // every link's counters may move between the two runs (the kernel's own IPv6 ND on vp0 drops a packet now and then); the alias rows have none
        .replace(/^(\S+ +\d+) +\d+ +\d+ +\d+ +\d+ .*?( [A-Za-z]+)$/gm, '$1 COUNTERS$2');
    for (const args of [['-i'], ['-ia'], ['-ie'], ['-iea'], ['-ieen']]) {
      const { theirs, ours } = await both('netstat', args);
      expect(ours.code).toBe(0);
      expect(mask(ours.stdout), args.join(' ')).toBe(mask(theirs.stdout));
    }
    const { ours } = await both('netstat', ['-ie']);
    expect(ours.stdout).toMatch(
      /^va0:1: flags=\d+<UP,BROADCAST,MULTICAST>  mtu 1500\n {8}inet 198\.51\.100\.1  netmask 255\.255\.255\.0  broadcast 198\.51\.100\.255\n {8}ether /m,
    );
    expect(ours.stdout).toMatch(/^va0:10: .*\n {8}inet 198\.51\.100\.10 /m);
    const j = await sockitIn(lab, lab.src, ['netstat', '-ia', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(j.stdout).toMatch(/\{"type":"interface","name":"va0:foo","index":\d+,"mtu":1500,"flags":\d+,"stats":null,"alias_of":"va0"\}/);
  });

  it('shows what the fixture opened (ss -tan --json, in the JSON vocabulary)', async () => {
    const r = await sockitIn(lab, lab.src, ['ss', '-tan', '--json']);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const sockets = recs.filter((x) => x.type === 'socket');
    const listen = sockets.find((x) => x.state === 'LISTEN' && x.local.port === fx.tcp4_lo);
    expect(listen).toMatchObject({ netid: 'tcp', local: { family: 4, address: '127.0.0.1', port: fx.tcp4_lo } });
    const queued = sockets.find((x) => x.state === 'ESTAB' && x.local.port === fx.tcp4_lo);
    expect(queued).toMatchObject({ recv_q: 1000, peer: { family: 4, address: '127.0.0.1', port: fx.tcp4_client } });
    expect(queued!.tcp_info.rtt_ms).toBeGreaterThan(0);
    const mapped = sockets.find((x) => x.local.port === fx.tcp6_dual && x.state === 'ESTAB');
    expect(mapped).toMatchObject({ local: { family: 6, address: '::ffff:127.0.0.1' } });
    expect(sockets.find((x) => x.state === 'TIME-WAIT' && x.local.port === fx.timewait_client)?.timer?.name).toBe('timewait');
    expect(sockets.find((x) => x.local.port === fx.tcp6_only && x.state === 'LISTEN')?.v6only).toBe(true);
    expect(recs.at(-1)).toMatchObject({ type: 'summary', exit_code: 0, sockets: sockets.length, source: 'netlink' });
  });

  it('netstat -xa --json and ss -xap --json name the unix sockets', async () => {
    const r = await sockitIn(lab, lab.src, ['ss', '-xap', '--json']);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const stream = recs.find((x) => x.local?.path === fx.stream_path && x.state === 'LISTEN');
    expect(stream).toMatchObject({ netid: 'u_str', users: [{ comm: 'python3', pid: fx.pid }] });
    expect(recs.find((x) => x.local?.path === `@${fx.abstract}`)).toMatchObject({ netid: 'u_seq', state: 'LISTEN' });
    const n = await sockitIn(lab, lab.src, ['netstat', '-xa', '--json']);
    expect(vocabularyProblems(n.stdout, n.code)).toEqual([]);
    const dgram = n.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>)
      .find((x) => x.local?.path === fx.dgram_path);
    expect(dgram).toMatchObject({ type: 'socket', netid: 'unix', refcnt: 2 });
  });

  for (const [tool, args] of [
    ['ss', ['-tan']],
    ['ss', ['-xa']],
    ['ss', ['-tanp']],
    ['netstat', ['-tan']],
    ['netstat', ['-tuwanp']],
    ['netstat', ['-xap']],
  ] as const) {
    it(`as nobody: sockit ${tool} ${args.join(' ')} is ${tool} ${args.join(' ')} (stderr too)`, async () => {
      const { theirs, ours } = await both(tool, [...args], 'nobody');
      expect(ours.code).toBe(0);
      expect(lines(ours.stdout, tool === 'ss' ? 1 : 0)).toEqual(lines(theirs.stdout, tool === 'ss' ? 1 : 0));
      expect(ours.stderr).toBe(theirs.stderr);
    });
  }

  it('netlink refused: the /proc/net fallback (SOCKIT_INVENTORY=proc) gives what ss reads from /proc', async () => {
    for (const args of [['-tan'], ['-uan'], ['-tuln']]) {
      // PROC_ROOT makes ss itself parse /proc/net/* instead of asking sock_diag
      const theirs = await lab.exec(lab.src, ['env', 'PROC_ROOT=/proc', 'ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_INVENTORY: 'proc', SOCKIT_SS_LAYOUT: '6.1' } });
      expect(lines(ours.stdout, 1), args.join(' ')).toEqual(lines(theirs.stdout, 1));
      const json = await sockitIn(lab, lab.src, ['ss', ...args, '--json'], { env: { SOCKIT_INVENTORY: 'proc' } });
      expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).toMatchObject({ source: 'proc' });
    }
    const n = await both('netstat', ['-tuwan'], 'root', { SOCKIT_INVENTORY: 'proc' });
    expect(lines(n.ours.stdout, 0)).toEqual(lines(n.theirs.stdout, 0));
  });
});

describe.skipIf(!isRoot)('ss -K closes sockets (SOCK_DESTROY)', () => {
  it('closes what ss -K closes and prints it as ss does; as nobody it says what is missing', async () => {
    const lab = await Lab.chain({ routers: 0, name: 'sskill' });
    try {
      // two pairs, one for each tool, made apart from sockit
      const py =
        'import socket,sys\nkeep=[]\nfor p in (4321,4322):\n  l=socket.socket(); l.bind(("127.0.0.1",p)); l.listen(); c=socket.create_connection(("127.0.0.1",p)); a,_=l.accept(); keep+=[l,c,a]\nprint("ready",flush=True)\nsys.stdin.read()';
      const holder = await lab.spawnReady(lab.src, ['python3', '-c', py]);
      const denied = await sockitIn(lab, lab.src, ['ss', '-K', '-tn', 'dport', '=', ':4322'], { user: 'nobody' });
      expect(denied.stderr).toBe(
        'sockit ss: no permission: closing sockets (SOCK_DESTROY) needs CAP_NET_ADMIN; fix: run as root, or grant the capability: sudo setcap cap_net_admin+ep "$(command -v node)"\n',
      );
      expect(denied.code).toBe(2);
      const theirs = await lab.exec(lab.src, ['ss', '-K', '-tn', 'dport', '=', ':4321']);
      const ours = await sockitIn(lab, lab.src, ['ss', '-K', '-tn', 'dport', '=', ':4322'], { env: { SOCKIT_SS_LAYOUT: '6.1' } });
      const norm = (t: string) => t.replace(/:432[12]\b/g, ':PORT').replace(/127\.0\.0\.1:\d{5}/g, '127.0.0.1:EPH');
      expect(ours.code).toBe(0);
      expect(norm(ours.stdout)).toBe(norm(theirs.stdout));
      expect(ours.stdout).toMatch(/^ESTAB .*127\.0\.0\.1:4322 *$/m);
      // gone: only the listeners are left
      const left = await lab.exec(lab.src, ['ss', '-tnH']);
      expect(left.stdout).toBe('');
      holder.stdin!.end();
    } finally {
      await lab.close();
    }
  });
});

describe.skipIf(!isRoot)('a listing longer than a chunk of kept lines', () => {
  it('10,001 sockets (over two 4,096-line chunks, each listing rendered once): ss -tan, ss -tanp, netstat -tan and netstat -tanp as the real tools list them', async () => {
    const lab = await Lab.chain({ routers: 0, name: 'many' });
    try {
      // 5,000 loopback connections and their listener, in one process
      const py =
        "import socket,sys\nl=socket.socket()\nl.bind(('127.0.0.1',0))\nl.listen(4096)\nk=[l]\nfor i in range(5000):\n  c=socket.socket(); c.connect(l.getsockname()); a,_=l.accept(); k+=[c,a]\nprint(len(k),flush=True)\nsys.stdin.read()";
      const holder = await lab.spawnReady(lab.src, ['sh', '-c', 'ulimit -n 12000 && exec python3 -c "$0"', py]);
      try {
        for (const [tool, args] of [
          ['ss', ['-tan']],
          ['ss', ['-tanp']],
          ['netstat', ['-tan']],
          ['netstat', ['-tanp']],
        ] as const) {
          const theirs = await lab.exec(lab.src, [tool, ...args]);
          const ours = await sockitIn(lab, lab.src, [tool, ...args], { env: tool === 'ss' ? { SOCKIT_SS_LAYOUT: '6.1' } : {} });
          expect(ours.stderr).toBe('');
          const header = tool === 'ss' ? 1 : 2;
          expect(lines(ours.stdout, header).length, `${tool} ${args.join(' ')}`).toBe(10_001 + header);
          expect(lines(ours.stdout, header), `${tool} ${args.join(' ')}`).toEqual(lines(theirs.stdout, header));
        }
      } finally {
        holder.stdin!.end();
      }
    } finally {
      await lab.close();
    }
  }, 60_000);
});

describe.skipIf(!isRoot)('bad input', () => {
  it.each([
    [['ss', '-t', 'dportt', '=', ':22'], "sockit ss: bad filter at 'dportt': expected src, dst, sport, dport, dev, fwmark, autobound, not or '('"],
    [['ss', '-t', '(', 'sport', '=', ':22'], "sockit ss: bad filter at '(end)': expected ')'"],
    [['ss', '-t', 'sport', '=', ':nosuchservice'], "sockit ss: bad filter at ':nosuchservice': expected a port number or service name after sport"],
    [['ss', '-t', 'src', '300.1.1.1'], "sockit ss: bad filter at '300.1.1.1': expected HOST[/PREFIX][:PORT], [IPV6]:PORT or a unix path after src"],
    [['ss', '-t', 'state', 'bogus'], 'sockit ss: wrong state name: bogus'],
    [['ss', '-f', 'ipx'], 'sockit ss: "ipx" is invalid family (sockit knows inet, inet6, unix, link and netlink)'],
    [['ss', '--watch', '0'], "sockit ss: --watch: '0' is not a number of seconds"],
    [['netstat', '--bogus'], "sockit netstat: unknown option '--bogus'"],
    [['netstat', '-s', '-4', '-6'], "sockit netstat: no statistics for address family 'inet,inet6' (-s takes -4 or -6)"],
    [['netstat', '-sx'], "sockit netstat: no statistics for address family 'unix' (-s takes -4 or -6)"],
  ])('%j: one line, exit 2', async (args, line) => {
    const lab = await Lab.chain({ routers: 0, name: 'nsbad' });
    try {
      const r = await sockitIn(lab, lab.src, args);
      expect(r.stderr).toBe(`${line}\n`);
      expect(r.code).toBe(2);
    } finally {
      await lab.close();
    }
  });
});
