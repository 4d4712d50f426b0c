// --pcap FILE on ping, traceroute, connect and sock, in a lab of namespaces:
// as root (a packet socket on the route's interface, the bytes as they
// crossed it) and as nobody (IP packets rebuilt from the sockets, with EPB
// comments). tcpdump reads every file; the packets in it match what the
// command printed (icmp_seq and TTLs, traceroute's hops, connect's and
// sock's ports); SIGINT and SIGTERM mid-run leave a whole file.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Running, sockitBin, sockitIn, startSockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, type User, isRoot } from '../lab/index.js';

/** One packet as `tcpdump -r FILE -n -v` prints it (its header line and the rest joined). */
interface Dumped {
  ttl: number;
  src: string;
  dst: string;
  /** everything after "src > dst: " */
  what: string;
}

/** tcpdump -r FILE -n -v: exit status, stderr, packets. */
function tcpdumpRead(file: string): { status: number | null; stderr: string; packets: Dumped[]; text: string } {
  // -vv: tcpdump checks every checksum it can and says "bad cksum" / "incorrect" otherwise
  const r = spawnSync('tcpdump', ['-r', file, '-n', '-vv'], { encoding: 'utf8' });
  const packets: Dumped[] = [];
  // a packet: "TIME IP|IP6 (... ttl N|hlim N ...)" then "    src > dst: what" (and more indented lines)
  const blocks = r.stdout.split(/\n(?=\d\d:\d\d:\d\d\.\d+ )/).filter(Boolean);
  for (const b of blocks) {
    const ttl = /(?:ttl|hlim) (\d+)/.exec(b);
    // IPv4: the flow on the next line; IPv6: after the header's parenthesis
    const flow = /(?:\n\s+|\) )([\da-f.:]+) > ([\da-f.:]+): ([^\n]*)/.exec(b);
    if (ttl && flow) packets.push({ ttl: Number(ttl[1]), src: flow[1]!, dst: flow[2]!, what: flow[3]!.replace(/^\[[^\]]*sum ok\] /, '') });
  }
  return { status: r.status, stderr: r.stderr, packets, text: r.stdout };
}

/** tshark's fields of every packet, tab-separated. */
function tsharkFields(file: string, fields: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** ping's reply lines: icmp_seq -> ttl. */
function pingReplies(out: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const x of out.matchAll(/icmp_seq=(\d+) (?:ident=\d+ )?ttl=(\d+)/g)) m.set(Number(x[1]), Number(x[2]));
  return m;
}

/** tcpdump's "ICMP echo request|reply, id N, seq N" packets. */
function echoes(packets: Dumped[], kind: 'request' | 'reply'): Dumped[] {
  return packets.filter((p) => new RegExp(`ICMP6?,? echo ${kind}`, 'i').test(p.what));
}
const seqOf = (p: Dumped) => Number(/seq (\d+)/.exec(p.what)![1]);

const REBUILT = /^sockit: IP header reconstructed/;
/** a TCP listener in the destination's namespace (connect, sock); ports tcpdump dissects as nothing but TCP and UDP */
const LISTEN_PORT = 40001;
/** and a TCP echo that answers in capitals once the client half-closes (sock -h), and a UDP port that takes datagrams */
const ECHO_PORT = 40002;
/** sockit sock's sink servers (one per user) */
const SINK_PORT = 40020;

/** Until something listens on TCP `port` in the destination (ss -ltn). */
async function waitListening(lab: Lab, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await lab.exec(lab.dst, ['ss', '-Hltn', `sport = :${port}`]);
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}
const LISTENER = `import socket, threading, time
def sock(kind, port):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port))
    return s
listener = sock(socket.SOCK_STREAM, ${LISTEN_PORT})
listener.listen(64)
echo = sock(socket.SOCK_STREAM, ${ECHO_PORT})
echo.listen(64)
sink = sock(socket.SOCK_DGRAM, ${ECHO_PORT})
def serve():
    while True:
        c, _ = echo.accept()
        data = b''
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
        c.sendall(data.upper())
        c.close()
def drain():
    while True:
        sink.recv(65536)
threading.Thread(target=serve, daemon=True).start()
threading.Thread(target=drain, daemon=True).start()
print('ready', flush=True)
time.sleep(600)`;

