// Self-test of the network-namespace lab: every check sends real packets
// through real namespaces and reads them back with the system's own tools
// (iputils ping, traceroute, socat, nft).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnable } from '../helpers/readable.js';
import { native, isSystemError } from '../../src/stack/native/index.js';
import { Lab, MAX_ROUTERS, isRoot, needsRootReason, planChain, sweepStaleLabs, v6Address, withLab, type LabNode } from './index.js';

const checkout = fileURLToPath(new URL('../..', import.meta.url));
const addon = ['Release', 'Debug'].map((kind) => fileURLToPath(new URL(`../../build/${kind}/sockit.node`, import.meta.url))).find((file) => existsSync(file))!;

/** `ip netns list`, names only */
function netnsList(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[0]!);
}

/** traceroute -n output → one entry per hop: the address, or '*' */
function hops(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(1)
    .filter((l) => /^\s*\d+\s/.test(l))
    .map((l) => l.trim().split(/\s+/)[1]!);
}

function received(stdout: string): number {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  if (!m) throw new Error(`no ping statistics in:\n${stdout}`);
  return Number(m[2]);
}

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (isSystemError(e)) return e.code;
    throw e;
  }
}

describe('addressing plan', () => {
  it('numbers links toward the destination .1/::1 and toward the source .2/::2', () => {
    const plan = planChain(3);
    expect(plan.nodes.map((n) => n.role)).toEqual(['src', 'router', 'router', 'router', 'dst']);
    expect(plan.links[0]).toMatchObject({
      prefix4: '192.0.2.0/28',
      prefix6: '2001:db8::/64',
      left: { node: 0, ifname: 'eth0', v4: '192.0.2.2', v6: '2001:db8::2' },
      right: { node: 1, ifname: 'eth0', v4: '192.0.2.1', v6: '2001:db8::1' },
    });
    expect(plan.links[1]).toMatchObject({
      prefix4: '192.0.2.16/28',
      prefix6: '2001:db8:0:1::/64',
      left: { node: 1, ifname: 'eth1', v4: '192.0.2.18' },
      right: { node: 2, ifname: 'eth0', v4: '192.0.2.17' },
    });
    // r2 reaches link 0 back through r1 and link 3 on through r3
    expect(plan.nodes[2]!.routes4).toEqual([
      { prefix: '192.0.2.0/28', via: '192.0.2.18' },
      { prefix: '192.0.2.48/28', via: '192.0.2.33' },
    ]);
    expect(plan.nodes[0]!.routes6).toEqual([{ prefix: 'default', via: '2001:db8::1' }]);
    expect(plan.nodes[4]!.routes4).toEqual([{ prefix: 'default', via: '192.0.2.50' }]);
  });

  it('writes IPv6 link numbers in hex, canonically, and stops at 14 routers', () => {
    expect(v6Address(10, 1)).toBe('2001:db8:0:a::1');
    expect(v6Address(0, 0)).toBe('2001:db8::');
    expect(planChain(MAX_ROUTERS).links.at(-1)!.right.v4).toBe('192.0.2.225');
    expect(() => planChain(MAX_ROUTERS + 1)).toThrow(RangeError);
    expect(planChain(0).nodes.every((n) => n.routes4.length === 0)).toBe(true);
  });
});

