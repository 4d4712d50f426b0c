// The socket core across a real network of namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { connectSocket } from '../../src/stack/connect.js';
import { IcmpProbe } from '../../src/stack/probe/icmp.js';
import { Socket, inetAddress } from '../../src/stack/socket.js';
import { runnable } from '../helpers/readable.js';
import { until } from '../helpers/until.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';

interface EchoResult {
  mode?: string;
  uid?: number;
  from?: string;
  type?: number;
  code?: number;
  id?: number;
  seq?: number;
  ident?: number;
  ttl?: number;
  rxNs?: string | null;
  sentNs?: string;
  original?: { id: number; seq: number } | null;
  error?: string;
  permission?: boolean;
  timeout?: boolean;
}

async function echo(lab: Lab, family: 4 | 6, dst: string, user: 'root' | 'nobody', ttl?: number): Promise<EchoResult> {
  const r = await lab.exec(lab.src, ['node', runnable('test/fixtures/icmp-echo.mjs', user), String(family), dst, ...(ttl ? [String(ttl)] : [])], {
    user,
    timeoutMs: 10_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as EchoResult;
}

/** until() as the filter test polls: a socket's state, every 5 ms for 3 s */
const soon = (cond: () => boolean, what: string) => until(cond, { what, ms: 3000, everyMs: 5 });

/** Wait for an error readiness on a socket, then read one extended error. */
function nextError(s: Socket, ms = 3000) {
  return new Promise<NonNullable<ReturnType<Socket['recvError']>>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no error queued')), ms);
    s.onReadable((ready) => {
      if (!ready.error) return;
      const r = s.recvError(Buffer.alloc(256));
      if (!r) return;
      clearTimeout(t);
      s.onReadable(null);
      resolve(r);
    });
  });
}

