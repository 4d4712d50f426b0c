// The core's ping setup (stack/ping/setup.ts) on real sockets: loopback, and
// a namespace where a ping socket must be allowed (ping_group_range).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { IcmpPermissionError } from '../../src/stack/icmp.js';
import { type PingSetup, type PingSetupOptions, type PingWarning, PingSetupError, receiveBuffer, setupPing } from '../../src/stack/ping/index.js';
import { sysctlNumber } from '../../src/stack/sysctl.js';
import { isRoot, rootReason } from '../helpers/root.js';
import { Lab, isRoot as labReady } from '../lab/index.js';

const LO4: PingSetupOptions = { address: '127.0.0.1', family: 4 };

/** The problem a setup refused with (fails when it did not refuse). */
async function refused(o: PingSetupOptions): Promise<PingSetupError['problem']> {
  try {
    const s = await setupPing(o);
    s.method.close();
  } catch (e) {
    if (e instanceof PingSetupError) {
      expect(e.exitCode).toBe(2);
      return e.problem;
    }
    throw e;
  }
  throw new Error(`setupPing(${JSON.stringify(o)}) did not refuse`);
}

/** Set up, look, close. */
async function withSetup<T>(o: PingSetupOptions, fn: (s: PingSetup) => T): Promise<T> {
  const s = await setupPing(o);
  try {
    return fn(s);
  } finally {
    s.method.close();
  }
}

describe("iputils' limits for users (before any socket)", () => {
  it('an interval under 2 ms and a preload over 3 are refused to users, allowed to root', async () => {
    expect(await refused({ ...LO4, privileged: false, intervalMs: 1 })).toEqual({ kind: 'interval', intervalMs: 1, minimumMs: 2 });
    expect(await refused({ ...LO4, privileged: false, flood: true })).toEqual({ kind: 'interval', intervalMs: 0, minimumMs: 2 });
    expect(await refused({ ...LO4, privileged: false, preload: 4 })).toEqual({ kind: 'preload', preload: 4, maximum: 3 });
    expect(await refused({ ...LO4, iface: 'fe80::zz' })).toEqual({ kind: 'source', text: 'fe80::zz' });
  });

  it("the receive buffer: iputils' estimate per packet times the preload, at least 64 KiB", () => {
    expect(receiveBuffer(56, 0, 1)).toBe(65536);
    // 64 bytes + 1 x (20 + 16 + 64 + 160) = 324 per packet
    expect(receiveBuffer(56, 0, 300)).toBe(324 * 300);
    // 1008 bytes take 2 units; 40 option bytes in each
    expect(receiveBuffer(1000, 40, 100)).toBe((1008 + 2 * 300) * 100);
  });
});

