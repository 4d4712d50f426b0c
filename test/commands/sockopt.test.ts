// sockit sockopt as a user runs it, checked against C and the kernel.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/stack/sockopt.js';
import { compileC, runC } from '../helpers/cc.js';
import { checkoptsSource } from '../helpers/checkopts-c.mjs';
import { sockit, sockitBin, sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { isRoot, rootReason } from '../helpers/root.js';
import { Lab, isRoot as labReady, needsRootReason } from '../lab/index.js';

describe('sockit sockopt: defaults equal a C checkopts over the same sockets', () => {
  let checkopts: string;
  beforeAll(() => {
    checkopts = compileC('checkopts', checkoptsSource(OPTIONS));
  });

  const cases: [string, string[], boolean][] = [
    ['book', [], true],
    ['tcp4', ['--tcp', '-4'], false],
    ['tcp6', ['--tcp', '-6'], false],
    ['udp4', ['--udp', '-4'], false],
    ['udp6', ['--udp', '-6'], false],
    ['raw4', ['--raw', '-4'], true],
    ['raw6', ['--raw', '-6'], true],
    ['unix-stream', ['--unix'], false],
    ['unix-dgram', ['--type', 'unix-dgram'], false],
  ];
  for (const [kind, args, root] of cases) {
    it.skipIf(root && !isRoot)(`${kind}${root && !isRoot ? ` (${rootReason})` : ''}`, async () => {
      const want = runC(checkopts, [kind]);
      const r = await sockit(['sockopt', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')).toEqual(want.split('\n'));
    });
  }
});

/** Parse JSON lines. */
function lines(stdout: string): Record<string, any>[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

describe('sockit sockopt: output forms', () => {
  it("the checkopts alias prints the book's lines", async () => {
    const r = await sockit(['checkopts']);
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out).toContain('SO_BROADCAST: default = off');
    expect(out).toContain('SO_LINGER: default = l_onoff = 0, l_linger = 0');
    expect(out).toContain('SO_RCVTIMEO: default = 0 sec, 0 usec');
    expect(out).toContain('SO_USELOOPBACK: (undefined)');
    expect(out).toContain('SCTP_NODELAY: (undefined)');
    expect(out).toContain('IP_MTU: getsockopt error: Transport endpoint is not connected');
    expect(out.find((l) => l.startsWith('SO_SNDBUF: '))).toMatch(/^SO_SNDBUF: default = \d+$/);
  });

  it('--json carries the same values, typed, and a summary', async () => {
    const [text, json] = await Promise.all([sockit(['sockopt', '--udp', '-6']), sockit(['sockopt', '--udp', '-6', '--json'])]);
    expect(vocabularyProblems(json.stdout, json.code)).toEqual([]);
    const objs = lines(json.stdout);
    const summary = objs.pop()!;
    expect(summary).toMatchObject({ type: 'summary', options: objs.length, exit_code: 0 });
    expect(objs.every((o) => o.type === 'option')).toBe(true);
    expect(summary.values + summary.errors + summary.undefined).toBe(objs.length);
    // each object's text is what the text form prints after "NAME: "
    expect(objs.map((o) => `${o.name}: ${o.text}`)).toEqual(text.stdout.trim().split('\n'));
    const by = new Map(objs.map((o) => [o.name, o]));
    expect(by.get('SO_LINGER')).toMatchObject({ socket: 'udp6', level: 'SOL_SOCKET', c_type: 'linger', value: { onoff: 0, linger: 0 } });
    expect(by.get('IPV6_V6ONLY')?.value).toBe(false);
    expect(by.get('SO_TYPE')?.value).toBe(2);
    expect(by.get('TCP_NODELAY')?.error).toMatchObject({ code: 'ENOPROTOOPT', errno: 92 });
    expect(by.get('IP_RECVIF')?.undefined).toMatch(/IP_PKTINFO/);
  });

  it('--table sets socket types side by side and marks the rows that differ', async () => {
    const [r, tcp4, unix] = await Promise.all([
      sockit(['sockopt', '--table', '--json']),
      sockit(['sockopt', '--type', 'tcp4', '--json']),
      sockit(['sockopt', '--unix', '--json']),
    ]);
    expect(r.code).toBe(0);
    for (const x of [r, tcp4, unix]) expect(vocabularyProblems(x.stdout, x.code)).toEqual([]);
    const rows = lines(r.stdout);
    const summary = rows.pop()!;
    expect(summary).toMatchObject({ type: 'summary', options: rows.length, exit_code: 0 });
    const row = (name: string) => rows.find((x) => x.name === name)!;
    // a cell per socket type, in the columns' order
    const cell = (name: string, kind: string) => row(name)?.values.find((v: { socket: string }) => v.socket === kind);
    expect(row('SO_TYPE').values.map((v: { socket: string }) => v.socket)).toEqual([
      'tcp4',
      'tcp6',
      'udp4',
      'udp6',
      'raw4',
      'raw6',
      'unix-stream',
      'unix-dgram',
    ]);
    expect(row('SO_TYPE')).toMatchObject({ type: 'option', differ: true });
    expect(cell('SO_TYPE', 'tcp4')).toMatchObject({ value: 1 });
    expect(cell('SO_TYPE', 'unix-dgram')).toMatchObject({ value: 2 });
    expect(row('SO_KEEPALIVE').differ).toBe(false);
    // the columns are what checkopts reads on that socket type
    for (const [kind, res] of [
      ['tcp4', tcp4],
      ['unix-stream', unix],
    ] as const) {
      for (const o of lines(res.stdout).filter((x) => x.type === 'option' && 'value' in x)) {
        // tcp_info holds clocks (last_data_sent ...): its state is compared, not the whole struct
        if (o.name === 'TCP_INFO') expect(cell(o.name, kind).value.state).toBe(o.value.state);
        else if (row(o.name)) expect(cell(o.name, kind).value).toEqual(o.value);
      }
    }
    expect(summary.differing).toBe(rows.filter((x) => x.differ).length);
    const text = await sockit(['sockopt', '--table']);
    expect(text.stdout).toMatch(/│ SO_TYPE \*\s+│ 1\s+│ 1\s+│ 2\s+│ 2\s+│/);
    expect(text.stdout).toMatch(new RegExp(`\\* ${summary.differing} options differ between socket types`));
  });

  it('--list names every option with its level and type', async () => {
    const r = await sockit(['sockopt', '--list', '--json']);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const objs = lines(r.stdout);
    expect(objs.pop()).toEqual({ type: 'summary', options: OPTIONS.length, exit_code: 0 });
    expect(objs.find((o) => o.name === 'TCP_INFO')).toMatchObject({
      type: 'option',
      level: 'IPPROTO_TCP',
      optname: 11,
      c_type: 'tcp_info',
      access: 'get',
      applies_to: ['tcp4', 'tcp6'],
    });
    expect(objs.find((o) => o.name === 'SO_USELOOPBACK')).toMatchObject({ optname: null, undefined: expect.any(String) });
  });
});

/** sockit on a terminal: under script(1)'s pty, COLUMNS as given; the lines without colour or CRs. */
async function onTty(args: string[], columns: number): Promise<{ code: number | null; lines: string[] }> {
  const { spawn } = await import('node:child_process');
  const quote = (w: string) => `'${w.replaceAll("'", "'\\''")}'`;
  const child = spawn('script', ['-qec', [process.execPath, sockitBin, ...args].map(quote).join(' '), '/dev/null'], {
    env: { ...process.env, COLUMNS: String(columns), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { code, lines: text.replaceAll('\r', '').split('\n').filter(Boolean) };
}

describe('sockit sockopt: --table and --list fit the terminal, and are whole lines when not on one', () => {
  const widest = (ls: string[]) => Math.max(...ls.map((l) => [...l].length));

  it('--table: COLUMNS=80 on a TTY splits the socket types over tables that fit; every row and cell is still there', async () => {
    const [tty, pipe] = await Promise.all([onTty(['sockopt', '--table'], 80), sockit(['sockopt', '--table'], { env: { COLUMNS: '80' } })]);
    expect(tty.code).toBe(0);
    expect(widest(tty.lines)).toBeLessThanOrEqual(80);
    // not a terminal: one table, as wide as it needs (COLUMNS is for terminals)
    const piped = pipe.stdout.trimEnd().split('\n');
    expect(widest(piped)).toBeGreaterThan(80);
    const heads = tty.lines.filter((l) => l.startsWith('│ option '));
    expect(heads.length).toBeGreaterThan(1);
    const kinds = heads.flatMap((h) =>
      h
        .split('│')
        .map((x) => x.trim())
        .filter((x) => x && x !== 'option'),
    );
    expect(kinds).toEqual(['tcp4', 'tcp6', 'udp4', 'udp6', 'raw4', 'raw6', 'unix-stream', 'unix-dgram']);
    // the SO_TYPE row, read across the tables, is the one-table row
    const cells = (ls: string[]) =>
      ls
        .filter((l) => l.startsWith('│ SO_TYPE '))
        .flatMap((l) =>
          l
            .split('│')
            .map((x) => x.trim())
            .filter(Boolean)
            .slice(1),
        );
    expect(cells(tty.lines)).toEqual(cells(piped));
    expect(cells(piped)).toHaveLength(8);
  });

  it('--table on a narrower terminal wraps the option names; the note wraps at words', async () => {
    const tty = await onTty(['sockopt', '--table'], 30);
    expect(tty.code).toBe(0);
    expect(widest(tty.lines)).toBeLessThanOrEqual(30);
    // the note, after the last table: its words joined again are the one-line note
    const bottom = tty.lines.reduce((at, l, i) => (l.startsWith('└') ? i : at), -1);
    const note = tty.lines.slice(bottom + 1);
    expect(note.length).toBeGreaterThan(1);
    expect(note.join(' ')).toMatch(/^\* \d+ options differ between socket types; - not applicable \(ENOPROTOOPT\/EOPNOTSUPP\)/);
    // a wrapped option name: IP_BIND_ADDRESS_NO_PORT's pieces are in the first column, in order
    const first = tty.lines.filter((l) => l.startsWith('│ ')).map((l) => l.split('│')[1].trim());
    expect(first.join('')).toContain('IP_BIND_ADDRESS_NO_PORT');
  });

  it('--list: COLUMNS=80 puts each description under its option; 120 hangs it in its column', async () => {
    const [narrow, wide, pipe] = await Promise.all([onTty(['sockopt', '--list'], 80), onTty(['sockopt', '--list'], 120), sockit(['sockopt', '--list'])]);
    expect(widest(narrow.lines)).toBeLessThanOrEqual(80);
    expect(widest(wide.lines)).toBeLessThanOrEqual(120);
    const at = narrow.lines.findIndex((l) => l.startsWith('SO_BROADCAST '));
    expect(narrow.lines.slice(at, at + 2)).toEqual([
      'SO_BROADCAST                SOL_SOCKET     flag',
      '    Permit sending of broadcast datagrams [get/set, udp4 udp6 raw4 raw6]',
    ]);
    const piped = pipe.stdout.trimEnd().split('\n');
    expect(piped).toHaveLength(OPTIONS.length);
    expect(piped[0]).toBe('SO_BROADCAST                SOL_SOCKET     flag             Permit sending of broadcast datagrams [get/set, udp4 udp6 raw4 raw6]');
    // the same words, however they are broken
    const words = (ls: string[]) => ls.join(' ').split(/\s+/).filter(Boolean);
    expect(words(narrow.lines)).toEqual(words(piped));
    expect(words(wide.lines)).toEqual(words(piped));
  });
});

describe('sockit sockopt get/set: requested vs actual', () => {
  it('round trips each value type and reports what the kernel changed', async () => {
    const r = await sockit([
      'sockopt',
      'set',
      'SO_KEEPALIVE=on',
      'IP_TTL=7',
      'SO_LINGER=1,5',
      'SO_RCVTIMEO=1.5',
      'TCP_CONGESTION=reno',
      'IP_OPTIONS=0x01010101',
      'SO_RCVBUF=65536',
      'IP_MTU_DISCOVER=do',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'SO_KEEPALIVE: requested on; actual on',
      'IP_TTL: requested 7; actual 7',
      'SO_LINGER: requested l_onoff = 1, l_linger = 5; actual l_onoff = 1, l_linger = 5',
      'SO_RCVTIMEO: requested 1 sec, 500000 usec; actual 1 sec, 500000 usec',
      'TCP_CONGESTION: requested reno; actual reno',
      'IP_OPTIONS: requested 0x01010101; actual 0x01010101',
      'SO_RCVBUF: requested 65536; actual 131072 (doubled by the kernel for bookkeeping overhead, socket(7))',
      'IP_MTU_DISCOVER: requested 2; actual 2',
    ]);
  });

  it('multicast options on a UDP socket; a TCP socket refuses them', async () => {
    const u = await sockit(['sockopt', '--udp', 'set', 'IP_MULTICAST_IF=127.0.0.1', 'IP_MULTICAST_TTL=5', 'IP_MULTICAST_LOOP=off']);
    expect(u.stdout.trim().split('\n')).toEqual([
      'IP_MULTICAST_IF: requested 127.0.0.1; actual 127.0.0.1',
      'IP_MULTICAST_TTL: requested 5; actual 5',
      'IP_MULTICAST_LOOP: requested off; actual off',
    ]);
    const t = await sockit(['sockopt', 'set', 'IP_MULTICAST_IF=127.0.0.1']);
    expect(t.code).toBe(2);
    expect(t.stderr).toBe(
      'sockit sockopt: IP_MULTICAST_IF=127.0.0.1: setsockopt rejected it: EINVAL (Invalid argument): IP_MULTICAST_IF does not apply to tcp4 sockets\n',
    );
  });

  it('--json gives requested, actual and the adjustment', async () => {
    const r = await sockit(['sockopt', '--udp', 'set', 'SO_SNDBUF=8k', 'SO_BROADCAST=yes', 'IP_TTL=-1', '--json']);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const [sndbuf, bcast, ttl, summary] = lines(r.stdout);
    expect(sndbuf).toMatchObject({
      type: 'option',
      name: 'SO_SNDBUF',
      socket: 'udp4',
      c_type: 'int',
      requested: 8192,
      actual: 16384,
      adjusted: expect.stringContaining('doubled'),
      text: 'SO_SNDBUF: requested 8192; actual 16384 (doubled by the kernel for bookkeeping overhead, socket(7))',
    });
    expect(bcast).toMatchObject({ requested: true, actual: true });
    expect(bcast.adjusted).toBeUndefined();
    expect(ttl).toMatchObject({ requested: -1, actual: expect.any(Number), adjusted: '-1 selects the system default' });
    expect(summary).toEqual({ type: 'summary', socket: 'udp4', options: 3, rejected: 0, failed_reads: 0, exit_code: 0 });
    // a rejected set: its record, its line on stderr, exit 2
    const bad = await sockit(['sockopt', 'set', 'IP_TTL=0', '--json']);
    expect(bad.code).toBe(2);
    expect(vocabularyProblems(bad.stdout, bad.code)).toEqual([]);
    const [rej, sum2] = lines(bad.stdout);
    expect(rej).toMatchObject({ type: 'option', name: 'IP_TTL', requested: 0, rejected: { code: 'EINVAL', errno: 22, message: 'Invalid argument' } });
    expect(sum2).toMatchObject({ type: 'summary', rejected: 1, exit_code: 2 });
    expect(bad.stderr).toMatch(/^sockit sockopt: IP_TTL=0: setsockopt rejected it: EINVAL/);
  });

  it('a value past net.core.rmem_max is clamped, then doubled, and says so', async () => {
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const r = await sockit(['sockopt', 'set', `SO_RCVBUF=${max + 4096}`]);
    expect(r.stdout.trim()).toBe(`SO_RCVBUF: requested ${max + 4096}; actual ${2 * max} (clamped to net.core.rmem_max = ${max}, then doubled, socket(7))`);
  });

  it('SO_SNDBUF=-1 is 4294967295 to the kernel (min_t(u32, val, wmem_max)): clamped, then doubled; tiny values meet the floor', async () => {
    const wmax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const r = await sockit(['sockopt', 'set', 'SO_SNDBUF=-1', 'SO_SNDBUF=0']);
    expect(r.code).toBe(0);
    const [neg, zero] = r.stdout.trim().split('\n');
    expect(neg).toBe(
      `SO_SNDBUF: requested -1; actual ${2 * wmax} (-1 is 4294967295 as an unsigned int: clamped to net.core.wmem_max = ${wmax}, then doubled, socket(7))`,
    );
    // the floor is SOCK_MIN_SNDBUF, whose size depends on the kernel's struct sk_buff: read it from the line
    const floor = Number(/actual (\d+)/.exec(zero)![1]);
    expect(floor).toBeGreaterThan(2048);
    expect(zero).toBe(`SO_SNDBUF: requested 0; actual ${floor} (doubled (0) is below the kernel's floor: raised to SOCK_MIN_SNDBUF = ${floor}, socket(7))`);
  });

  it('each set is read back before the next: SO_RCVBUF=100000000 SO_RCVBUF=1 gives two lines of their own', async () => {
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const r = await sockit(['sockopt', 'set', 'SO_RCVBUF=100000000', 'SO_RCVBUF=1', 'SO_RCVBUF=4096', '--json']);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const [big, one, four] = lines(r.stdout);
    expect(big).toMatchObject({ requested: 100000000, actual: 2 * Math.min(max, 100000000) });
    expect(one.requested).toBe(1);
    expect(one.actual).toBeGreaterThan(2);
    expect(one.actual).toBeLessThan(2 * Math.min(max, 100000000));
    expect(one.adjusted).toBe(`doubled (2) is below the kernel's floor: raised to SOCK_MIN_RCVBUF = ${one.actual}, socket(7)`);
    expect(four).toMatchObject({ requested: 4096, actual: 8192, adjusted: 'doubled by the kernel for bookkeeping overhead, socket(7)' });
  });

  it('a timeout shorter than a clock tick is rounded up, and says so', async () => {
    const r = await sockit(['sockopt', 'set', 'SO_RCVTIMEO=100us']);
    expect(r.stdout).toMatch(/^SO_RCVTIMEO: requested 0 sec, 100 usec; actual 0 sec, (\d+) usec \(rounded up by the kernel to whole clock ticks\)\n$/);
    expect(Number(r.stdout.match(/actual 0 sec, (\d+)/)![1])).toBeGreaterThanOrEqual(1000); // HZ <= 1000
  });

  it("get reads options on the socket picked, the book's by default", async () => {
    const r = await sockit(['sockopt', 'get', 'IPV6_V6ONLY', 'IPV6_UNICAST_HOPS', 'SO_TYPE', 'TCP_INFO']);
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out.slice(0, 3)).toEqual(['IPV6_V6ONLY: off', expect.stringMatching(/^IPV6_UNICAST_HOPS: \d+$/), 'SO_TYPE: 1']);
    expect(out[3]).toMatch(/^TCP_INFO: state = CLOSE, ca_state = Open, /);
    const g = await sockit(['sockopt', 'get', 'IPV6_V6ONLY', '--json']);
    expect(vocabularyProblems(g.stdout, g.code)).toEqual([]);
    expect(lines(g.stdout)[0]).toMatchObject({ type: 'option', socket: 'tcp6', actual: false, text: 'IPV6_V6ONLY: off' });
    const u = await sockit(['sockopt', 'get', '--unix', 'SO_PASSCRED=1', 'SO_PEERCRED']);
    expect(u.stdout.trim().split('\n')).toEqual(['SO_PASSCRED: requested on; actual on', 'SO_PEERCRED: pid = 0, uid = 4294967295, gid = 4294967295']);
  });

  it("a getsockopt the kernel refuses prints the book's line and exits 1", async () => {
    const r = await sockit(['sockopt', 'get', 'IP_MTU']);
    expect(r.stdout).toBe('IP_MTU: getsockopt error: Transport endpoint is not connected\n');
    expect(r.code).toBe(1);
    const j = await sockit(['sockopt', 'get', 'IP_MTU', '--json']);
    expect(j.code).toBe(1);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(lines(j.stdout)[0]).toMatchObject({ error: { code: 'ENOTCONN', errno: 107 } });
  });

  it.skipIf(!isRoot)(`ICMP filters on raw sockets${isRoot ? '' : ` (${rootReason})`}`, async () => {
    const r6 = await sockit(['sockopt', '--raw', '-6', 'set', 'ICMP6_FILTER=pass 128-129,133']);
    expect(r6.stdout.trim()).toBe('ICMP6_FILTER: requested pass 128-129,133; actual pass 128-129,133');
    const r4 = await sockit(['sockopt', '--raw', '-4', 'set', 'ICMP_FILTER=block:3,11', '--json']);
    expect(lines(r4.stdout)[0]).toMatchObject({ requested: { blocked: [3, 11] }, actual: { blocked: [3, 11] } });
  });
});

describe('sockit sockopt: -h is help in every form', () => {
  for (const args of [['-h'], ['get', '-h'], ['set', 'SO_RCVBUF=1', '-h'], ['--table', '-h'], ['--list', '-h'], ['--pid', '1', '-h']]) {
    it(args.join(' '), async () => {
      const r = await sockit(['sockopt', ...args]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout.split('\n')[0]).toBe('Usage: sockit sockopt [get|set NAME[=VALUE]...] [options]');
      expect(r.stdout).toContain('--table');
    });
  }
  it('the checkopts alias too', async () => {
    const r = await sockit(['checkopts', '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('Usage: sockit sockopt [get|set NAME[=VALUE]...] [options]');
  });
});

describe('sockit sockopt: bad input is one line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [
      ['set', 'TCP_CONGESTION=nosuch'],
      /^sockit sockopt: TCP_CONGESTION=nosuch: setsockopt rejected it: ENOENT \(No such file or directory\): no congestion control 'nosuch' \(available: .*reno.*\)$/,
    ],
    [['set', 'SO_LINGER=x'], /^sockit sockopt: invalid value for SO_LINGER: 'x' \(expected l_onoff,l_linger such as 1,5, or off\)$/],
    [['set', 'SO_RCVTIMEO=soon'], /^sockit sockopt: invalid value for SO_RCVTIMEO: 'soon'/],
    [['set', 'SO_KEEPALIVE=maybe'], /^sockit sockopt: invalid value for SO_KEEPALIVE: 'maybe' \(expected on or off\)$/],
    [['set', 'IP_TTL=3x'], /^sockit sockopt: invalid value for IP_TTL: '3x'/],
    [['set', 'SO_TYPE=1'], /^sockit sockopt: SO_TYPE is read-only$/],
    [['set', 'SO_RCVBUF'], /^sockit sockopt: set needs NAME=VALUE, not 'SO_RCVBUF'$/],
    [['get', 'SO_NOSUCH'], /^sockit sockopt: unknown socket option 'SO_NOSUCH'/],
    [['get', 'SO_USELOOPBACK'], /^sockit sockopt: SO_USELOOPBACK is not defined on Linux/],
    [
      ['--udp', 'set', 'TCP_NODELAY=on'],
      /^sockit sockopt: TCP_NODELAY=on: setsockopt rejected it: ENOPROTOOPT \(Protocol not available\): TCP_NODELAY does not apply to udp4 sockets$/,
    ],
    [['set', 'IP_TTL=0'], /^sockit sockopt: IP_TTL=0: setsockopt rejected it: EINVAL \(Invalid argument\)/],
    [['--tcp', '--udp'], /^sockit sockopt: choose one of --tcp, --udp, --raw, --unix/],
    [['--unix', '-6'], /^sockit sockopt: --unix takes no -4\/-6$/],
    [['--fd', '3'], /^sockit sockopt: --fd needs --pid$/],
    [['--pid', 'x'], /^sockit sockopt: invalid pid: 'x'$/],
    [['frobnicate'], /^sockit sockopt: unexpected 'frobnicate'/],
  ];
  for (const [args, msg] of cases) {
    it(args.join(' '), async () => {
      const r = await sockit(['sockopt', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line and its newline
      expect(r.stderr.trimEnd()).toMatch(msg);
    });
  }
});

interface Server {
  pid: number;
  listener: number;
  client: number;
  accepted: number;
  port: number;
}

describe.skipIf(!labReady)(
  `sockit sockopt in a lab namespace: a live server read from outside (--pid), and an unprivileged user (${isRoot ? 'namespace' : needsRootReason})`,
  () => {
    let lab: Lab;
    let server: Server;
    const RCVBUF = 50000;
    beforeAll(async () => {
      const bin = compileC('sockopt-server', readFileSync(new URL('../fixtures/sockopt-server.c', import.meta.url), 'utf8'));
      lab = await Lab.chain({ routers: 0, name: 'sockopt' });
      // the server lives in a lab namespace: its /proc/PID/net tables are not the host's
      const child = lab.spawn(lab.dst, [bin, String(RCVBUF)]);
      server = await new Promise<Server>((resolve, reject) => {
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) resolve(JSON.parse(out) as Server);
        });
        child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
    });
    afterAll(async () => {
      await lab?.close();
    });

    it("lists the process's sockets with their state and addresses", async () => {
      const r = await sockit(['sockopt', '--pid', String(server.pid), '--json']);
      expect(r.stderr).toBe('');
      const objs = lines(r.stdout);
      // three TCP sockets, and the stdout/stderr Node gave it (unix socketpairs)
      expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
      expect(objs.pop()).toMatchObject({ type: 'summary', pid: server.pid, sockets: 5, exit_code: 0 });
      expect(objs.find((o) => o.fd === 1)).toMatchObject({ type: 'socket', kind: 'unix-stream', state: 'CONNECTED', local: { family: 'unix' } });
      const lo = { family: 4, address: '127.0.0.1', port: server.port };
      expect(objs.find((o) => o.fd === server.listener)).toMatchObject({ kind: 'tcp4', state: 'LISTEN', local: lo, remote: null, rx_queue: 0, tx_queue: 0 });
      expect(objs.find((o) => o.fd === server.accepted)).toMatchObject({ kind: 'tcp4', state: 'ESTABLISHED', local: lo });
      expect(objs.find((o) => o.fd === server.client)).toMatchObject({ kind: 'tcp4', state: 'ESTABLISHED', remote: lo });
      const lo_ = `127.0.0.1:${server.port}`;
      const text = await sockit(['sockopt', '--pid', String(server.pid)]);
      const comm = readFileSync(`/proc/${server.pid}/comm`, 'utf8').trim(); // the binary's name, cut to 15 characters
      expect(comm).toMatch(/^sockopt-server/);
      expect(text.stdout.split('\n')[0]).toBe(`pid ${server.pid} (${comm}): 5 sockets`);
      expect(text.stdout).toMatch(
        new RegExp(`^${server.listener}\\s+tcp4\\s+LISTEN\\s+0\\s+0\\s+${lo_.replaceAll('.', '\\.')}\\s+0\\.0\\.0\\.0:\\*\\s+\\d+$`, 'm'),
      );
    });

    it('reads back SO_KEEPALIVE, TCP_NODELAY and SO_RCVBUF of the accepted socket, and its TCP_INFO', async () => {
      const r = await sockit(['sockopt', '--pid', String(server.pid), '--fd', String(server.accepted)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = r.stdout.split('\n');
      expect(out[0]).toMatch(
        new RegExp(`^fd ${server.accepted} of pid ${server.pid} \\(sockopt-server[^)]*\\): tcp4 127\\.0\\.0\\.1:${server.port} -> 127\\.0\\.0\\.1:\\d+$`),
      );
      expect(out).toContain('SO_KEEPALIVE: on');
      expect(out).toContain('TCP_NODELAY: on');
      expect(out).toContain(`SO_RCVBUF: ${2 * RCVBUF}`);
      expect(out).not.toContain('SO_ERROR: 0'); // never read: it would clear the owner's pending error
      expect(out).toContain('TCP_INFO:');
      expect(out.find((l) => l.startsWith('    state '))).toMatch(/^    state ESTABLISHED, ca_state Open, options /);
      const live = await sockit(['sockopt', '--pid', String(server.pid), '--fd', String(server.client), '--json']);
      expect(vocabularyProblems(live.stdout, live.code)).toEqual([]);
      const json = lines(live.stdout);
      const by = new Map(json.map((o) => [o.name, o]));
      expect(by.get('TCP_INFO')?.value).toMatchObject({ state: 1, snd_mss: expect.any(Number) });
      expect(by.get('SO_KEEPALIVE')?.value).toBe(false); // the client was not given it
      expect(json[0]).toMatchObject({ type: 'socket', pid: server.pid, fd: server.client, socket: 'tcp4', sock_type: 1 });
      expect(json.at(-1)).toEqual({ type: 'summary', pid: server.pid, fd: server.client, errors: 0, exit_code: 0 });
    });

    it('another user is refused, in one line that says why and what to do', async () => {
      const r = await sockitIn(lab, lab.dst, ['sockopt', '--pid', String(server.pid), '--fd', String(server.accepted)], { user: 'nobody' });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        new RegExp(
          `^sockit sockopt: pidfd_getfd EPERM: no ptrace permission over process ${server.pid} \\(needed to take its descriptor ${server.accepted}\\); fix: .*run as the same user \\(uid 0\\).* root.*\\n$`,
        ),
      );
      const list = await sockitIn(lab, lab.dst, ['sockopt', '--pid', String(server.pid)], { user: 'nobody' });
      expect(list.code).toBe(2);
      expect(list.stderr).toMatch(
        new RegExp(
          `^sockit sockopt: cannot list the descriptors of process ${server.pid}: /proc/${server.pid}/fd: EACCES \\(Permission denied\\); fix: .*uid 0.*\\n$`,
        ),
      );
    });

    it('without privilege a raw socket is refused in one line; checkopts and --table go on without it', async () => {
      const r = await sockitIn(lab, lab.dst, ['sockopt', '--raw', 'get', 'ICMP_FILTER'], { user: 'nobody' });
      expect(r).toMatchObject({
        code: 2,
        stdout: '',
        stderr: 'sockit sockopt: cannot open a raw4 socket: EPERM (Operation not permitted); raw sockets need CAP_NET_RAW: run as root\n',
      });
      const book = await sockitIn(lab, lab.dst, ['sockopt'], { user: 'nobody' });
      expect(book.code).toBe(0);
      expect(book.stdout).toContain('ICMP6_FILTER: socket error: Operation not permitted (raw sockets need CAP_NET_RAW: run as root)\n');
      expect(book.stdout).toContain('SO_KEEPALIVE: default = off\n');
      const table = await sockitIn(lab, lab.dst, ['sockopt', '--table', '--json'], { user: 'nobody' });
      const rows = lines(table.stdout);
      expect(rows.pop()).toMatchObject({ unavailable: ['raw4', 'raw6'] });
      expect(rows.find((x) => x.name === 'SO_TYPE')?.values.find((v: { socket: string }) => v.socket === 'raw4').socket_error).toMatchObject({ code: 'EPERM' });
    });

    it('a descriptor that is not a socket, or not open, is named as such', async () => {
      const r = await sockit(['sockopt', '--pid', String(server.pid), '--fd', '0']);
      expect(r).toMatchObject({ code: 2, stdout: '', stderr: `sockit sockopt: descriptor 0 of process ${server.pid} is not a socket (it is /dev/null)\n` });
      const none = await sockit(['sockopt', '--pid', String(server.pid), '--fd', '999']);
      expect(none).toMatchObject({ code: 2, stderr: `sockit sockopt: process ${server.pid} has no descriptor 999\n` });
    });
  },
);
