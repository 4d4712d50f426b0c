// sockit ss -0 / -f link (packet_diag) and -f netlink (netlink_diag) against
// iproute2 ss 6.1 in a lab namespace: packet sockets of every kind a
// python3 holder opens (raw and dgram, bound and not, a fanout group, a
// classic BPF filter, a TPACKET_V3 receive ring) on an ethertype no frame
// carries, so their queues stay still; the namespace's own netlink sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { Lab, isRoot } from '../lab/index.js';
import { sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

const HOLDER = `
import socket, struct, sys
P = 0x88b5  # IEEE 802 local experimental: nothing sends it
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(P)); raw.bind(("lo", P))
dgr = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(P))
unbound = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
fan = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(P)); fan.bind(("eth0", P))
fan.setsockopt(263, 18, struct.pack("I", 77 | (1 << 16)))          # PACKET_FANOUT id 77, lb
bpf = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(P))
prog = struct.pack("HBBI", 0x28, 0, 0, 12) + struct.pack("HBBI", 0x06, 0, 0, 0xffff)
import ctypes
buf = ctypes.create_string_buffer(prog)
bpf.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", 2, ctypes.addressof(buf)))  # SO_ATTACH_FILTER
ring = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(P))
ring.setsockopt(263, 10, struct.pack("I", 2))                        # PACKET_VERSION TPACKET_V3
ring.setsockopt(263, 5, struct.pack("IIIIIII", 1 << 16, 4, 1 << 11, 128, 60, 0, 0))  # PACKET_RX_RING
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); nl.bind((0, 1))  # rtnl, RTMGRP_LINK: port id = our pid
keep = [raw, dgr, unbound, fan, bpf, ring, nl]
print("ready", flush=True)
sys.stdin.read()
`;

describe.skipIf(!isRoot)('ss -0 and -f netlink match ss 6.1 in a lab namespace', () => {
  let lab: Lab;
  let holder: ChildProcess;
  let holderPid: number;

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, name: 'sslink' });
    holder = await lab.spawnReady(lab.src, ['python3', '-c', HOLDER]);
    holderPid = holder.pid!;
  }, 30_000);

  afterAll(async () => {
    holder?.stdin?.end();
    await lab?.close();
  });

  const sorted = (t: string) => {
    const [h, ...r] = t.split('\n');
    return [h, ...r.filter(Boolean).sort()];
  };

  for (const args of [
    ['-0'],
    ['-0a'],
    ['-0an'],
    ['-0ae'],
    ['-0aeO'],
    ['-0ab'],
    ['-0abO'],
    ['-0am'],
    ['-0ap'],
    ['-0aep'],
    ['-f', 'link'],
    ['-A', 'packet'],
    ['-A', 'packet_dgram', '-e'],
    ['-H', '-0'],
  ]) {
    it(`sockit ss ${args.join(' ')} is ss ${args.join(' ')}`, async () => {
      const theirs = await lab.exec(lab.src, ['ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.code).toBe(0);
      expect(ours.stderr).toBe('');
      expect(sorted(ours.stdout)).toEqual(sorted(theirs.stdout));
    });
  }

  it("the holder's sockets are there, with their ring, fanout and filter", async () => {
    const r = await sockitIn(lab, lab.src, ['ss', '-0aeb']);
    expect(r.stdout).toMatch(/^p_raw +UNCONN +0 +0 +\[34997\]:lo +\*/m);
    expect(r.stdout).toContain('fanout(id:77,type:lb)');
    expect(r.stdout).toContain('ring_rx(blk_size:65536,blk_nr:4,frm_size:2048,frm_nr:128,tmo:60,features:0x0)');
    expect(r.stdout).toContain('bpf filter (2):  0x28 0 0 12, 0x06 0 0 65535,');
    const j = await sockitIn(lab, lab.src, ['ss', '-0a', '--json']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(j.stdout).toContain('"fanout":{"id":77,"type":1}');
  });

  // each tool's own sock_diag socket is in the list ("tcpdiag:ss/PID", "tcpdiag:node/PID"): with -n it
  // is "tcpdiag:PID", its pid masked; the rest is compared as it is
  for (const args of [
    ['-f', 'netlink', '-n'],
    ['-A', 'netlink', '-an'],
    ['-A', 'netlink', '-ne'],
    ['-A', 'netlink', '-nm'],
  ]) {
    it(`sockit ss ${args.join(' ')} is ss ${args.join(' ')} (its own socket's pid masked)`, async () => {
      const theirs = await lab.exec(lab.src, ['ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.code).toBe(0);
      const mask = (t: string) => sorted(t.replace(/\b4:\d{2,}\b/, '4:PID'));
      const pidWidth = (t: string) => /\b4:(\d+)/.exec(t)?.[1]?.length;
      // the Port column is as wide as the longest pid: the test holds when both pids have as many digits
      if (pidWidth(ours.stdout) === pidWidth(theirs.stdout)) expect(mask(ours.stdout)).toEqual(mask(theirs.stdout));
      else expect(mask(ours.stdout).map((l) => l!.replace(/\s+/g, ' '))).toEqual(mask(theirs.stdout).map((l) => l!.replace(/\s+/g, ' ')));
    });
  }

  it("netlink sockets by name: kernel, and a process's as comm/pid", async () => {
    const theirs = await lab.exec(lab.src, ['ss', '-f', 'netlink', '-a']);
    const ours = await sockitIn(lab, lab.src, ['ss', '-f', 'netlink', '-a']);
    expect(ours.stdout).toMatch(/^UNCONN +\d+ +\d+ +tcpdiag:node\/\d+ +\*/m);
    const others = (t: string) =>
      t
        .split('\n')
        .slice(1)
        .filter((l) => l && !/tcpdiag:(ss|node)\//.test(l))
        .map((l) => l.trim().split(/\s+/).join(' '))
        .sort();
    expect(others(ours.stdout)).toEqual(others(theirs.stdout));
    expect(others(ours.stdout).some((l) => l.includes('rtnl:kernel'))).toBe(true);
  });

  // a netlink socket's line whose port is a process other than the holder's: each tool's own sockets
  const others = (t: string) =>
    sorted(t)
      .slice(1)
      .filter((l) => {
        const port = /^\S+\s+\S+\s+\S+\s+\S+\s+\S+:(\S+)/.exec(l!)?.[1] ?? /^\S+\s+\S+\s+\S+\s+\S+:(\S+)/.exec(l!)?.[1];
        return port === undefined || !/^(\d+|\w+\/\d+)$/.test(port) || port === '0' || port.endsWith(`/${holderPid}`) || port === String(holderPid);
      })
      .map((l) => l!.replace(/\s+/g, ' '));

  // ss's filter sees a packet socket's protocol as its local address and its interface as its port,
  // a netlink socket's protocol and port id (run_ssfilter); HOST is PROTOCOL[:IFACE|:PID] after link: / netlink:
  // or -f link / -f netlink
  for (const args of [
    ['-0a', 'src', 'link:*:lo'],
    ['-0a', 'src', 'link:0x88b5'],
    ['-f', 'link', '-a', 'src', '0x88b5:eth0'],
    ['-f', 'link', '-a', 'src', '*:1'],
    ['-0a', 'sport', '=', '1'],
    ['-0a', 'sport', '>', '0'],
    ['-0a', 'dev', 'eth0'],
    ['-0a', 'not', 'dev', 'eth0'],
    ['-0a', 'autobound'],
    ['-0a', 'dst', '*:0'],
    ['-0a', 'dport', '=', '0'],
    ['-0a', 'src', 'link:all', 'or', 'src', 'link:*:lo'],
    ['-A', 'packet', 'src', 'link:0x88b5', 'and', 'not', 'sport', '=', '0'],
  ]) {
    it(`filtered: sockit ss ${args.join(' ')} is ss ${args.join(' ')}`, async () => {
      const theirs = await lab.exec(lab.src, ['ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.stderr).toBe('');
      expect(ours.code).toBe(0);
      expect(sorted(ours.stdout)).toEqual(sorted(theirs.stdout));
    });
  }
  for (const args of [
    ['-f', 'netlink', '-an', 'src', 'rtnl:kernel'],
    ['-f', 'netlink', '-an', 'src', 'rtnl'],
    ['-f', 'netlink', '-a', 'src', 'tcpdiag:*'],
    ['-A', 'netlink', '-an', 'src', 'netlink:rtnl:kernel'],
    ['-A', 'netlink', '-an', 'sport', '=', '0'],
    ['-A', 'netlink', '-an', 'dport', '=', '0'],
    ['-A', 'netlink', '-an', 'not', 'sport', '=', '0'],
    ['-f', 'netlink', '-an', 'dst', '*'],
  ]) {
    it(`filtered: sockit ss ${args.join(' ')} is ss ${args.join(' ')} (each tool's own sockets aside)`, async () => {
      const theirs = await lab.exec(lab.src, ['ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.stderr).toBe('');
      expect(ours.code).toBe(0);
      expect(others(ours.stdout)).toEqual(others(theirs.stdout));
    });
  }

  // as nobody: packet_diag hides a socket's BPF filter without CAP_NET_ADMIN (may_report_filterinfo),
  // /proc/PID/fd of root's processes is closed (no users:(...)); both tools alike
  for (const args of [['-0a'], ['-0ab'], ['-0ae'], ['-0ap'], ['-0a', 'src', 'link:0x88b5']]) {
    it(`as nobody: sockit ss ${args.join(' ')} is ss ${args.join(' ')}`, async () => {
      const theirs = await lab.exec(lab.src, ['ss', ...args], { user: 'nobody' });
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { user: 'nobody', env: { SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.code).toBe(0);
      expect(ours.stderr).toBe(theirs.stderr);
      expect(sorted(ours.stdout)).toEqual(sorted(theirs.stdout));
      if (args.includes('-0ap')) expect(ours.stdout).not.toContain('users:');
    });
  }
  it("as nobody: sockit ss -A netlink -a is ss -A netlink -a (each tool's own sockets aside)", async () => {
    const theirs = await lab.exec(lab.src, ['ss', '-A', 'netlink', '-a'], { user: 'nobody' });
    const ours = await sockitIn(lab, lab.src, ['ss', '-A', 'netlink', '-a'], { user: 'nobody', env: { SOCKIT_SS_LAYOUT: '6.1' } });
    expect(ours.code).toBe(0);
    expect(others(ours.stdout)).toEqual(others(theirs.stdout));
  });

  it('a netlink or link HOST that does not parse is a filter error pointing at it', async () => {
    const r = await sockitIn(lab, lab.src, ['ss', '-f', 'netlink', '-a', 'src', 'nosuchproto:1']);
    expect(r.stderr).toBe("sockit ss: bad filter at 'nosuchproto:1': expected [netlink:]PROTOCOL[:PID] after src\n");
    expect(r.code).toBe(2);
    const l = await sockitIn(lab, lab.src, ['ss', '-a', 'src', 'link:ip:nosuchdev']);
    expect(l.stderr).toBe("sockit ss: bad filter at 'link:ip:nosuchdev': expected [link:]PROTOCOL[:INTERFACE] after src\n");
    expect(l.code).toBe(2);
  });

  // netlink refused: ss itself reads /proc/net/packet and /proc/net/netlink when PROC_ROOT is set
  for (const args of [['-0a'], ['-0an'], ['-0ae'], ['-0am'], ['-0ap'], ['-0a', 'src', 'link:*:lo']]) {
    it(`/proc fallback: SOCKIT_INVENTORY=proc sockit ss ${args.join(' ')} is PROC_ROOT=/proc ss ${args.join(' ')}`, async () => {
      const theirs = await lab.exec(lab.src, ['env', 'PROC_ROOT=/proc', 'ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_INVENTORY: 'proc', SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.code).toBe(0);
      expect(ours.stderr).toBe('');
      expect(sorted(ours.stdout)).toEqual(sorted(theirs.stdout));
    });
  }
  for (const args of [
    ['-A', 'netlink', '-an'],
    ['-A', 'netlink', '-a'],
    ['-A', 'netlink', '-ane'],
    ['-A', 'netlink', '-anm'],
    ['-f', 'netlink', '-an', 'src', 'rtnl'],
  ]) {
    it(`/proc fallback: SOCKIT_INVENTORY=proc sockit ss ${args.join(' ')} is PROC_ROOT=/proc ss ${args.join(' ')}`, async () => {
      const theirs = await lab.exec(lab.src, ['env', 'PROC_ROOT=/proc', 'ss', ...args]);
      const ours = await sockitIn(lab, lab.src, ['ss', ...args], { env: { SOCKIT_INVENTORY: 'proc', SOCKIT_SS_LAYOUT: '6.1' } });
      expect(ours.code).toBe(0);
      expect(others(ours.stdout)).toEqual(others(theirs.stdout));
      expect(others(ours.stdout).length).toBeGreaterThan(1);
    });
  }

  it('/proc fallback: the same packet and netlink sockets as netlink_diag gives, the JSON source says proc', async () => {
    const key = (t: string) =>
      t
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>)
        .filter((r) => r.type === 'socket')
        .map((r) => `${r.netid} ${r.inode} ${JSON.stringify(r.local)}`)
        .sort();
    const viaNetlink = await sockitIn(lab, lab.src, ['ss', '-0a', '--json']);
    const viaProc = await sockitIn(lab, lab.src, ['ss', '-0a', '--json'], { env: { SOCKIT_INVENTORY: 'proc' } });
    expect(vocabularyProblems(viaProc.stdout, viaProc.code)).toEqual([]);
    expect(key(viaProc.stdout)).toEqual(key(viaNetlink.stdout));
    expect(key(viaProc.stdout).length).toBe(6);
    expect(JSON.parse(viaProc.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'summary', source: 'proc' });
    const nl = await sockitIn(lab, lab.src, ['ss', '-A', 'netlink', '-an', '--json'], { env: { SOCKIT_INVENTORY: 'proc' } });
    expect(vocabularyProblems(nl.stdout, nl.code)).toEqual([]);
    expect(nl.stdout).toContain(`"local":{"protocol":0,"portid":${holderPid}}`);
  });
});
