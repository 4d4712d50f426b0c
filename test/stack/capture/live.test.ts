// The live capture core on a lab link: the kernel filter (SO_ATTACH_FILTER,
// cooked loads rewritten) selects what the in-process interpreter selects,
// on both mechanisms and on `any`; the counters add up under a flood; the
// cooked header and the program rewrite agree with what tcpdump writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelProgram, openLive, type LiveCapture, type LiveOptions, type LivePacket } from '../../../src/stack/capture/live.js';
import { compileFilter, runFilter } from '../../../src/stack/filter/index.js';
import * as bpf from '../../../src/stack/bpf.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2 } from '../../../src/stack/capture/linktype.js';
import { Lab, isRoot, needsRootReason } from '../../lab/index.js';
import { makeCaptures } from '../../commands/dump-captures.js';
import { EXPRESSIONS } from '../../commands/dump-expressions.js';
import { runnable } from '../../helpers/readable.js';
import { rmSync } from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// not the timestamp: two sockets may stamp one TCP segment a few hundred ns apart
const key = (p: LivePacket) => `${p.direction}/${p.len}/${p.data.toString('hex')}`;

describe('kernelProgram', () => {
  it('keeps an Ethernet program as it is, and leaves VLAN tests to the process', () => {
    const p = compileFilter('tcp port 80', LINKTYPE_ETHERNET, 262144);
    expect(kernelProgram(p, false)).toEqual(p);
    expect(kernelProgram(compileFilter('vlan 10', LINKTYPE_ETHERNET, 262144), false)).toBeNull();
  });

  it('moves cooked loads past the SLL2 header and turns header fields into ancillary loads', () => {
    const p = compileFilter('ip and udp', LINKTYPE_LINUX_SLL2, 262144);
    const k = kernelProgram(p, true)!;
    expect(k).not.toBeNull();
    // ldh [0] (the protocol) became ldh [SKF_AD_OFF + SKF_AD_PROTOCOL]
    expect(p[0]).toMatchObject({ code: bpf.LD | bpf.H | bpf.ABS, k: 0 });
    expect(k[0]).toMatchObject({ code: bpf.LD | bpf.H | bpf.ABS, k: -0x1000 >>> 0 });
    // ldb [29] (the IPv4 protocol at 20 + 9) became ldb [9]
    const proto = p.findIndex((i) => i.code === (bpf.LD | bpf.B | bpf.ABS) && i.k === 29);
    expect(k[proto]!.k).toBe(9);
    // the accept value shrinks by the header the kernel does not see
    expect(k[k.length - 2]!.k).toBe(262144 - 20);
    // lengths differ by the header: such programs stay in the process
    expect(kernelProgram(compileFilter('len > 100', LINKTYPE_LINUX_SLL2, 262144), true)).toBeNull();
  });
});