describe.skipIf(!isRoot)(`on loopback (${isRoot ? 'root' : rootReason})`, () => {
  it("a plain setup: the kernel's source, not bound; the session gets iputils' defaults", async () => {
    await withSetup(LO4, (s) => {
      expect({ source: s.source, device: s.device, bound: s.boundSource, multicast: s.multicast, ipOption: s.ipOption }).toEqual({
        source: '127.0.0.1',
        device: undefined,
        bound: false,
        multicast: false,
        ipOption: undefined,
      });
      expect(s.session).toMatchObject({ count: 0, intervalMs: 1000, preload: 1, lingerMs: 10_000, dataLen: 56, privileged: true });
      expect(s.method.socket.getInt(C.SOL_SOCKET, C.SO_RCVBUF)).toBe(2 * Math.min(65536, sysctlNumber('net.core.rmem_max')!));
    });
  });

  it("-l 300: the receive buffer asked is iputils' 324 x 300 (the kernel doubles what it grants, up to rmem_max)", async () => {
    const rmemMax = sysctlNumber('net.core.rmem_max')!;
    await withSetup({ ...LO4, preload: 300 }, (s) => {
      // root may exceed rmem_max only with SO_RCVBUFFORCE: SO_RCVBUF is clamped
      expect(s.method.socket.getInt(C.SOL_SOCKET, C.SO_RCVBUF)).toBe(2 * Math.min(324 * 300, rmemMax));
    });
  });

  it("-I address binds it; -I device binds the device and takes the kernel's source; -B binds the kernel's", async () => {
    await withSetup({ ...LO4, iface: '127.0.0.1' }, (s) => {
      expect({ source: s.source, bound: s.boundSource }).toEqual({ source: '127.0.0.1', bound: true });
      expect(s.method.socket.localAddress()).toMatchObject({ address: '127.0.0.1' });
    });
    await withSetup({ ...LO4, iface: 'lo' }, (s) => {
      expect({ source: s.source, device: s.device, bound: s.boundSource }).toEqual({ source: '127.0.0.1', device: 'lo', bound: false });
      expect(s.method.socket.getsockopt(C.SOL_SOCKET, C.SO_BINDTODEVICE, 16).toString().replace(/\0.*$/s, '')).toBe('lo');
    });
    await withSetup({ ...LO4, sticky: true }, (s) => {
      expect(s.boundSource).toBe(true);
      expect(s.method.socket.localAddress()).toMatchObject({ address: '127.0.0.1' });
    });
    await withSetup({ address: '::1', family: 6, iface: '::1%lo' }, (s) => {
      expect({ source: s.source, device: s.device, bound: s.boundSource }).toEqual({ source: '::1', device: 'lo', bound: true });
    });
  });

  it("a device that is not there: the route probe's ENODEV, for the caller to word as SO_BINDTODEVICE", async () => {
    const p = await refused({ ...LO4, iface: 'nosuchdev0' });
    expect(p).toMatchObject({ kind: 'system', step: 'route', device: 'nosuchdev0', error: { code: 'ENODEV', syscall: 'setsockopt' } });
  });

  it('broadcast: refused without -b (EACCES on the probe connect); with -b a warning, SO_BROADCAST, multicast rules', async () => {
    const bcast = { ...LO4, address: '127.255.255.255' };
    expect(await refused(bcast)).toEqual({ kind: 'broadcast' });
    const warnings: PingWarning[] = [];
    await withSetup({ ...bcast, broadcast: true, onWarning: (w) => warnings.push(w) }, (s) => {
      expect(warnings).toEqual([{ kind: 'broadcast' }]);
      expect(s.multicast).toBe(true);
      expect(s.session.multicast).toBe(true);
      expect(s.method.socket.getInt(C.SOL_SOCKET, C.SO_BROADCAST)).toBe(1);
      // nothing fragmented: IP_PMTUDISC_DO unless asked otherwise
      expect(s.method.socket.getInt(C.IPPROTO_IP, C.IP_MTU_DISCOVER)).toBe(C.IP_PMTUDISC_DO);
    });
    // users: at least a second between probes, and no fragmenting
    expect(await refused({ ...bcast, broadcast: true, privileged: false, intervalMs: 500 })).toEqual({
      kind: 'multicast-interval',
      family: 4,
      intervalMs: 500,
    });
    expect(await refused({ ...bcast, broadcast: true, privileged: false, pmtu: 'dont' })).toEqual({ kind: 'multicast-fragment', family: 4 });
    expect(await refused({ address: 'ff02::1', family: 6, iface: '::1', privileged: false, intervalMs: 200 })).toEqual({
      kind: 'multicast-interval',
      family: 6,
      intervalMs: 200,
    });
  });

  it('raw when needed: -e 0 (with a warning), -R and -T (IPv4 only, IP_OPTIONS set), -N (IPv6 only)', async () => {
    const warnings: PingWarning[] = [];
    await withSetup({ ...LO4, ident: 0, onWarning: (w) => warnings.push(w) }, (s) => {
      expect(warnings).toEqual([{ kind: 'ident-zero' }]);
      expect(s.method.mechanism).toBe('raw socket');
      expect(s.method.ident).toBe(0);
    });
    await withSetup({ ...LO4, recordRoute: true }, (s) => {
      expect(s.ipOption).toBe('-R');
      expect(s.method.mechanism).toBe('raw socket');
      const opt = s.method.socket.getsockopt(C.IPPROTO_IP, C.IP_OPTIONS, 40);
      expect([...opt.subarray(0, 4)]).toEqual([1, 7, 39, 4]);
      expect(s.method.headerBytes).toBe(28 + 40);
    });
    await withSetup({ ...LO4, timestamp: 'tsonly' }, (s) => {
      expect(s.ipOption).toBe('-T');
      expect([...s.method.socket.getsockopt(C.IPPROTO_IP, C.IP_OPTIONS, 40).subarray(0, 4)]).toEqual([68, 40, 5, 0]);
    });
    expect(await refused({ ...LO4, recordRoute: true, mode: 'dgram' })).toEqual({ kind: 'ip-options-raw', option: '-R' });
    expect(await refused({ address: '::1', family: 6, timestamp: 'tsonly' })).toEqual({ kind: 'ip-options-family', option: '-T' });
    const query = { qtype: 2, flags: 0, subjectType: 0, subject: Buffer.alloc(16) };
    expect(await refused({ ...LO4, nodeInfo: query })).toEqual({ kind: 'nodeinfo-family' });
    expect(await refused({ address: '::1', family: 6, mode: 'dgram', nodeInfo: query })).toEqual({ kind: 'nodeinfo-raw' });
    // the query is built only once the checks passed
    let built = 0;
    await withSetup(
      {
        address: '::1',
        family: 6,
        nodeInfo: async () => {
          built++;
          return query;
        },
      },
      (s) => {
        expect(s.method.mechanism).toBe('raw socket');
        expect(s.session.dataLen).toBe(0); // nothing of ours to time in a query
      },
    );
    expect(built).toBe(1);
  });

  it('-t: multicast then unicast TTL; 0 is EINVAL for the unicast one on IPv4 (the step named), fine on IPv6', async () => {
    await withSetup({ ...LO4, ttl: 7 }, (s) => {
      expect(s.method.socket.getInt(C.IPPROTO_IP, C.IP_TTL)).toBe(7);
      expect(s.method.socket.getInt(C.IPPROTO_IP, C.IP_MULTICAST_TTL)).toBe(7);
    });
    expect(await refused({ ...LO4, ttl: 0 })).toMatchObject({ kind: 'system', step: 'unicast-ttl', error: { code: 'EINVAL' } });
    await withSetup({ address: '::1', family: 6, ttl: 0 }, (s) => expect(s.method.socket.getInt(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS)).toBe(0));
  });

  it('-F: the flow label is leased exclusively; a second lease of it is EPERM, from the flowlabel step', async () => {
    await withSetup({ address: '::1', family: 6, flowLabel: 0x54321 }, async (s) => {
      expect(s.method.socket.getInt(C.IPPROTO_IPV6, C.IPV6_FLOWINFO_SEND)).toBe(1);
      expect(await refused({ address: '::1', family: 6, flowLabel: 0x54321 })).toMatchObject({ kind: 'system', step: 'flowlabel', error: { code: 'EPERM' } });
    });
  });
});