describe.skipIf(!isRoot)(`lab (${isRoot ? 'as root' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 3, ipv6: true, name: 'self' });
  });
  afterAll(async () => {
    await lab?.close();
  });

  describe('3-router chain', () => {
    it('names namespaces per process and lab, and exposes roles and primary addresses', () => {
      expect(lab.nodes).toHaveLength(5);
      expect(lab.routers.map((r) => r.role)).toEqual(['router', 'router', 'router']);
      expect(lab.src.name).toMatch(new RegExp(`^sk${process.pid}x\\d+-self-s0$`));
      expect(new Set(lab.names).size).toBe(5);
      expect(netnsList()).toEqual(expect.arrayContaining(lab.names));
      expect([lab.src.v4, lab.src.v6]).toEqual(['192.0.2.2', '2001:db8::2']);
      expect([lab.routers[0]!.v4, lab.routers[0]!.v6]).toEqual(['192.0.2.1', '2001:db8::1']);
      expect(lab.routers[0]!.addr(1, 4)).toBe('192.0.2.18');
      expect([lab.dst.v4, lab.dst.v6]).toEqual(['192.0.2.49', '2001:db8:0:3::1']);
      expect(() => lab.src.addr(2)).toThrow(/not on link 2/);
      expect(lab.links[2]!.left.node).toBe(lab.routers[1]);
    });

    it('configures exactly the planned addresses, none of them tentative', async () => {
      for (const node of lab.nodes) {
        const r = await lab.exec(node, ['ip', '-j', 'addr', 'show', 'scope', 'global']);
        const got = (JSON.parse(r.stdout) as { ifname: string; addr_info: { local: string; tentative?: boolean }[] }[])
          .flatMap((i) => i.addr_info.filter((a) => a.local).map((a) => `${i.ifname} ${a.local}${a.tentative ? ' tentative' : ''}`))
          .sort();
        const want = lab.links
          .flatMap((l) => [l.left, l.right])
          .filter((end) => end.node === node)
          .flatMap((end) => [`${end.ifname} ${end.v4}`, `${end.ifname} ${end.v6}`])
          .sort();
        expect(got).toEqual(want);
      }
    });

    it('reaches dst over IPv4 through 3 routers (ttl 64 - 3)', async () => {
      const r = await lab.exec(lab.src, ['ping', '-c1', '-W2', lab.dst.v4]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`bytes from ${lab.dst.v4}: icmp_seq=1 ttl=61 `));
    });

    it('reaches dst over IPv6 through 3 routers (hop limit 64 - 3)', async () => {
      const r = await lab.exec(lab.src, ['ping', '-6', '-c1', '-W2', lab.dst.v6]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`bytes from ${lab.dst.v6}: icmp_seq=1 ttl=61 `));
    });

    it('answers in both directions: dst reaches src and every router reaches both ends', async () => {
      for (const [from, to] of [
        [lab.dst, lab.src],
        ...lab.routers.flatMap((r) => [
          [r, lab.src],
          [r, lab.dst],
        ]),
      ] as [LabNode, LabNode][]) {
        const r = await lab.exec(from, ['ping', '-c1', '-W2', to.v4]);
        expect(r.code, `${from.name} → ${to.v4}`).toBe(0);
      }
    });

    it('traceroute -n lists each router by its source-facing address, then dst (v4 and v6)', async () => {
      const r4 = await lab.exec(lab.src, ['traceroute', '-n', '-q1', '-w2', lab.dst.v4]);
      expect(hops(r4.stdout)).toEqual([...lab.routers.map((r) => r.v4), lab.dst.v4]);
      expect(hops(r4.stdout)).toEqual(['192.0.2.1', '192.0.2.17', '192.0.2.33', '192.0.2.49']);
      const r6 = await lab.exec(lab.src, ['traceroute', '-6', '-n', '-q1', '-w2', lab.dst.v6]);
      expect(hops(r6.stdout)).toEqual([...lab.routers.map((r) => r.v6), lab.dst.v6]);
    });

    it('gives every hop its full TTL-exceeded reply: no ICMP rate limiting by default (v4 and v6)', async () => {
      // 20 probes dying at r1 within ~100 ms: the kernel default would answer 6
      const [r4, r6] = await Promise.all([
        lab.exec(lab.src, ['ping', '-c20', '-i', '0.005', '-W1', '-t1', lab.dst.v4]),
        lab.exec(lab.src, ['ping', '-6', '-c20', '-i', '0.005', '-W1', '-t1', lab.dst.v6]),
      ]);
      expect(r4.stdout.match(/From 192\.0\.2\.1 icmp_seq=\d+ Time to live exceeded/g)).toHaveLength(20);
      expect(r6.stdout.match(/From 2001:db8::1 icmp_seq=\d+ Time exceeded: Hop limit/g)).toHaveLength(20);
    });
  });

  describe('exec / spawn / within', () => {
    it('exec never throws on failure, pipes input, passes env and kills on timeout', async () => {
      expect(await lab.exec(lab.src, ['sh', '-c', 'exit 3'])).toMatchObject({ code: 3, signal: null, timedOut: false });
      expect((await lab.exec(lab.src, ['cat'], { input: 'over stdin' })).stdout).toBe('over stdin');
      expect((await lab.exec(lab.src, ['sh', '-c', 'echo $LAB_X'], { env: { LAB_X: 'y' } })).stdout).toBe('y\n');
      const t0 = performance.now();
      const slow = await lab.exec(lab.src, ['sleep', '30'], { timeoutMs: 300 });
      expect(slow).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
      expect(performance.now() - t0).toBeLessThan(5000);
      expect((await lab.exec(lab.src, ['no-such-command-xyz'])).code).not.toBe(0);
    });

    it("exec runs inside the node's namespace", async () => {
      const r = await lab.exec(lab.routers[1]!, ['ip', '-br', 'addr', 'show', 'dev', 'eth1']);
      expect(r.stdout).toContain('192.0.2.34/28');
    });

    it("user 'nobody' has uid/gid 65534 and no capability in any set", async () => {
      const r = await lab.exec(lab.src, ['sh', '-c', 'id -u; id -g; id -G; grep -E "^(Cap|NoNewPrivs)" /proc/self/status'], { user: 'nobody' });
      const [uid, gid, groups, ...caps] = r.stdout.trim().split('\n');
      expect([uid, gid, groups]).toEqual(['65534', '65534', '65534']);
      expect(caps.map((l) => l.replace(/\s+/, ' '))).toEqual([
        'CapInh: 0000000000000000',
        'CapPrm: 0000000000000000',
        'CapEff: 0000000000000000',
        'CapBnd: 0000000000000000',
        'CapAmb: 0000000000000000',
        'NoNewPrivs: 1',
      ]);
    });

    it('within() creates sockets in the namespace, which keep it after switching back', async () => {
      const home = readlinkSync('/proc/thread-self/ns/net');
      const fd = lab.within(lab.dst, () => {
        expect(readlinkSync('/proc/thread-self/ns/net')).not.toBe(home);
        const s = native.socket(2, 2, 0); // AF_INET, SOCK_DGRAM
        native.bind(s, { family: 2, address: lab.dst.v4, port: 0 });
        return s;
      });
      try {
        expect(readlinkSync('/proc/thread-self/ns/net')).toBe(home);
        // the root namespace has no such address
        const probe = native.socket(2, 2, 0);
        try {
          expect(errnoOf(() => native.bind(probe, { family: 2, address: lab.dst.v4, port: 0 }))).toBe('EADDRNOTAVAIL');
        } finally {
          native.close(probe);
        }
        // a datagram sent from src across the routers lands on the socket
        const { port } = native.getsockname(fd) as { port: number };
        const sent = await lab.exec(lab.src, ['socat', '-u', '-', `UDP4-SENDTO:${lab.dst.v4}:${port}`], { input: 'through the lab' });
        expect(sent.code).toBe(0);
        const buf = Buffer.alloc(64);
        let got = native.recvmsg(fd, buf, 0);
        for (let i = 0; !got && i < 100; i++) {
          await new Promise((r) => setTimeout(r, 10));
          got = native.recvmsg(fd, buf, 0);
        }
        expect(got).not.toBeNull();
        expect(buf.subarray(0, got!.bytes).toString()).toBe('through the lab');
        expect(got!.address).toMatchObject({ family: 2, address: lab.src.v4 });
      } finally {
        native.close(fd);
      }
    });

    it('within() switches back when fn throws, and refuses async functions', () => {
      const home = readlinkSync('/proc/thread-self/ns/net');
      expect(() =>
        lab.within(lab.src, () => {
          throw new Error('inside');
        }),
      ).toThrow('inside');
      expect(readlinkSync('/proc/thread-self/ns/net')).toBe(home);
      expect(() => lab.within(lab.src, async () => 1)).toThrow(/synchronous/);
      expect(readlinkSync('/proc/thread-self/ns/net')).toBe(home);
    });
  });

  describe('knobs', () => {
    it("silent('icmp-errors') on r2: traceroute shows * at hop 2 yet reaches dst; r2 still answers echo", async () => {
      await withLab({ routers: 3, ipv6: true }, async (l) => {
        const r2 = l.routers[1]!;
        await l.silent(r2, 'icmp-errors');
        await l.silent(r2, 'icmp-errors'); // idempotent
        const t4 = await l.exec(l.src, ['traceroute', '-n', '-q1', '-w1', l.dst.v4]);
        expect(hops(t4.stdout)).toEqual([l.routers[0]!.v4, '*', l.routers[2]!.v4, l.dst.v4]);
        const t6 = await l.exec(l.src, ['traceroute', '-6', '-n', '-q1', '-w1', l.dst.v6]);
        expect(hops(t6.stdout)).toEqual([l.routers[0]!.v6, '*', l.routers[2]!.v6, l.dst.v6]);
        // one time-exceeded per family swallowed by the rule
        expect((await l.counters(r2)).silent_errors!.packets).toBe(2);
        expect(received((await l.exec(l.src, ['ping', '-c1', '-W2', r2.v4])).stdout)).toBe(1);
        expect((await l.exec(l.src, ['ping', '-c1', '-W2', l.dst.v4])).stdout).toContain('ttl=61');
        // and it can be undone
        await l.silent(r2, 'none');
        expect(hops((await l.exec(l.src, ['traceroute', '-n', '-q1', '-w1', l.dst.v4])).stdout)[1]).toBe(r2.v4);
      });
    });

    it("silent('all') on r2: no reply from r2 itself, but traffic still flows through it (v4 and v6)", async () => {
      await withLab({ routers: 3, ipv6: true }, async (l) => {
        const r2 = l.routers[1]!;
        await l.silent(r2, 'all');
        const [p4, p6] = await Promise.all([l.exec(l.src, ['ping', '-c1', '-W1', r2.v4]), l.exec(l.src, ['ping', '-6', '-c1', '-W1', r2.v6])]);
        expect(received(p4.stdout)).toBe(0);
        expect(received(p6.stdout)).toBe(0);
        expect((await l.counters(r2)).silent_all!.packets).toBeGreaterThanOrEqual(2);
        expect(received((await l.exec(l.src, ['ping', '-c1', '-W2', l.dst.v4])).stdout)).toBe(1);
        expect(received((await l.exec(l.src, ['ping', '-6', '-c1', '-W2', l.dst.v6])).stdout)).toBe(1);
      });
    });

    // What iputils ping prints when r1's route to dst's link is broken each way.
    const kinds = [
      { kind: 'host', v4: /From 192\.0\.2\.1 icmp_seq=1 Destination Host Unreachable/, v6: /From 2001:db8::1 icmp_seq=1 Destination unreachable: No route/ },
      { kind: 'net', v4: /From 192\.0\.2\.1 icmp_seq=1 Destination Net Unreachable/, v6: /From 2001:db8::1 icmp_seq=1 Destination unreachable: No route/ },
      {
        kind: 'prohibit',
        v4: /From 192\.0\.2\.1 icmp_seq=1 Packet filtered/,
        v6: /From 2001:db8::1 icmp_seq=1 Destination unreachable: Administratively prohibited/,
      },
      { kind: 'blackhole', v4: null, v6: null },
    ] as const;
    it.each(kinds)("unreachable(r1, dst's link, '$kind') gives the matching ICMP error", async ({ kind, v4, v6 }) => {
      await withLab({ routers: 2, ipv6: true }, async (l) => {
        const r1 = l.routers[0]!;
        // before: fine
        expect(received((await l.exec(l.src, ['ping', '-c1', '-W2', l.dst.v4])).stdout)).toBe(1);
        await l.unreachable(r1, l.links[2]!.prefix.v4, kind);
        await l.unreachable(r1, l.links[2]!.prefix.v4, kind); // idempotent
        await l.unreachable(r1, l.links[2]!.prefix.v6, kind);
        const [p4, p6] = await Promise.all([l.exec(l.src, ['ping', '-c1', '-W1', l.dst.v4]), l.exec(l.src, ['ping', '-6', '-c1', '-W1', l.dst.v6])]);
        expect(received(p4.stdout)).toBe(0);
        expect(received(p6.stdout)).toBe(0);
        if (v4 === null || v6 === null) {
          // a blackhole answers nothing
          expect(p4.stdout).not.toMatch(/From |errors/);
          expect(p6.stdout).not.toMatch(/From |errors/);
        } else {
          expect(p4.stdout).toMatch(v4);
          expect(p6.stdout).toMatch(v6);
        }
        // only that prefix is affected: r2 (on link 1) still answers
        expect(received((await l.exec(l.src, ['ping', '-c1', '-W2', l.routers[1]!.v4])).stdout)).toBe(1);
      });
    });

    it("unreachable(src, …, 'net') fails locally with 'Network is unreachable'", async () => {
      await withLab({ routers: 1 }, async (l) => {
        await l.unreachable(l.src, l.links[1]!.prefix.v4, 'net');
        const r = await l.exec(l.src, ['ping', '-c1', '-W1', l.dst.v4]);
        expect(r.stderr).toMatch(/Network is unreachable/);
        expect(received((await l.exec(l.src, ['ping', '-c1', '-W2', l.routers[0]!.v4])).stdout)).toBe(1);
      });
    });

    it('mtu(1, 1400): DF pings of 1428 bytes get frag-needed mtu = 1400, 1400 bytes pass (v4 and v6)', async () => {
      await withLab({ routers: 2, ipv6: true }, async (l) => {
        await l.mtu(1, 1400);
        const big = await l.exec(l.src, ['ping', '-c1', '-W1', '-M', 'do', '-s', '1400', l.dst.v4]);
        expect(big.code).not.toBe(0);
        expect(big.stdout).toMatch(/From 192\.0\.2\.1 icmp_seq=1 Frag needed and DF set \(mtu = 1400\)/);
        const fits = await l.exec(l.src, ['ping', '-c1', '-W2', '-M', 'do', '-s', '1372', l.dst.v4]);
        expect(fits.stdout).toMatch(/1380 bytes from 192\.0\.2\.33: icmp_seq=1 ttl=62/);
        const big6 = await l.exec(l.src, ['ping', '-6', '-c1', '-W1', '-M', 'do', '-s', '1400', l.dst.v6]);
        expect(big6.stdout).toMatch(/From 2001:db8::1 icmp_seq=1 Packet too big: mtu=1400/);
        const fits6 = await l.exec(l.src, ['ping', '-6', '-c1', '-W2', '-M', 'do', '-s', '1352', l.dst.v6]);
        expect(received(fits6.stdout)).toBe(1);
        // both ends of link 1 changed, link 0 did not
        const mtuOf = async (n: LabNode, dev: string) => /mtu (\d+)/.exec((await l.exec(n, ['ip', 'link', 'show', dev])).stdout)![1];
        expect(await mtuOf(l.routers[0]!, 'eth1')).toBe('1400');
        expect(await mtuOf(l.routers[1]!, 'eth0')).toBe('1400');
        expect(await mtuOf(l.routers[0]!, 'eth0')).toBe('1500');
      });
    });

    it('loss(r1, 50) on echo requests: dropped + passed = sent, and ping receives exactly what passed', async () => {
      await withLab({ routers: 2 }, async (l) => {
        const r1 = l.routers[0]!;
        // count the requests: each crosses r1's forward hook exactly once;
        // the replies are not matched, so every request that passes is answered
        const names = await l.loss(r1, 50, { match: 'icmp type echo-request' });
        const p = await l.exec(l.src, ['ping', '-q', '-c100', '-i', '0.002', '-W1', l.dst.v4]);
        const c = await l.counters(r1);
        const dropped = c[names.dropped]!.packets;
        const passed = c[names.passed]!.packets;
        expect(dropped + passed).toBe(100);
        expect(received(p.stdout)).toBe(passed);
        // 50 % of 100: both sides are hit (all-or-nothing has probability 2^-99)
        expect(dropped).toBeGreaterThan(0);
        expect(passed).toBeGreaterThan(0);
        // reconfiguring the same rule resets its counters; 0 % loses nothing
        expect(await l.loss(r1, 0, { match: 'icmp type echo-request' })).toEqual(names);
        const q = await l.exec(l.src, ['ping', '-q', '-c20', '-i', '0.002', '-W1', l.dst.v4]);
        expect(received(q.stdout)).toBe(20);
        expect(await l.counters(r1)).toMatchObject({ [names.dropped]: { packets: 0 }, [names.passed]: { packets: 20 } });
        // 100 % on the replies, at dst's output this time
        const out = await l.loss(l.dst, 100, { match: 'icmp type echo-reply', hook: 'output' });
        const z = await l.exec(l.src, ['ping', '-q', '-c5', '-i', '0.002', '-W1', l.dst.v4]);
        expect(received(z.stdout)).toBe(0);
        expect((await l.counters(l.dst))[out.dropped]!.packets).toBe(5);
      });
    });

    it('icmpRateLimit(r1, 1000) brings back kernel-style limiting of time-exceeded errors', async () => {
      await withLab({ routers: 1, ipv6: true }, async (l) => {
        await l.icmpRateLimit(l.routers[0]!, 1000);
        // a per-destination token bucket of 1 s with burst 6: at most 6-7 of 20 in 100 ms
        const r = await l.exec(l.src, ['ping', '-c20', '-i', '0.005', '-W1', '-t1', l.dst.v4]);
        const n = r.stdout.match(/Time to live exceeded/g)?.length ?? 0;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(7);
        const r6 = await l.exec(l.src, ['ping', '-6', '-c20', '-i', '0.005', '-W1', '-t1', l.dst.v6]);
        const n6 = r6.stdout.match(/Time exceeded: Hop limit/g)?.length ?? 0;
        expect(n6).toBeGreaterThanOrEqual(1);
        expect(n6).toBeLessThanOrEqual(7);
      });
    });

    it('pingGroupRange: nobody may open an ICMP echo socket only while the range is open', async () => {
      await withLab({ routers: 0 }, async (l) => {
        // AF_INET, SOCK_DGRAM, IPPROTO_ICMP through the project's addon
        const probe = [
          process.execPath,
          '-e',
          `const n = require(${JSON.stringify(runnable(relative(checkout, addon), 'nobody'))});
           try { n.close(n.socket(2, 2, 1)); console.log('OK'); } catch (e) { console.log(e.code); }`,
        ];
        const as = () => l.exec(l.src, probe, { user: 'nobody' });
        expect((await as()).stdout.trim()).toBe('EACCES'); // closed ("1 0") in a new namespace
        await l.pingGroupRange(l.src, true);
        expect((await l.exec(l.src, ['cat', '/proc/sys/net/ipv4/ping_group_range'])).stdout).toBe('0\t2147483647\n');
        expect((await as()).stdout.trim()).toBe('OK');
        // only that namespace
        expect((await l.exec(l.dst, probe, { user: 'nobody' })).stdout.trim()).toBe('EACCES');
        await l.pingGroupRange(l.src, false);
        expect((await as()).stdout.trim()).toBe('EACCES');
      });
    });

    it('dropTcpSyn(dst, 7) makes connects to port 7 time out while port 8 still works', async () => {
      await withLab({ routers: 1 }, async (l) => {
        for (const port of [7, 8]) l.spawn(l.dst, ['socat', `TCP4-LISTEN:${port},reuseaddr,fork`, 'PIPE']);
        const hello = (port: number) => l.exec(l.src, ['socat', '-T2', '-', `TCP4:${l.dst.v4}:${port},connect-timeout=1`], { input: `hello ${port}\n` });
        // wait for both listeners
        for (const port of [7, 8]) {
          let r = await hello(port);
          for (let i = 0; r.code !== 0 && i < 100; i++) {
            await new Promise((res) => setTimeout(res, 20));
            r = await hello(port);
          }
          expect(r.stdout).toBe(`hello ${port}\n`);
        }
        await l.dropTcpSyn(l.dst, 7);
        const t0 = performance.now();
        const blocked = await hello(7);
        expect(blocked.code).not.toBe(0);
        expect(blocked.stderr).toMatch(/Connection timed out/);
        expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
        expect((await hello(8)).stdout).toBe('hello 8\n');
        expect((await l.counters(l.dst)).syn_dropped!.packets).toBeGreaterThanOrEqual(1);
      });
    });

    it('addAddress gives dst a second address that the whole chain routes to', async () => {
      await withLab({ routers: 2, ipv6: true }, async (l) => {
        await l.addAddress(l.dst, '198.51.100.7/32');
        await l.addAddress(l.dst, '2001:db8:ffff::7/128');
        const r = await l.exec(l.src, ['ping', '-c1', '-W2', '198.51.100.7']);
        expect(r.stdout).toMatch(/from 198\.51\.100\.7: icmp_seq=1 ttl=62/);
        const r6 = await l.exec(l.src, ['ping', '-6', '-c1', '-W2', '2001:db8:ffff::7']);
        expect(r6.stdout).toMatch(/from 2001:db8:ffff::7: icmp_seq=1 ttl=62/);
      });
    });

    it('nft() applies a raw script in the lab table', async () => {
      await withLab({ routers: 1 }, async (l) => {
        await l.nft(l.dst, 'add counter inet lab mine\nadd rule inet lab input icmp type echo-request counter name "mine"');
        await l.exec(l.src, ['ping', '-q', '-c3', '-i', '0.01', '-W2', l.dst.v4]);
        expect((await l.counters(l.dst)).mine).toEqual({ packets: 3, bytes: 3 * 84 });
        await expect(l.nft(l.dst, 'add rule inet lab nosuchchain drop')).rejects.toThrow(/nft/);
      });
    });
  });

  describe('sizes and speed', () => {
    it('builds a 5-router dual-stack chain in well under 2 s', async () => {
      const t0 = performance.now();
      await withLab({ routers: 5, ipv6: true }, async (l) => {
        const built = performance.now() - t0;
        expect(built).toBeLessThan(2000);
        expect((await l.exec(l.src, ['ping', '-c1', '-W2', l.dst.v4])).stdout).toContain('ttl=59');
      });
    });

    it('supports 0 routers (hosts back to back) and the maximum of 14', async () => {
      await withLab({ routers: 0, ipv6: true }, async (l) => {
        expect(l.routers).toEqual([]);
        expect([l.src.v4, l.dst.v4]).toEqual(['192.0.2.2', '192.0.2.1']);
        expect((await l.exec(l.src, ['ping', '-c1', '-W2', l.dst.v4])).stdout).toContain('ttl=64');
        expect((await l.exec(l.src, ['ping', '-6', '-c1', '-W2', l.dst.v6])).stdout).toContain('ttl=64');
      });
      await withLab({ routers: MAX_ROUTERS }, async (l) => {
        expect(l.dst.v4).toBe('192.0.2.225');
        expect((await l.exec(l.src, ['ping', '-c1', '-W2', l.dst.v4])).stdout).toContain(`ttl=${64 - MAX_ROUTERS}`);
        expect((await l.exec(l.dst, ['ping', '-c1', '-W2', l.src.v4])).stdout).toContain(`ttl=${64 - MAX_ROUTERS}`);
      });
      // no IPv6 asked for: asking for an IPv6 address is a mistake
      await withLab({ routers: 0 }, async (l) => {
        expect(() => l.dst.v6).toThrow(/without IPv6/);
      });
    });
  });

  describe('lifecycle', () => {
    it('close() kills spawned processes, deletes every namespace, and is idempotent', async () => {
      const l = await Lab.chain({ routers: 2 });
      const names = l.names;
      const server = l.spawn(l.dst, ['sleep', '1000']);
      const exited = new Promise<string | null>((res) => server.on('exit', (_code, signal) => res(signal)));
      // a process started behind the lab's back is found through its namespace
      const stray = spawn('ip', ['netns', 'exec', l.routers[0]!.name, 'sleep', '1000'], { stdio: 'ignore' });
      const strayExited = new Promise<string | null>((res) => stray.on('exit', (_code, signal) => res(signal)));
      await new Promise((res) => setTimeout(res, 100));
      expect(netnsList()).toEqual(expect.arrayContaining(names));
      await Promise.all([l.close(), l.close()]);
      await l.close();
      expect(await exited).toBe('SIGKILL');
      expect(await strayExited).toBe('SIGKILL');
      expect(netnsList().filter((n) => names.includes(n))).toEqual([]);
      await expect(l.exec(l.src, ['true'])).rejects.toThrow(/closed/);
    });

    it('withLab closes the lab when the body throws', async () => {
      let names: string[] = [];
      await expect(
        withLab({ routers: 1 }, async (l) => {
          names = l.names;
          expect(netnsList()).toEqual(expect.arrayContaining(names));
          throw new Error('test body failed');
        }),
      ).rejects.toThrow('test body failed');
      expect(names).toHaveLength(3);
      expect(netnsList().filter((n) => names.includes(n))).toEqual([]);
    });

    it('sweepStaleLabs() removes namespaces of dead owners only', async () => {
      // a pid that certainly is dead now, and one that is alive
      const dead = spawnSync('true').pid!;
      const alive = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        const staleName = `sk${dead}x1-s0`;
        const liveName = `sk${alive.pid}x1-s0`;
        spawnSync('ip', ['netns', 'add', staleName]);
        spawnSync('ip', ['netns', 'add', liveName]);
        try {
          expect(netnsList()).toContain(liveName);
          const swept = sweepStaleLabs();
          // (another test process loading the lab may sweep it first: then it is gone all the same)
          expect(swept.every((n) => /^sk\d+x\d+-/.test(n))).toBe(true);
          expect(swept).not.toContain(liveName);
          expect(netnsList()).not.toContain(staleName);
          expect(netnsList()).toContain(liveName);
          // our own labs are never swept
          expect(netnsList()).toEqual(expect.arrayContaining(lab.names));
        } finally {
          spawnSync('ip', ['netns', 'del', liveName]);
          spawnSync('ip', ['netns', 'del', staleName]);
        }
      } finally {
        alive.kill('SIGKILL');
      }
    });
  });
});