describe.skipIf(!isRoot)('--pcap in a lab (src - r1 - r2 - dst)', () => {
  let lab: Lab;
  let dir: string;
  let n = 0;
  const file = () => join(dir, `f${++n}.pcapng`);

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 2, ipv6: true, name: 'pcap' });
    await lab.pingGroupRange(lab.src, true);
    const listener = new Running(lab.spawn(lab.dst, ['python3', '-c', LISTENER]));
    await listener.line(/ready/);
    // nobody writes the files too
    dir = mkdtempSync(join(tmpdir(), 'sockit-pcap-'));
    chmodSync(dir, 0o777);
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--json is the same with --pcap as without: the same records, in the vocabulary', async () => {
    const runs = [
      ['ping', '--json', '-c', '2', '-i', '0.2', lab.dst.v4],
      ['traceroute', '--json', '-n', '-q', '1', lab.dst.v4],
      ['connect', '--json', lab.dst.v4, String(LISTEN_PORT)],
      ['sock', '--json', '-u', '-i', '-n', '2', '-w', '10', lab.dst.v4, String(ECHO_PORT)],
    ];
    const shape = (out: string) =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const r = JSON.parse(l) as Record<string, unknown>;
          return `${String(r.type)}:${Object.keys(r).sort().join(',')}`;
        });
    for (const args of runs) {
      const f = file();
      const plain = await sockitIn(lab, lab.src, args);
      const recorded = await sockitIn(lab, lab.src, [...args, '--pcap', f]);
      expect(recorded.code, recorded.stderr).toBe(plain.code);
      expect(vocabularyProblems(recorded.stdout, recorded.code)).toEqual([]);
      expect(shape(recorded.stdout)).toEqual(shape(plain.stdout));
      expect(tcpdumpRead(f).packets.length).toBeGreaterThan(0);
    }
  });

  it("traceroute -T --pcap (root: a raw socket): the SYNs per TTL, the routers' time exceeded and the RST from the closed port", async () => {
    const f = file();
    const r = await sockitIn(lab, lab.src, ['traceroute', '-T', '-p', String(LISTEN_PORT + 10), '-n', '-q', '1', '-N', '1', '--pcap', f, lab.dst.v4]);
    expect(r.code, r.stderr).toBe(0);
    const hops = r.stdout
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[1]);
    expect(hops).toEqual([lab.routers[0]!.v4, lab.routers[1]!.v4, lab.dst.v4]);
    const d = tcpdumpRead(f);
    expect(d.status, d.stderr).toBe(0);
    const syns = d.packets.filter((p) => /Flags \[S\]/.test(p.what));
    expect(syns.map((p) => p.ttl)).toEqual([1, 2, 3]);
    expect(d.packets.filter((p) => /time exceeded in-transit/.test(p.what)).map((p) => p.src)).toEqual(hops.slice(0, 2));
    const rst = d.packets.filter((p) => /Flags \[R\.\]/.test(p.what));
    expect(rst.map((p) => p.src)).toEqual([`${lab.dst.v4}.${LISTEN_PORT + 10}`]);
    // the RST answers the third SYN's port
    expect(rst[0]!.dst).toBe(syns[2]!.src);
  });

  for (const user of ['root', 'nobody'] as User[]) {
    for (const family of [4, 6] as const) {
      it(`ping -c 3 --pcap, ${user}, IPv${family}: every request and reply, the TTLs ping printed`, async () => {
        const f = file();
        const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
        const r = await sockitIn(lab, lab.src, ['ping', '-n', '-c', '3', '-i', '0.2', '--pcap', f, dst], { user });
        expect(r.code, r.stderr).toBe(0);
        const replies = pingReplies(r.stdout);
        expect([...replies.keys()]).toEqual([1, 2, 3]);
        const d = tcpdumpRead(f);
        expect(d.status, d.stderr).toBe(0);
        expect(d.text).not.toMatch(/bad cksum|incorrect/);
        const req = echoes(d.packets, 'request');
        const rep = echoes(d.packets, 'reply');
        expect(req.map(seqOf)).toEqual([1, 2, 3]);
        expect(rep.map(seqOf)).toEqual([1, 2, 3]);
        for (const p of req) expect([p.src, p.dst]).toEqual([lab.src.addr(0, family), dst]);
        for (const p of rep) expect({ from: p.src, ttl: p.ttl }).toEqual({ from: dst, ttl: replies.get(seqOf(p)) });
        // the same identifier both ways
        expect(new Set(d.packets.map((p) => /id (\d+)/.exec(p.what)?.[1])).size).toBe(1);
        const meta = tsharkFields(f, ['frame.interface_name', 'frame.comment']);
        expect(new Set(meta.map((m) => m[0]))).toEqual(new Set(['eth0']));
        if (user === 'nobody') for (const m of meta) expect(m[1]).toMatch(REBUILT);
        else for (const m of meta) expect(m[1] ?? '').toBe('');
      });
    }

    const traces = [
      { method: [], family: 4, last: /udp port \d+ unreachable/ },
      { method: ['-I'], family: 4, last: /echo reply/ },
      { method: [], family: 6, last: /unreachable port, .* udp port \d+/ },
    ] as const;
    for (const t of traces) {
      it(`traceroute ${t.method.join(' ')} --pcap, ${user}, IPv${t.family}: a probe per TTL, the answers of the hops traceroute printed`, async () => {
        const f = file();
        const dst = t.family === 4 ? lab.dst.v4 : lab.dst.v6;
        const r = await sockitIn(lab, lab.src, ['traceroute', ...t.method, '-n', '-q', '1', '-N', '1', '--pcap', f, dst], { user });
        expect(r.code, r.stderr).toBe(0);
        const hops = r.stdout
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .map((l) => l.trim().split(/\s+/)[1]);
        const fam = t.family;
        expect(hops).toEqual([lab.routers[0]!.addr(0, fam), lab.routers[1]!.addr(1, fam), dst]);
        const d = tcpdumpRead(f);
        expect(d.status, d.stderr).toBe(0);
        expect(d.text).not.toMatch(/bad cksum|incorrect/);
        const mine = lab.src.addr(0, fam);
        const probes = d.packets.filter((p) => p.src.startsWith(mine));
        const answers = d.packets.filter((p) => !p.src.startsWith(mine));
        expect(probes.map((p) => p.ttl)).toEqual([1, 2, 3]);
        expect(answers.map((p) => p.src)).toEqual(hops);
        expect(answers.slice(0, 2).map((p) => /time exceeded in-transit/.test(p.what))).toEqual([true, true]);
        expect(answers[2]!.what).toMatch(t.last);
        // the quoted datagram is the probe: a port unreachable names the last probe's port
        if (t.method.length === 0) expect(answers[2]!.what).toContain(`udp port ${probes[2]!.dst.split('.').pop()}`);
        const comments = tsharkFields(f, ['frame.comment']).map((m) => m[0] ?? '');
        if (user === 'nobody') {
          expect(comments.filter((c) => REBUILT.test(c))).toHaveLength(t.method.length ? 4 : 3);
          expect(comments.filter((c) => /error queue \(IP_RECVERR\)/.test(c))).toHaveLength(t.method.length ? 2 : 3);
        } else {
          expect(comments.every((c) => c === '')).toBe(true);
        }
      });
    }

    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      it(`traceroute --pcap, ${user}: ${signal} mid-run (a silent destination) dies of it and leaves a whole file`, async () => {
        const f = file();
        await lab.silent(lab.dst, 'all');
        try {
          const run = startSockitIn(lab, lab.src, ['traceroute', '-n', '-q', '1', '-N', '1', '-w', '5', '--pcap', f, lab.dst.v4], { user });
          // hop 1's line ends when hop 2's begins: hop 2 has answered by then
          await run.line(/^ 1 /);
          run.kill(signal);
          const exit = await run.exited;
          expect(exit.signal).toBe(signal);
          const d = tcpdumpRead(f);
          expect(d.status, d.stderr).toBe(0);
          const answers = d.packets.filter((p) => /time exceeded in-transit/.test(p.what)).map((p) => p.src);
          expect(answers).toEqual([lab.routers[0]!.v4, lab.routers[1]!.v4]);
          // the probes so far: TTL 1 and 2, and the third when it had gone out before the signal
          const ttls = d.packets.filter((p) => p.src.startsWith(`${lab.src.v4}.`)).map((p) => p.ttl);
          expect(ttls.slice(0, 2)).toEqual([1, 2]);
          expect(ttls.length).toBeLessThanOrEqual(3);
        } finally {
          await lab.silent(lab.dst, 'none');
        }
      });

    for (const family of [4, 6] as const) {
      it(`connect -c 2 --pcap, ${user}, IPv${family}: each attempt's SYN from the port connect reported, and the answer`, async () => {
        const f = file();
        const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
        const r = await sockitIn(lab, lab.src, ['connect', '--json', '-c', '2', '-i', '0.1', '--pcap', f, dst, String(LISTEN_PORT)], { user });
        expect(r.code, r.stderr).toBe(0);
        const conns = r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; local?: { port: number } })
          .filter((j) => j.type === 'connection');
        expect(conns).toHaveLength(2);
        const refused = await sockitIn(lab, lab.src, ['connect', '--pcap', `${f}.refused`, dst, String(LISTEN_PORT + 10)], { user });
        expect(refused.code).toBe(1);
        const d = tcpdumpRead(f);
        expect(d.status, d.stderr).toBe(0);
        // rebuilt segments carry valid checksums; a packet socket sees ours before the NIC (veth) would fill them in
        if (user === 'nobody') expect(d.text).not.toMatch(/bad cksum|incorrect/);
        const port = (a: string) => Number(a.slice(a.lastIndexOf('.') + 1));
        const syns = d.packets.filter((p) => /Flags \[S\]/.test(p.what));
        expect(syns.map((p) => port(p.src))).toEqual(conns.map((c) => c.local!.port));
        expect(syns.every((p) => port(p.dst) === LISTEN_PORT)).toBe(true);
        const synAcks = d.packets.filter((p) => /Flags \[S\.\]/.test(p.what));
        expect(synAcks.map((p) => port(p.dst))).toEqual(conns.map((c) => c.local!.port));
        // our close: a FIN from each port
        expect(d.packets.filter((p) => /Flags \[F\.\]/.test(p.what) && port(p.dst) === LISTEN_PORT).map((p) => port(p.src))).toEqual(
          conns.map((c) => c.local!.port),
        );
        const rd = tcpdumpRead(`${f}.refused`);
        expect(rd.status, rd.stderr).toBe(0);
        expect(rd.packets.map((p) => /Flags \[(\S+)\]/.exec(p.what)?.[1])).toEqual(['S', 'R.']);
        const comments = tsharkFields(f, ['frame.comment']).map((m) => m[0] ?? '');
        if (user === 'nobody') expect(comments.filter((c) => /handshake reconstructed/.test(c))).toHaveLength(6);
        else expect(comments.every((c) => c === '')).toBe(true);
      });
    }

    it(`sock -h --pcap, ${user}: the bytes both ways between the ports sock -v reported, and both FINs`, async () => {
      const f = file();
      const r = await sockitIn(lab, lab.src, ['sock', '-v', '-h', '--pcap', f, lab.dst.v4, String(ECHO_PORT)], { user, input: 'hello, world\n' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('HELLO, WORLD\n');
      const m = /connected on ([\d.]+)\.(\d+) to ([\d.]+)\.(\d+)/.exec(r.stderr)!;
      const [local, remote] = [`${m[1]}.${m[2]}`, `${m[3]}.${m[4]}`];
      expect(remote).toBe(`${lab.dst.v4}.${ECHO_PORT}`);
      const d = tcpdumpRead(f);
      expect(d.status, d.stderr).toBe(0);
      const flags = (p: Dumped) => /Flags \[(\S+)\]/.exec(p.what)?.[1];
      const ours = d.packets.filter((p) => p.src === local && p.dst === remote);
      const theirs = d.packets.filter((p) => p.src === remote && p.dst === local);
      expect(ours.length + theirs.length).toBe(d.packets.length);
      expect(flags(ours[0]!)).toBe('S');
      expect(flags(theirs[0]!)).toBe('S.');
      // the data segments, with their lengths, each way; then a FIN each way
      expect(ours.filter((p) => /length 13$/.test(p.what) && /P\./.test(flags(p)!))).toHaveLength(1);
      expect(theirs.filter((p) => /length 13$/.test(p.what) && /P\./.test(flags(p)!))).toHaveLength(1);
      expect(ours.some((p) => flags(p)!.includes('F'))).toBe(true);
      expect(theirs.some((p) => flags(p)!.includes('F'))).toBe(true);
      const bytes = spawnSync('tcpdump', ['-r', f, '-n', '-A'], { encoding: 'utf8' }).stdout;
      expect(bytes).toContain('hello, world');
      expect(bytes).toContain('HELLO, WORLD');
      const comments = tsharkFields(f, ['frame.comment']).map((c) => c[0] ?? '');
      if (user === 'nobody') expect(comments.every((c) => /reconstructed/.test(c))).toBe(true);
      else expect(comments.every((c) => c === '')).toBe(true);
    });

    it(`sock -u -i --pcap, ${user}: the source's datagrams from the port it reported, and the end mark`, async () => {
      const f = file();
      const r = await sockitIn(lab, lab.src, ['sock', '--json', '-u', '-i', '-n', '3', '-w', '100', '--pcap', f, lab.dst.v4, String(ECHO_PORT)], { user });
      expect(r.code, r.stderr).toBe(0);
      const transfer = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, { port?: number } & Record<string, unknown>>)
        .find((j) => j.type === ('transfer' as never))!;
      const localPort = (transfer.local as { port: number }).port;
      const d = tcpdumpRead(f);
      expect(d.status, d.stderr).toBe(0);
      expect(d.packets.map((p) => [p.src, p.dst, /UDP, length (\d+)/.exec(p.what)?.[1]])).toEqual([
        ...[1, 2, 3].map(() => [`${lab.src.v4}.${localPort}`, `${lab.dst.v4}.${ECHO_PORT}`, '100']),
        [`${lab.src.v4}.${localPort}`, `${lab.dst.v4}.${ECHO_PORT}`, '0'],
      ]);
      if (user === 'nobody') expect(d.text).not.toMatch(/bad cksum|incorrect/);
    });

    it(`sock -i -s --pcap (a sink server), ${user}: the client's handshake, its bytes and its FIN on the server's port`, async () => {
      const f = file();
      const port = SINK_PORT + (user === 'root' ? 0 : 1);
      // bound to its address: one interface, so a packet socket as root
      const sink = startSockitIn(lab, lab.dst, ['sock', '-i', '-s', '--json', '--pcap', f, lab.dst.v4, String(port)], { user });
      try {
        await waitListening(lab, port);
        const src = await sockitIn(lab, lab.src, ['sock', '-i', '-n', '3', '-w', '100', lab.dst.v4, String(port)]);
        expect(src.code, src.stderr).toBe(0);
        const exit = await sink.exited;
        expect(exit.code, sink.stderr).toBe(0);
      } finally {
        await sink.stop();
      }
      const d = tcpdumpRead(f);
      expect(d.status, d.stderr).toBe(0);
      const toUs = d.packets.filter((p) => p.dst === `${lab.dst.v4}.${port}`);
      expect(/Flags \[(\S+)\]/.exec(toUs[0]!.what)?.[1]).toBe('S');
      const data = toUs.filter((p) => /length [1-9]/.test(p.what)).map((p) => Number(/length (\d+)/.exec(p.what)![1]));
      expect(data.reduce((a, b) => a + b, 0)).toBe(300);
      expect(toUs.some((p) => /Flags \[F/.test(p.what))).toBe(true);
      expect(d.packets.filter((p) => p.src === `${lab.dst.v4}.${port}` && /Flags \[S\.\]/.test(p.what))).toHaveLength(1);
      const comments = tsharkFields(f, ['frame.comment']).map((c) => c[0] ?? '');
      if (user === 'nobody') expect(comments.every((c) => /reconstructed/.test(c))).toBe(true);
      else expect(comments.every((c) => c === '')).toBe(true);
    });

    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      it(`sock --pcap, ${user}: ${signal} mid-connection still dies of it, and the file holds what was sent`, async () => {
        const f = file();
        const run = startSockitIn(lab, lab.src, ['sock', '-v', '--pcap', f, lab.dst.v4, String(LISTEN_PORT)], { user, stdin: 'pipe' });
        await run.line(/connected on/, 20_000, 'stderr');
        run.child.stdin!.write('interrupted\n');
        // the segment is on its way once the write is in the kernel: give it a moment
        await new Promise((r) => setTimeout(r, 300));
        run.kill(signal);
        const exit = await run.exited;
        expect(exit.signal).toBe(signal);
        const d = tcpdumpRead(f);
        expect(d.status, d.stderr).toBe(0);
        expect(d.packets.some((p) => /Flags \[P\.\].*length 12$/.test(p.what) && p.dst === `${lab.dst.v4}.${LISTEN_PORT}`)).toBe(true);
      });

    it(`connect --pcap to a name whose addresses leave by two interfaces, ${user}: an IDB for each, each attempt on its own`, async () => {
      const f = file();
      // "twoway": ::1 (loopback) and the destination (eth0); nothing listens on the port at either
      lab.hosts(lab.src, [`::1 twoway`, `${lab.dst.v4} twoway`]);
      const r = await sockitIn(lab, lab.src, ['connect', '--json', '--pcap', f, 'twoway', String(LISTEN_PORT + 10)], { user });
      expect(r.code, r.stderr).toBe(1);
      const attempts = r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; remote?: { address: string } })
        .filter((j) => j.type === 'error');
      expect(attempts.map((a) => a.remote!.address).sort()).toEqual(['::1', lab.dst.v4].sort());
      const rows = tsharkFields(f, ['frame.interface_name', 'ip.dst', 'ipv6.dst', 'tcp.flags.str']);
      const on = (name: string) => rows.filter((row) => row[0] === name).map((row) => row[1] || row[2]);
      expect(new Set(on('lo'))).toEqual(new Set(['::1']));
      expect(new Set(on('eth0'))).toEqual(new Set([lab.dst.v4, lab.src.v4]));
      // a SYN and its RST on each
      for (const name of ['lo', 'eth0']) expect(rows.filter((row) => row[0] === name)).toHaveLength(2);
    });

    it(`ping -w 1 --pcap, ${user}: the deadline ends it with a whole file of every probe and reply it printed`, async () => {
      const f = file();
      const r = await sockitIn(lab, lab.src, ['ping', '-n', '-i', '0.2', '-w', '1', '--pcap', f, lab.dst.v4], { user });
      expect(r.code, r.stderr).toBe(0);
      const sent = Number(/(\d+) packets transmitted/.exec(r.stdout)![1]);
      const d = tcpdumpRead(f);
      expect(d.status, d.stderr).toBe(0);
      expect(echoes(d.packets, 'request')).toHaveLength(sent);
      expect(echoes(d.packets, 'reply').map(seqOf)).toEqual([...pingReplies(r.stdout).keys()]);
    });

    it(`ping -c 2 --pcap to a silent destination, ${user}: exit 1 (no reply) with a whole file of both requests`, async () => {
      const f = file();
      await lab.silent(lab.dst, 'all');
      try {
        const r = await sockitIn(lab, lab.src, ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '0.5', '--pcap', f, lab.dst.v4], { user });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stdout).toMatch(/2 packets transmitted, 0 received, 100% packet loss/);
        const d = tcpdumpRead(f);
        expect(d.status, d.stderr).toBe(0);
        expect(d.stderr).not.toMatch(/truncated|damaged/i);
        expect(echoes(d.packets, 'request').map(seqOf)).toEqual([1, 2]);
        expect(echoes(d.packets, 'reply')).toHaveLength(0);
      } finally {
        await lab.silent(lab.dst, 'none');
      }
    });

    it(`connect --pcap to a silent port, ${user}: SIGTERM mid-attempt dies of it and the file holds the SYNs`, async () => {
      const f = file();
      await lab.silent(lab.dst, 'all');
      try {
        const run = startSockitIn(lab, lab.src, ['connect', '-c', '5', '-i', '0.2', '--json', '--pcap', f, lab.dst.v4, String(LISTEN_PORT)], { user });
        await new Promise((r) => setTimeout(r, 1200));
        run.kill('SIGTERM');
        const exit = await run.exited;
        expect(exit.signal).toBe('SIGTERM');
        const d = tcpdumpRead(f);
        expect(d.status, d.stderr).toBe(0);
        expect(d.stderr).not.toMatch(/truncated|damaged/i);
        const syns = d.packets.filter((p) => /Flags \[S\]/.test(p.what) && p.dst === `${lab.dst.v4}.${LISTEN_PORT}`);
        expect(syns.length).toBeGreaterThan(0);
        expect(statSync(f).size % 4).toBe(0);
      } finally {
        await lab.silent(lab.dst, 'none');
      }
    });

    it(`ping --pcap, ${user}: SIGINT mid-run leaves a whole file with what ping printed`, async () => {
      const f = file();
      const run = startSockitIn(lab, lab.src, ['ping', '-n', '-i', '0.2', '--pcap', f, lab.dst.v4], { user });
      await run.line(/icmp_seq=3 /);
      run.kill('SIGINT');
      const exit = await run.exited;
      expect(exit.code).toBe(0);
      const printed = pingReplies(run.stdout);
      const d = tcpdumpRead(f);
      expect(d.status, d.stderr).toBe(0);
      expect(d.stderr).not.toMatch(/truncated|damaged/i);
      // every reply ping printed is in the file (a request may have gone out after the last reply)
      const rep = echoes(d.packets, 'reply').map(seqOf);
      for (const seq of printed.keys()) expect(rep).toContain(seq);
      expect(echoes(d.packets, 'request').length).toBeGreaterThanOrEqual(printed.size);
    });

    it(`ping --pcap, ${user}: SIGTERM kills it and still leaves a whole file`, async () => {
      const f = file();
      const run = startSockitIn(lab, lab.src, ['ping', '-n', '-i', '0.2', '--pcap', f, lab.dst.v4], { user });
      await run.line(/icmp_seq=2 /);
      run.kill('SIGTERM');
      const exit = await run.exited;
      expect(exit.signal).toBe('SIGTERM');
      const d = tcpdumpRead(f);
      expect(d.status, d.stderr).toBe(0);
      expect(echoes(d.packets, 'reply').map(seqOf)).toEqual(expect.arrayContaining([1, 2]));
      expect(statSync(f).size % 4).toBe(0);
    });
  }
});