describe.skipIf(!isRoot)(`socket core in the lab (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 2, ipv6: true, name: 'core' });
  });
  afterAll(async () => {
    await lab?.close();
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: a ping socket works for nobody once ping_group_range is open`, async () => {
      const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
      await lab.pingGroupRange(lab.src, true);
      const ok = await echo(lab, family, dst, 'nobody');
      expect(ok).toMatchObject({ mode: 'dgram', uid: 65534, from: dst, type: family === 4 ? 0 : 129, seq: 9, ttl: 62 });
      expect(ok.id).toBe(ok.ident); // the kernel chose the identifier (the socket's "port")
      expect(BigInt(ok.rxNs!) - BigInt(ok.sentNs!)).toBeGreaterThan(0n);

      await lab.pingGroupRange(lab.src, false);
      const denied = await echo(lab, family, dst, 'nobody');
      expect(denied.permission).toBe(true);
      expect(denied.error).toBe(
        'no permission for an ICMP socket: ping sockets are closed to group 65534 (net.ipv4.ping_group_range = 1 0) and raw sockets need CAP_NET_RAW; ' +
          'fix: sudo sysctl -w net.ipv4.ping_group_range="0 2147483647" (ping sockets for every group; no privilege needed after), or run as root, ' +
          `or sudo setcap cap_net_raw+ep "${process.execPath}" (gives raw sockets to every Node program)`,
      );
    });

    it(`IPv${family}: root falls back to a raw socket and sees the same reply`, async () => {
      await lab.pingGroupRange(lab.src, false);
      const r = await echo(lab, family, family === 4 ? lab.dst.v4 : lab.dst.v6, 'root');
      expect(r).toMatchObject({ mode: 'raw', type: family === 4 ? 0 : 129, id: 4321, seq: 9, ttl: 62 });
      expect(r.rxNs).not.toBeNull();
    });

    it(`IPv${family}: a TTL-exceeded error arrives identically through ping and raw sockets`, async () => {
      const r1 = family === 4 ? lab.routers[0].v4 : lab.routers[0].v6;
      const dst = family === 4 ? lab.dst.v4 : lab.dst.v6;
      await lab.pingGroupRange(lab.src, false);
      const raw = await echo(lab, family, dst, 'root', 1);
      await lab.pingGroupRange(lab.src, true);
      const dgram = await echo(lab, family, dst, 'root', 1);
      await lab.pingGroupRange(lab.src, false);
      const want = { from: r1, type: family === 4 ? 11 : 3, code: 0, original: { seq: 9 } };
      expect(raw).toMatchObject({ mode: 'raw', ...want, original: { id: 4321, seq: 9 } });
      expect(dgram).toMatchObject({ mode: 'dgram', ...want });
      expect(dgram.original?.id).toBe(dgram.ident);
    });
  }

  it("IP_RECVERR: a TTL-1 UDP probe reads the router's time exceeded from the error queue", async () => {
    const s = lab.within(lab.src, () => Socket.open(C.AF_INET, C.SOCK_DGRAM));
    try {
      s.setsockopt(C.IPPROTO_IP, C.IP_RECVERR, 1);
      s.setsockopt(C.IPPROTO_IP, C.IP_TTL, 1);
      s.connectStart(inetAddress(lab.dst.v4, 33434));
      const pending = nextError(s);
      s.send(Buffer.from('probe'));
      const r = await pending;
      expect(r.control.error).toMatchObject({ errno: 113, origin: C.SO_EE_ORIGIN_ICMP, type: 11, code: 0 });
      expect(r.control.error?.offender).toMatchObject({ family: 2, address: lab.routers[0].v4 });
      expect(r.address).toMatchObject({ address: lab.dst.v4, port: 33434 }); // the probe's own destination
      // three hops out the destination answers port unreachable, named as the offender
      s.setsockopt(C.IPPROTO_IP, C.IP_TTL, 3);
      const last = nextError(s);
      s.send(Buffer.from('probe'));
      expect((await last).control.error).toMatchObject({ errno: 111, type: 3, code: 3, offender: { address: lab.dst.v4 } });
    } finally {
      s.close();
    }
  });

  it('IPV6_RECVERR: the same with a hop limit of 1', async () => {
    const s = lab.within(lab.src, () => Socket.open(C.AF_INET6, C.SOCK_DGRAM));
    try {
      s.setsockopt(C.IPPROTO_IPV6, C.IPV6_RECVERR, 1);
      s.setsockopt(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, 1);
      s.connectStart(inetAddress(lab.dst.v6, 33434));
      const pending = nextError(s);
      s.send(Buffer.from('probe'));
      const r = await pending;
      expect(r.control.error).toMatchObject({ origin: C.SO_EE_ORIGIN_ICMP6, type: 3, code: 0 });
      expect(r.control.error?.offender).toMatchObject({ family: 10, address: lab.routers[0].v6 });
    } finally {
      s.close();
    }
  });

  it('a nonblocking connect times out against a host that drops SYNs, within the timeout', async () => {
    await lab.dropTcpSyn(lab.dst, 80);
    const s = lab.within(lab.src, () => Socket.open(C.AF_INET, C.SOCK_STREAM));
    const t0 = performance.now();
    await expect(connectSocket(s, inetAddress(lab.dst.v4, 80), { timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect' });
    const took = performance.now() - t0;
    s.close();
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1200);
    const syn = await lab.counters(lab.dst);
    expect(syn.syn_dropped.packets).toBeGreaterThanOrEqual(1); // the SYN really was sent and dropped
  });

  it("a nonblocking connect reports a router's host unreachable", async () => {
    await lab.unreachable(lab.routers[1], `${lab.dst.v4}/32`, 'host');
    try {
      const s = lab.within(lab.src, () => Socket.open(C.AF_INET, C.SOCK_STREAM));
      await expect(connectSocket(s, inetAddress(lab.dst.v4, 81), { timeoutMs: 3000 })).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
      s.close();
    } finally {
      await lab.exec(lab.routers[1], ['ip', 'route', 'del', `${lab.dst.v4}/32`]);
    }
  });

  it("a raw socket's identifier filter goes on when another ping's reply arrives, as iputils', not before", async () => {
    // two pings in one namespace, so no other test's ICMP reaches them: each raw socket sees every echo reply there
    const [a, b] = lab.within(lab.src, () => [
      new IcmpProbe({ family: 4, target: lab.src.v4, mode: 'raw', ident: 0x5151 }),
      new IcmpProbe({ family: 4, target: lab.src.v4, mode: 'raw', ident: 0x5252 }),
    ]);
    try {
      const seen = { a: new Set<number>(), b: new Set<number>() };
      a.start((e) => e.type === 'reply' && seen.a.add(e.seq));
      b.start((e) => e.type === 'reply' && seen.b.add(e.seq));
      const payload = Buffer.alloc(56, 0x5a);
      expect([a.filterLength, b.filterLength]).toEqual([0, 0]);
      // a's own round trip: a stays unfiltered; b, which saw a's reply go by, filters from then on
      a.send({ seq: 1, payload });
      await soon(() => seen.a.has(1), "a's reply");
      await soon(() => b.filterLength > 0, "b's filter");
      expect(a.filterLength).toBe(0);
      expect(b.filterLength).toBe(7);
      expect(seen.b.size).toBe(0);
      // b's round trip: now a has seen another ping's reply
      b.send({ seq: 2, payload });
      await soon(() => seen.b.has(2), "b's reply");
      await soon(() => a.filterLength > 0, "a's filter");
      expect(a.filterLength).toBe(7);
      // the filters keep each one's own replies
      a.send({ seq: 3, payload });
      b.send({ seq: 4, payload });
      await soon(() => seen.a.has(3) && seen.b.has(4), 'the replies after the filters');
      expect([...seen.a].sort()).toEqual([1, 3]);
      expect([...seen.b].sort()).toEqual([2, 4]);
    } finally {
      a.close();
      b.close();
    }
  });
});