describe.skipIf(!labReady)(`ping socket or raw, in a namespace (${isRoot ? 'ping_group_range set per namespace' : rootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, name: 'pingset' });
  });
  afterAll(async () => {
    await lab?.close();
  });

  /** setupPing in the source's namespace: its sockets are made before its first await (there is none without a -N builder) */
  const inSrc = (o: PingSetupOptions): Promise<PingSetup> => lab.within(lab.src, () => ({ p: setupPing(o) })).p;

  it('a ping socket when ping_group_range allows it, raw otherwise; --mode dgram without it is the permission error with its fix', async () => {
    const dst = lab.dst.v4;
    await lab.pingGroupRange(lab.src, true);
    const open = await inSrc({ address: dst, family: 4 });
    try {
      expect({ mechanism: open.method.mechanism, unprivileged: open.method.unprivileged }).toEqual({ mechanism: 'ping socket', unprivileged: true });
    } finally {
      open.method.close();
    }
    // -R still needs the raw one
    const rr = await inSrc({ address: dst, family: 4, recordRoute: true });
    rr.method.close();
    expect(rr.method.mechanism).toBe('raw socket');
    await lab.pingGroupRange(lab.src, false);
    const closed = await inSrc({ address: dst, family: 4 });
    closed.method.close();
    expect(closed.method.mechanism).toBe('raw socket');
    const err = await inSrc({ address: dst, family: 4, mode: 'dgram' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IcmpPermissionError);
    expect((err as IcmpPermissionError).fix[0]).toContain('net.ipv4.ping_group_range');
  });
});