describe('--pcap: bad input and unwritable files, before any packet', () => {
  const commands = [
    ['ping', '-c', '1', '127.0.0.1'],
    ['traceroute', '-n', '-m', '1', '127.0.0.1'],
    ['connect', '127.0.0.1', '1'],
    ['sock', '-u', '-i', '-n', '1', '127.0.0.1', '9'],
  ];
  for (const args of commands) {
    // ping opens its ICMP socket first: without root (and ping_group_range closed) it stops there
    it.skipIf(!isRoot && args[0] === 'ping')(`${args[0]}: a file that cannot be written is one line and exit 1; '-' is bad input, exit 2`, () => {
      const bad = spawnSync(process.execPath, [sockitBin, ...args, '--pcap', '/nonexistent/dir/x.pcapng'], { encoding: 'utf8' });
      expect(bad.stderr).toBe(`sockit ${args[0]}: /nonexistent/dir/x.pcapng: No such file or directory\n`);
      expect(bad.status).toBe(1);
      expect(bad.stdout).toBe('');
      const dash = spawnSync(process.execPath, [sockitBin, ...args, '--pcap', '-'], { encoding: 'utf8' });
      expect(dash.status).toBe(2);
      expect(dash.stderr).toMatch(new RegExp(`^sockit ${args[0]}: --pcap -: give a file to write .*\n$`));
    });
  }
});