describe.skipIf(!isRoot)(`live capture on a lab link (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 1, ipv6: true, name: 'live' });
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  const open = (o: LiveOptions) => lab.within(lab.src, () => openLive(o));
  function collect(cap: LiveCapture): LivePacket[] {
    const got: LivePacket[] = [];
    cap.on('packet', (p) => got.push(p));
    return got;
  }

  for (const iface of ['eth0', 'any']) {
    it(`the kernel filter and the interpreter select the same packets for every dump-test expression (${iface})`, async () => {
      const linktype = iface === 'any' ? LINKTYPE_LINUX_SLL2 : LINKTYPE_ETHERNET;
      const all = open({ interface: iface, bufferBytes: 4 << 20 });
      const everything = collect(all);
      const filtered: { e: string; cap: LiveCapture; got: LivePacket[] }[] = [];
      let inKernel = 0,
        skipped = 0;
      for (const e of EXPRESSIONS) {
        let prog;
        try {
          prog = compileFilter(e, linktype, 262144);
        } catch {
          skipped++; // e.g. `ether ...` on a cooked link: tcpdump refuses those too
          continue;
        }
        // half on the ring, half on recvmsg: both paths attach the same program
        const cap = open({ interface: iface, filter: prog, bufferBytes: 1 << 20, mechanism: filtered.length % 2 ? 'recvmsg' : 'ring' });
        if (cap.kernelFilter) inKernel++;
        filtered.push({ e, cap, got: collect(cap) });
      }
      // compare what arrived while every socket was open (an unsolicited MLD report may come at any time)
      const from = BigInt(Date.now() + 1) * 1_000_000n;
      const c = await makeCaptures(lab);
      rmSync(c.dir, { recursive: true, force: true });
      const until = BigInt(Date.now()) * 1_000_000n;
      await sleep(300); // past the ring's block timeout (50 ms): every block is handed over
      all.close();
      for (const f of filtered) f.cap.close();
      expect(all.stats().dropped).toBe(0);
      // Each filtered socket must see exactly what the interpreter keeps of the unfiltered one,
      // except frames whose 802.1Q tag the kernel took off (the VLAN frames makeCaptures sends):
      // the kernel filter sees those untagged, as libpcap's does (tcpdump -i any 'ip' misses
      // them too), while the interpreter sees the tag put back (Ethernet) or the inner packet.
      const untagged = (ps: LivePacket[]) => ps.filter((p) => !p.vlan && p.tsNs >= from && p.tsNs < until);
      // (on a cooked socket the kernel reports the tag as metadata; on eth0 the frames keep it in their bytes)
      if (iface === 'any') expect(everything.some((p) => p.vlan)).toBe(true);
      let nonEmpty = 0;
      for (const f of filtered) {
        const prog = compileFilter(f.e, linktype, 262144);
        const want = untagged(everything)
          .filter((p) => runFilter(prog, p.data, p.len) > 0)
          .map(key);
        expect(f.cap.stats().dropped, f.e).toBe(0);
        expect(untagged(f.got).map(key), `${iface}: ${f.e} (${f.cap.kernelFilter ? 'kernel' : 'process'})`).toEqual(want);
        if (want.length > 0 && want.length < everything.length) nonEmpty++;
      }
      expect(everything.length).toBeGreaterThan(50);
      expect(nonEmpty).toBeGreaterThan(filtered.length / 2);
      // the point of the test: most programs really ran in the kernel
      expect(inKernel).toBeGreaterThan(filtered.length * 0.8);
      expect(skipped).toBeLessThan(EXPRESSIONS.length / 4);
    }, 180_000);
  }

  for (const mechanism of ['ring', 'recvmsg'] as const) {
    it(`counts add up under a flood (${mechanism}): captured + dropped = received by filter`, async () => {
      const server = lab.spawn(lab.dst, ['iperf3', '-s', '-1', '-p', '5201']);
      await sleep(500);
      const cap = open({ interface: 'eth0', filter: 'udp port 5201', snaplen: 128, bufferBytes: 64 << 10, mechanism });
      const got = collect(cap);
      const flood = lab.exec(lab.src, ['iperf3', '-c', lab.dst.v4, '-u', '-b', '400M', '-l', '64', '-t', '1', '-p', '5201'], { timeoutMs: 20_000 });
      // hold the event loop so the small ring (or receive buffer) overflows: the kernel counts drops
      await sleep(200);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
      await flood;
      server.kill('SIGKILL');
      // The packets still queued at the end (ring blocks handed over, the block the kernel is
      // filling, or the socket's receive queue) are counted as received but not yet captured:
      // wait past the block timeout and let the reader empty everything before the counters are read.
      await sleep(400);
      const s = cap.close();
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.captured).toBe(got.length);
      expect(s.captured).toBeGreaterThan(0);
      expect(s.captured + s.dropped).toBe(s.received);
      expect(cap.mechanism).toBe(mechanism === 'ring' ? 'tpacket_v3' : 'recvmsg');
    }, 60_000);
  }

  it('delivers kernel timestamps, lengths and directions (ping through the link)', async () => {
    const cap = open({ interface: 'eth0', filter: 'icmp' });
    const got = collect(cap);
    const before = BigInt(Date.now()) * 1_000_000n;
    await lab.exec(lab.src, ['ping', '-c', '2', '-i', '0.2', '-s', '100', lab.dst.v4]);
    await sleep(200);
    cap.close();
    expect(got.map((p) => p.direction)).toEqual(['out', 'in', 'out', 'in']);
    for (const p of got) {
      expect(p.len).toBe(14 + 20 + 8 + 100);
      expect(p.caplen).toBe(p.len);
      expect(p.tsNs).toBeGreaterThan(before);
      expect(p.tsNs).toBeLessThan(BigInt(Date.now()) * 1_000_000n);
      expect(p.protocol).toBe(0x0800);
    }
    // a short snaplen cuts the copy but keeps the wire length
    const short = open({ interface: 'eth0', filter: 'icmp', snaplen: 60, mechanism: 'recvmsg' });
    const cut = collect(short);
    await lab.exec(lab.src, ['ping', '-c', '1', '-s', '100', lab.dst.v4]);
    await sleep(200);
    short.close();
    expect(cut.map((p) => [p.caplen, p.len])).toEqual([
      [60, 142],
      [60, 142],
    ]);
  });

  it('iterates asynchronously and ends when closed', async () => {
    const cap = open({ interface: 'eth0', filter: 'icmp' });
    const ping = lab.exec(lab.src, ['ping', '-c', '3', '-i', '0.2', lab.dst.v4]);
    const seen: string[] = [];
    for await (const p of cap) {
      seen.push(p.direction);
      if (seen.length === 4) break; // return() closes the capture
    }
    await ping;
    expect(seen).toEqual(['out', 'in', 'out', 'in']);
    expect(cap.isClosed).toBe(true);
  });

  it('says what to do without CAP_NET_RAW (a PermissionError before any socket exists)', async () => {
    const r = await lab.exec(
      lab.src,
      [
        process.execPath,
        '--input-type=module',
        '-e',
        `import { openLive } from ${JSON.stringify(runnable('dist/stack/capture/live.js', 'nobody'))};
       try { openLive({ interface: 'eth0' }); console.log('opened'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
      ],
      { user: 'nobody' },
    );
    expect(r.stdout.trim()).toBe(
      'PermissionError: no permission: capturing packets (an AF_PACKET socket) needs CAP_NET_RAW; fix: run as root, or grant the capability: sudo setcap cap_net_raw+ep "$(command -v node)"',
    );
  });

  it('refuses an interface that does not exist, as bad input', () => {
    expect(() => open({ interface: 'nosuch0' })).toThrow(/nosuch0: No such device exists/);
  });
});
