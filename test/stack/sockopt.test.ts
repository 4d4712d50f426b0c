// The option table against the system headers and the kernel: numbers,
// struct layouts, typed get/set on real sockets, value parsing.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { isSystemError, native, type SystemError } from '../../src/stack/native/index.js';
import { Socket, inetAddress } from '../../src/stack/socket.js';
import {
  OPTIONS,
  OptionValueError,
  explainAdjustment,
  explainRejection,
  findOption,
  formatOption,
  formatValue,
  getOption,
  SocketsByKind,
  applyInOrder,
  jsonValue,
  openKind,
  parseValue,
  readOption,
  requireOption,
  setOption,
  type OptionValue,
  type SockOpt,
} from '../../src/stack/sockopt.js';
import { TCP_INFO_LAYOUT, type Linger, type TcpInfo } from '../../src/stack/structs.js';
import { compileC, runC } from '../helpers/cc.js';
import { isRoot, rootReason } from '../helpers/root.js';
import { Lab, isRoot as labReady, needsRootReason } from '../lab/index.js';

const options = OPTIONS as readonly SockOpt[];

function withSocket<T>(s: Socket, fn: (s: Socket) => T): T {
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

function systemError(fn: () => unknown): SystemError {
  try {
    fn();
  } catch (e) {
    if (isSystemError(e)) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('the option table', () => {
  it('has the numbers and levels of the system headers, and "undefined" exactly where they lack the name', () => {
    const src = [
      '#define _GNU_SOURCE',
      ...['stdio.h', 'sys/socket.h', 'netinet/in.h', 'netinet/tcp.h', 'netinet/icmp6.h', 'linux/icmp.h'].map((h) => `#include <${h}>`),
      'int main(void) {',
      ...options.map((o) => `#ifdef ${o.name}\n  printf("${o.name} %d %d\\n", ${o.levelName}, ${o.name});\n#else\n  printf("${o.name} undefined\\n");\n#endif`),
      '  return 0;\n}',
    ].join('\n');
    const fromC = runC(compileC('optnames', src)).trim().split('\n');
    expect(fromC).toEqual(options.map((o) => (o.undefined ? `${o.name} undefined` : `${o.name} ${o.level} ${o.optname}`)));
  });

  it("lists every option of UNP figure 7.1 that Linux has, and the issue's Linux ones", () => {
    const names = new Set(options.map((o) => o.name));
    for (const n of [
      'SO_BROADCAST',
      'SO_DEBUG',
      'SO_DONTROUTE',
      'SO_ERROR',
      'SO_KEEPALIVE',
      'SO_LINGER',
      'SO_OOBINLINE',
      'SO_RCVBUF',
      'SO_SNDBUF',
      'SO_RCVLOWAT',
      'SO_SNDLOWAT',
      'SO_RCVTIMEO',
      'SO_SNDTIMEO',
      'SO_REUSEADDR',
      'SO_REUSEPORT',
      'SO_TYPE',
      'SO_USELOOPBACK',
      'IP_HDRINCL',
      'IP_OPTIONS',
      'IP_RECVDSTADDR',
      'IP_RECVIF',
      'IP_TOS',
      'IP_TTL',
      'IP_MULTICAST_IF',
      'IP_MULTICAST_TTL',
      'IP_MULTICAST_LOOP',
      'IP_ADD_MEMBERSHIP',
      'IP_DROP_MEMBERSHIP',
      'IP_BLOCK_SOURCE',
      'IP_UNBLOCK_SOURCE',
      'IP_ADD_SOURCE_MEMBERSHIP',
      'IP_DROP_SOURCE_MEMBERSHIP',
      'ICMP6_FILTER',
      'IPV6_CHECKSUM',
      'IPV6_DONTFRAG',
      'IPV6_NEXTHOP',
      'IPV6_PATHMTU',
      'IPV6_RECVDSTOPTS',
      'IPV6_RECVHOPLIMIT',
      'IPV6_RECVHOPOPTS',
      'IPV6_RECVPATHMTU',
      'IPV6_RECVPKTINFO',
      'IPV6_RECVRTHDR',
      'IPV6_RECVTCLASS',
      'IPV6_UNICAST_HOPS',
      'IPV6_USE_MIN_MTU',
      'IPV6_V6ONLY',
      'IPV6_MULTICAST_IF',
      'IPV6_MULTICAST_HOPS',
      'IPV6_MULTICAST_LOOP',
      'IPV6_JOIN_GROUP',
      'IPV6_LEAVE_GROUP',
      'MCAST_JOIN_GROUP',
      'MCAST_LEAVE_GROUP',
      'MCAST_BLOCK_SOURCE',
      'MCAST_UNBLOCK_SOURCE',
      'MCAST_JOIN_SOURCE_GROUP',
      'MCAST_LEAVE_SOURCE_GROUP',
      'TCP_MAXSEG',
      'TCP_NODELAY',
      'SO_BINDTODEVICE',
      'SO_MARK',
      'SO_PRIORITY',
      'SO_TIMESTAMP',
      'SO_TIMESTAMPNS',
      'SO_PROTOCOL',
      'SO_DOMAIN',
      'SO_ACCEPTCONN',
      'SO_PEERCRED',
      'SO_PASSCRED',
      'IP_RECVTTL',
      'IP_PKTINFO',
      'IP_RECVERR',
      'IP_MTU_DISCOVER',
      'IP_MTU',
      'IPV6_MTU_DISCOVER',
      'TCP_KEEPIDLE',
      'TCP_KEEPINTVL',
      'TCP_KEEPCNT',
      'TCP_CORK',
      'TCP_QUICKACK',
      'TCP_CONGESTION',
      'TCP_USER_TIMEOUT',
      'TCP_INFO',
      'SCTP_AUTOCLOSE',
      'SCTP_MAXBURST',
      'SCTP_MAXSEG',
      'SCTP_NODELAY',
    ]) {
      expect(names, n).toContain(n);
    }
    expect(names.size).toBe(options.length);
    for (const o of options) {
      expect(o.description.length, o.name).toBeGreaterThan(5);
      if (!o.undefined) expect(o.appliesTo.length, o.name).toBeGreaterThan(0);
    }
  });

  it("finds options by name in any case, and the kernel's aliases", () => {
    expect(findOption('so_rcvbuf')?.optname).toBe(C.SO_RCVBUF);
    expect(findOption('IPV6_ADD_MEMBERSHIP')?.name).toBe('IPV6_JOIN_GROUP');
    expect(findOption('SO_NOSUCH')).toBeUndefined();
    expect(() => requireOption('SO_NOSUCH')).toThrow(OptionValueError);
  });
});

describe('struct tcp_info', () => {
  it('is laid out as <linux/tcp.h> says, for every field the header has', () => {
    const header = readFileSync('/usr/include/linux/tcp.h', 'utf8');
    const known = TCP_INFO_LAYOUT.filter(([f]) => new RegExp(`\\btcpi_${f}\\b`).test(header));
    expect(known.length).toBeGreaterThan(30);
    const src = [
      '#include <stdio.h>',
      '#include <stddef.h>',
      '#include <linux/tcp.h>',
      'int main(void) {',
      ...known.map(([f]) => `  printf("${f} %zu %zu\\n", offsetof(struct tcp_info, tcpi_${f}), sizeof(((struct tcp_info *)0)->tcpi_${f}));`),
      '  return 0;\n}',
    ].join('\n');
    expect(runC(compileC('tcpinfo', src)).trim().split('\n')).toEqual(known.map(([f, off, size]) => `${f} ${off} ${size}`));
  });

  it('decodes a connected loopback socket: ESTABLISHED, an MSS, an RTT', async () => {
    const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const s = Socket.open(C.AF_INET, C.SOCK_STREAM);
    try {
      s.connectStart(inetAddress('127.0.0.1', (server.address() as net.AddressInfo).port));
      await s.waitWritable();
      const info: TcpInfo = getOption(s, 'TCP_INFO');
      expect(info).toMatchObject({ state: 1, ca_state: 0, retransmits: 0 });
      expect(info.snd_mss).toBeGreaterThan(500);
      expect(info.rto).toBeGreaterThan(0);
      expect(info.options & 1).toBe(1); // timestamps, on by default over loopback
      expect(typeof info.bytes_acked).toBe('bigint');
      expect(formatValue(findOption('TCP_INFO')!, info)).toMatch(/^state = ESTABLISHED, ca_state = Open, retransmits = 0, rto = \d+ usec/);
      expect(JSON.stringify(jsonValue(findOption('TCP_INFO')!, info))).toContain('"state":1');
    } finally {
      s.close();
      server.close();
    }
  });
});

describe('typed get/set on real sockets', () => {
  it('flag, int, linger, timeval, string, bytes: set, read back, equal', () => {
    withSocket(openKind('tcp4'), (s) => {
      setOption(s, 'SO_KEEPALIVE', true);
      setOption(s, 'TCP_KEEPIDLE', 30);
      setOption(s, 'SO_LINGER', { onoff: 1, linger: 7 });
      setOption(s, 'SO_SNDTIMEO', { sec: 2, usec: 500000 }); // a whole number of clock ticks at any HZ
      setOption(s, 'TCP_CONGESTION', 'reno');
      setOption(s, 'IP_OPTIONS', Buffer.from([1, 1, 1, 1])); // four NOPs
      const keep: boolean = getOption(s, 'SO_KEEPALIVE');
      const idle: number = getOption(s, 'TCP_KEEPIDLE');
      const l: Linger = getOption(s, 'SO_LINGER');
      expect([keep, idle, l]).toEqual([true, 30, { onoff: 1, linger: 7 }]);
      expect(getOption(s, 'SO_SNDTIMEO')).toEqual({ sec: 2, usec: 500000 });
      expect(getOption(s, 'TCP_CONGESTION')).toBe('reno');
      expect(getOption(s, 'IP_OPTIONS')).toEqual(Buffer.from([1, 1, 1, 1]));
      // @ts-expect-error SO_RCVBUF takes a number
      expect(() => setOption(s, 'SO_RCVBUF', 'lots')).toThrow();
      expect(() => setOption(s, 'SO_TYPE', 2)).toThrow(/SO_TYPE is read-only/);
    });
  });

  it('in_addr and multicast settings on UDP', () => {
    withSocket(openKind('udp4'), (s) => {
      setOption(s, 'IP_MULTICAST_IF', '127.0.0.1');
      setOption(s, 'IP_MULTICAST_TTL', 9);
      expect(getOption(s, 'IP_MULTICAST_IF')).toBe('127.0.0.1');
      expect(getOption(s, 'IP_MULTICAST_TTL')).toBe(9);
    });
    withSocket(openKind('udp6'), (s) => {
      setOption(s, 'IPV6_MULTICAST_HOPS', 4);
      expect(getOption(s, 'IPV6_MULTICAST_HOPS')).toBe(4);
    });
  });

  it('ucred: SO_PEERCRED of a socketpair names this process', () => {
    const [a, b] = native.socketpair(C.AF_UNIX, C.SOCK_STREAM, 0);
    const s = Socket.adopt(a);
    try {
      expect(getOption(s, 'SO_PEERCRED')).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
    } finally {
      s.close();
      native.close(b);
    }
  });

  it('ip6_mtuinfo: IPV6_PATHMTU of a UDP socket connected over loopback', () => {
    withSocket(openKind('udp6'), (s) => {
      expect(systemError(() => getOption(s, 'IPV6_PATHMTU')).code).toBe('ENOTCONN');
      s.connectStart(inetAddress('::1', 9));
      const m = getOption(s, 'IPV6_PATHMTU');
      expect(m.mtu).toBe(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8')));
      expect(formatValue(findOption('IPV6_PATHMTU')!, m)).toBe(`mtu = ${m.mtu}`);
    });
  });

  it.skipIf(!isRoot)(`ICMP filters on raw sockets${isRoot ? '' : ` (${rootReason})`}`, () => {
    withSocket(openKind('raw6'), (s) => {
      expect(getOption(s, 'ICMP6_FILTER')).toEqual({ blocked: [] });
      const f = parseValue(findOption('ICMP6_FILTER')!, 'pass 129');
      setOption(s, 'ICMP6_FILTER', f as { blocked: number[] });
      const got = getOption(s, 'ICMP6_FILTER');
      expect(got.blocked).toHaveLength(255);
      expect(got.blocked).not.toContain(129);
      expect(formatValue(findOption('ICMP6_FILTER')!, got)).toBe('pass 129');
    });
    withSocket(openKind('raw4'), (s) => {
      setOption(s, 'ICMP_FILTER', { blocked: [0, 8] });
      expect(getOption(s, 'ICMP_FILTER')).toEqual({ blocked: [0, 8] });
    });
  });

  it('readOption reports refusals and undefined options instead of throwing', () => {
    withSocket(openKind('udp4'), (s) => {
      const nodelay = readOption(s, findOption('TCP_NODELAY')!);
      expect(['ENOPROTOOPT', 'EOPNOTSUPP']).toContain(nodelay.error?.code);
      expect(formatOption(nodelay)).toBe(`getsockopt error: ${native.strerror(-nodelay.error!.errno)}`);
      expect(formatOption(readOption(s, findOption('SO_USELOOPBACK')!))).toBe('(undefined)');
      expect(formatOption(readOption(s, findOption('SO_BROADCAST')!))).toBe('default = off');
      expect(formatOption(readOption(s, findOption('SO_BROADCAST')!), '')).toBe('off');
    });
  });
});

describe('values as users type them', () => {
  const o = (n: string) => findOption(n)!;
  // [name, typed, value, shown]; shown reads back as the same value unless it holds ' = ' or ' sec'
  const cases: [string, string, OptionValue, string][] = [
    ['SO_KEEPALIVE', 'on', true, 'on'],
    ['SO_KEEPALIVE', '0', false, 'off'],
    ['SO_RCVBUF', '64k', 65536, '65536'],
    ['IP_TOS', '0x10', 16, '16'],
    ['IP_MTU_DISCOVER', 'probe', 3, '3'],
    ['SO_LINGER', '1,5', { onoff: 1, linger: 5 }, 'l_onoff = 1, l_linger = 5'],
    ['SO_LINGER', 'off', { onoff: 0, linger: 0 }, 'l_onoff = 0, l_linger = 0'],
    ['SO_RCVTIMEO', '1.5', { sec: 1, usec: 500000 }, '1 sec, 500000 usec'],
    ['SO_RCVTIMEO', '250ms', { sec: 0, usec: 250000 }, '0 sec, 250000 usec'],
    ['TCP_CONGESTION', 'reno', 'reno', 'reno'],
    ['IP_MULTICAST_IF', '192.0.2.1', '192.0.2.1', '192.0.2.1'],
    ['IP_OPTIONS', '0x01010101', Buffer.from([1, 1, 1, 1]), '0x01010101'],
    [
      'IP_ADD_MEMBERSHIP',
      '239.1.2.3,192.0.2.1',
      { multiaddr: '239.1.2.3', address: '192.0.2.1', ifindex: 0 },
      'multiaddr = 239.1.2.3, address = 192.0.2.1, ifindex = 0',
    ],
    ['IP_ADD_MEMBERSHIP', '239.1.2.3,1', { multiaddr: '239.1.2.3', address: '0.0.0.0', ifindex: 1 }, 'multiaddr = 239.1.2.3, address = 0.0.0.0, ifindex = 1'],
    [
      'IP_ADD_SOURCE_MEMBERSHIP',
      '232.1.1.1,198.51.100.7',
      { multiaddr: '232.1.1.1', sourceaddr: '198.51.100.7', address: '0.0.0.0' },
      'multiaddr = 232.1.1.1, sourceaddr = 198.51.100.7, address = 0.0.0.0',
    ],
    ['IPV6_JOIN_GROUP', 'ff02::1:3,lo', { multiaddr: 'ff02::1:3', ifindex: 1 }, 'multiaddr = ff02::1:3, ifindex = 1'],
    [
      'MCAST_JOIN_SOURCE_GROUP',
      'ff3e::1,2001:db8::1,1',
      { group: 'ff3e::1', source: '2001:db8::1', ifindex: 1 },
      'group = ff3e::1, source = 2001:db8::1, ifindex = 1',
    ],
    ['IPV6_NEXTHOP', '2001:db8::1', '2001:db8::1', '2001:db8::1'],
    ['ICMP6_FILTER', 'block 1-4,133', { blocked: [1, 2, 3, 4, 133] }, 'block 1-4,133'],
    ['ICMP_FILTER', 'pass all', { blocked: [] }, 'pass all'],
  ];
  for (const [name, text, value, shown] of cases) {
    it(`${name}=${text}`, () => {
      const v = parseValue(o(name), text);
      expect(v).toEqual(value);
      expect(formatValue(o(name), v)).toBe(shown);
      // what is shown reads back as the same value (for the types that print in input syntax)
      if (!/ = | sec/.test(shown)) expect(parseValue(o(name), shown)).toEqual(value);
    });
  }

  it('rejects what does not fit, naming the option and the expected form', () => {
    const bad: [string, string, RegExp][] = [
      ['SO_LINGER', 'x', /^invalid value for SO_LINGER: 'x' \(expected l_onoff,l_linger/],
      ['SO_KEEPALIVE', 'perhaps', /expected on or off/],
      ['IP_TTL', '99999999999', /a 32-bit integer/],
      ['TCP_CONGESTION', 'a b', /an algorithm name/],
      ['SO_BINDTODEVICE', 'x'.repeat(16), /at most 15 characters/],
      ['IP_ADD_MEMBERSHIP', '239.1.2.3,nosuch0', /there is no interface 'nosuch0'/],
      ['ICMP_FILTER', 'block 40', /ICMP types 0-31/],
      ['IP_OPTIONS', 'xyz', /in hex/],
      ['TCP_INFO', 'x', /TCP_INFO is read-only/],
      ['SCTP_NODELAY', '1', /not defined on Linux/],
    ];
    for (const [name, text, msg] of bad) expect(() => parseValue(o(name), text), name).toThrow(msg);
  });
});

describe('what the kernel did, in words', () => {
  const o = (n: string) => findOption(n)!;
  it('explains SO_RCVBUF doubling and clamping, and is silent when the value held', () => {
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    expect(explainAdjustment(o('SO_RCVBUF'), 4096, 8192)).toBe('doubled by the kernel for bookkeeping overhead, socket(7)');
    expect(explainAdjustment(o('SO_RCVBUF'), max + 1, 2 * max)).toBe(`clamped to net.core.rmem_max = ${max}, then doubled, socket(7)`);
    expect(explainAdjustment(o('SO_RCVBUF'), 1, 2304)).toBe("doubled (2) is below the kernel's floor: raised to SOCK_MIN_RCVBUF = 2304, socket(7)");
    // net/core/sock.c: min_t(u32, val, rmem_max), so -1 is the largest request there is
    expect(explainAdjustment(o('SO_RCVBUF'), -1, 2 * max)).toBe(
      `-1 is 4294967295 as an unsigned int: clamped to net.core.rmem_max = ${max}, then doubled, socket(7)`,
    );
    expect(explainAdjustment(o('SO_SNDBUF'), 0, 4608)).toBe("doubled (0) is below the kernel's floor: raised to SOCK_MIN_SNDBUF = 4608, socket(7)");
    expect(explainAdjustment(o('IP_TTL'), 9, 9)).toBeUndefined();
    expect(explainAdjustment(o('SO_KEEPALIVE'), true, true)).toBeUndefined();
  });

  it('names the errno of a refusal and the likely reason', () => {
    withSocket(openKind('udp4'), (s) => {
      const e = systemError(() => setOption(s, 'TCP_NODELAY', true));
      expect(explainRejection(o('TCP_NODELAY'), e, 'udp4')).toBe('ENOPROTOOPT (Protocol not available): TCP_NODELAY does not apply to udp4 sockets');
    });
    withSocket(openKind('tcp4'), (s) => {
      const e = systemError(() => setOption(s, 'TCP_CONGESTION', 'nosuch'));
      expect(explainRejection(o('TCP_CONGESTION'), e, 'tcp4', 'nosuch')).toMatch(
        /^ENOENT \(No such file or directory\): no congestion control 'nosuch' \(available: .*\)$/,
      );
      const d = systemError(() => setOption(s, 'SO_BINDTODEVICE', 'nosuch0'));
      expect(explainRejection(o('SO_BINDTODEVICE'), d, 'tcp4', 'nosuch0')).toBe("ENODEV (No such device): no interface 'nosuch0'");
    });
  });
});

describe.skipIf(!labReady)(`multicast memberships on a lab interface (${isRoot ? 'namespace' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'mcast' });
  });
  afterAll(async () => {
    await lab?.close();
  });

  /**
   * Join succeeds, a second join fails (the kernel holds the membership:
   * EADDRINUSE, or EADDRNOTAVAIL for a source already listed), leave
   * succeeds, a second leave fails.
   */
  function joinLeave(s: Socket, joinName: string, leaveName: string, value: OptionValue, again = 'EADDRINUSE') {
    const join = requireOption(joinName);
    const leave = requireOption(leaveName);
    setOption(s, join, value);
    expect(systemError(() => setOption(s, join, value)).code).toBe(again);
    setOption(s, leave, value);
    expect(['EADDRNOTAVAIL', 'EINVAL', 'ENOENT']).toContain(systemError(() => setOption(s, leave, value)).code);
  }

  it('ip_mreqn, ip_mreq_source and group_req on IPv4', () => {
    lab.within(lab.src, () => {
      withSocket(openKind('udp4'), (s) => {
        joinLeave(s, 'IP_ADD_MEMBERSHIP', 'IP_DROP_MEMBERSHIP', parseValue(findOption('IP_ADD_MEMBERSHIP')!, '239.1.2.3,eth0'));
        joinLeave(
          s,
          'IP_ADD_SOURCE_MEMBERSHIP',
          'IP_DROP_SOURCE_MEMBERSHIP',
          parseValue(findOption('IP_ADD_SOURCE_MEMBERSHIP')!, `232.1.1.1,198.51.100.7,${lab.src.v4}`),
          'EADDRNOTAVAIL',
        );
        joinLeave(s, 'MCAST_JOIN_GROUP', 'MCAST_LEAVE_GROUP', parseValue(findOption('MCAST_JOIN_GROUP')!, '239.4.5.6,eth0'));
      });
    });
  });

  it('ipv6_mreq and group_source_req on IPv6', () => {
    lab.within(lab.src, () => {
      withSocket(openKind('udp6'), (s) => {
        joinLeave(s, 'IPV6_JOIN_GROUP', 'IPV6_LEAVE_GROUP', parseValue(findOption('IPV6_JOIN_GROUP')!, 'ff02::1:3,eth0'));
        joinLeave(
          s,
          'MCAST_JOIN_SOURCE_GROUP',
          'MCAST_LEAVE_SOURCE_GROUP',
          parseValue(findOption('MCAST_JOIN_SOURCE_GROUP')!, 'ff3e::1234,2001:db8::7,eth0'),
          'EADDRNOTAVAIL',
        );
        // MCAST_* take IPPROTO_IPV6 on an IPv6 socket: the same membership as IPV6_JOIN_GROUP
        setOption(s, 'MCAST_JOIN_GROUP', { group: 'ff02::1:4', ifindex: native.if_nametoindex('eth0') });
        expect(systemError(() => setOption(s, 'IPV6_JOIN_GROUP', { multiaddr: 'ff02::1:4', ifindex: native.if_nametoindex('eth0') })).code).toBe('EADDRINUSE');
      });
    });
  });

  it('SO_BINDTODEVICE takes the lab interface and reads back its name', () => {
    lab.within(lab.src, () => {
      withSocket(openKind('udp4'), (s) => {
        setOption(s, 'SO_BINDTODEVICE', 'eth0');
        expect(getOption(s, 'SO_BINDTODEVICE')).toBe('eth0');
        setOption(s, 'SO_BINDTODEVICE', '');
        expect(getOption(s, 'SO_BINDTODEVICE')).toBe('');
      });
    });
  });
});

describe('applyInOrder: each request set, then read back before the next', () => {
  it('two sets of one option give two outcomes of their own; a refused one says why; a read is a read', () => {
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const s = openKind('udp4');
    try {
      const o = (n: string) => findOption(n)!;
      const [big, small, ttl, type] = applyInOrder(s, 'udp4', [
        { opt: o('SO_RCVBUF'), value: max + 1 },
        { opt: o('SO_RCVBUF'), value: 4096 },
        { opt: o('IP_TTL'), value: 0 },
        { opt: o('SO_TYPE') },
      ]);
      expect(big).toMatchObject({ reading: { value: 2 * max }, adjusted: `clamped to net.core.rmem_max = ${max}, then doubled, socket(7)` });
      expect(small).toMatchObject({ reading: { value: 8192 }, adjusted: 'doubled by the kernel for bookkeeping overhead, socket(7)' });
      expect(ttl).toMatchObject({ rejected: { code: 'EINVAL' }, reason: expect.stringMatching(/^EINVAL \(Invalid argument\)/) });
      expect(type).toMatchObject({ reading: { value: 2 } });
      expect('adjusted' in type).toBe(false);
    } finally {
      s.close();
    }
  });

  it('SocketsByKind opens one socket per kind on first use and hands the same one back', () => {
    const socks = new SocketsByKind();
    try {
      const a = socks.get('tcp4');
      expect(socks.get('tcp4')).toBe(a);
      expect(socks.get('udp6')).not.toBe(a);
    } finally {
      socks.closeAll();
    }
  });
});
