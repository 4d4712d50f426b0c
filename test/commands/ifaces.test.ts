// sockit ifaces against iproute2 in a lab namespace holding a dummy-like
// device (ifb: this container has no dummy module) with aliases (labels), a
// point-to-point address, IPv6 of global, site, link and host scope, one that
// is down, a bridge without ports (NO-CARRIER), a veth pair and a tun device: every
// interface, flag, MTU, hardware address, address, prefix length,
// broadcast, peer and label sockit prints is compared with `ip -j addr` /
// `ip -j link` run in the same namespace. (No VLAN: this container cannot
// create 802.1Q devices.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, isRoot } from '../lab/index.js';
import { sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  address?: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
}
interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  addr_info?: IpAddrInfo[];
  stats64?: { rx: { packets: number; bytes: number; errors: number }; tx: { packets: number; bytes: number; errors: number } };
}
interface Rec {
  type: string;
  index: number;
  name: string;
  flags: string[];
  mtu: number;
  state: string;
  hardware_address?: string;
  addresses: { family: number; address: string; prefix_len: number; peer?: string; broadcast?: string; label?: string; scope: string }[];
  stats?: Record<string, number>;
}

const SETUP = `
link add dummy0 type ifb
link set dummy0 mtu 9000 up
addr add 198.51.100.1/24 brd + dev dummy0
addr add 198.51.100.2/24 brd + dev dummy0 label dummy0:1
addr add 198.51.100.3/24 brd + dev dummy0 label dummy0:2
addr add 203.0.113.1 peer 203.0.113.2/32 dev dummy0
addr add 203.0.113.9/32 dev dummy0 scope host
addr add 2001:db8:16::1/64 dev dummy0 nodad
addr add 2001:db8:17::1/64 dev dummy0 nodad
addr add fec0::1/64 dev dummy0 nodad
addr add 2001:db8:18::1/128 dev dummy0 scope link nodad
link add dummy1 type ifb
link add br0 type bridge
link set br0 up
addr add 192.0.2.225/28 dev br0
addr add 192.0.2.200/28 dev dummy1
link add va type veth peer name vb
link set va up
addr add 203.0.113.17/28 brd + dev va
tuntap add tun0 mode tun
link set tun0 up
addr add 203.0.113.33 peer 203.0.113.34/32 dev tun0
`;

// prifinfo's flag words from ip's flag names
const BOOK: [string, string][] = [
  ['UP', 'UP'],
  ['BROADCAST', 'BCAST'],
  ['MULTICAST', 'MCAST'],
  ['LOOPBACK', 'LOOP'],
  ['POINTOPOINT', 'P2P'],
];
const bookFlags = (flags: string[]) =>
  `<${BOOK.filter(([ip]) => flags.includes(ip))
    .map(([, w]) => `${w} `)
    .join('')}>`;
const hwBook = (mac: string) =>
  mac
    .split(':')
    .map((x) => parseInt(x, 16).toString(16))
    .join(':');

/** What prifinfo prints, derived from ip -j addr: one block per address of the family (the first only without doaliases). */
function expectedPrifinfo(ip: IpLink[], family: 'inet' | 'inet6', doaliases: boolean): string {
  let s = '';
  for (const l of ip) {
    if (!l.flags.includes('UP')) continue;
    const addrs = (l.addr_info ?? []).filter((a) => a.family === family);
    for (const a of doaliases ? addrs : addrs.slice(0, 1)) {
      s += `${l.ifname}: (${l.ifindex}) ${bookFlags(l.flags)}\n`;
      if (l.address && /[1-9a-f]/.test(l.address)) s += `  ${hwBook(l.address)}\n`;
      s += `  MTU: ${l.mtu}\n  IP addr: ${a.local}\n`;
      if (a.broadcast && l.flags.includes('BROADCAST')) s += `  broadcast addr: ${a.broadcast}\n`;
      if (a.address && l.flags.includes('POINTOPOINT')) s += `  destination addr: ${a.address}\n`;
    }
  }
  return s;
}

const records = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Rec);

describe.skipIf(!isRoot)('ifaces matches ip -j addr / ip -j link in a lab namespace', () => {
  let lab: Lab;
  const ipJson = async (args: string[]) => {
    const r = await lab.exec(lab.src, ['ip', '-j', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as IpLink[];
  };

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'ifaces' });
    const r = await lab.exec(lab.src, ['ip', '-batch', '-'], { input: SETUP.trimStart() });
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('--json -a doaliases: every interface and address field by field, in the vocabulary', async () => {
    const ip = await ipJson(['addr']);
    const links = await ipJson(['link']);
    const r = await sockitIn(lab, lab.src, ['ifaces', '-a', 'doaliases', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const recs = records(r.stdout);
    const ifs = recs.filter((x) => x.type === 'interface');
    expect(ifs.map((x) => [x.index, x.name])).toEqual(ip.map((l) => [l.ifindex, l.ifname]));
    for (const [k, l] of ip.entries()) {
      const x = ifs[k]!;
      const link = links.find((y) => y.ifindex === l.ifindex)!;
      expect(x.flags, l.ifname).toEqual(l.flags);
      expect(x.mtu, l.ifname).toBe(l.mtu);
      expect(x.state, l.ifname).toBe(link.operstate.toLowerCase());
      expect(x.hardware_address, l.ifname).toBe(link.address);
      expect(x.addresses, l.ifname).toEqual(
        (l.addr_info ?? []).map((a) => ({
          family: a.family === 'inet' ? 4 : 6,
          address: a.local,
          prefix_len: a.prefixlen,
          scope: a.scope,
          ...(a.address ? { peer: a.address } : {}),
          ...(a.broadcast ? { broadcast: a.broadcast } : {}),
          ...(a.label ? { label: a.label } : {}),
          flags: expect.any(Number),
        })),
      );
    }
    // what the lab set up is there (so the comparison above compared something)
    const dummy0 = ifs.find((x) => x.name === 'dummy0')!;
    expect(
      dummy0.addresses
        .map((a) => a.label)
        .filter(Boolean)
        .sort(),
    ).toEqual(['dummy0', 'dummy0', 'dummy0', 'dummy0:1', 'dummy0:2']);
    expect(new Set(dummy0.addresses.map((a) => a.scope))).toEqual(new Set(['global', 'host', 'site', 'link']));
    expect(ifs.find((x) => x.name === 'tun0')!.flags).toContain('POINTOPOINT');
    expect(ifs.find((x) => x.name === 'dummy1')!.flags).not.toContain('UP');
    expect(recs.at(-1)).toEqual({ type: 'summary', interfaces: ip.length, addresses: ip.reduce((n, l) => n + (l.addr_info?.length ?? 0), 0), exit_code: 0 });
  });

  it('counters agree with ip -s link wherever they did not move between the two reads', async () => {
    const before = await ipJson(['-s', 'link']);
    const r = await sockitIn(lab, lab.src, ['ifaces', '-a', '--json']);
    const after = await ipJson(['-s', 'link']);
    const ifs = records(r.stdout).filter((x) => x.type === 'interface');
    let compared = 0;
    for (const b of before) {
      const a = after.find((l) => l.ifindex === b.ifindex)!;
      if (JSON.stringify(a.stats64) !== JSON.stringify(b.stats64)) continue;
      const s = ifs.find((x) => x.index === b.ifindex)!.stats!;
      expect([s.rx_packets, s.rx_bytes, s.rx_errors, s.tx_packets, s.tx_bytes, s.tx_errors], b.ifname).toEqual([
        b.stats64!.rx.packets,
        b.stats64!.rx.bytes,
        b.stats64!.rx.errors,
        b.stats64!.tx.packets,
        b.stats64!.tx.bytes,
        b.stats64!.tx.errors,
      ]);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it("prints prifinfo's lines for inet4 and inet6, with and without doaliases, up interfaces only", async () => {
    const ip = await ipJson(['addr']);
    for (const family of ['inet4', 'inet6'] as const) {
      for (const doaliases of [false, true]) {
        const r = await sockitIn(lab, lab.src, ['ifaces', family, doaliases ? '1' : '0']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout, `${family} ${doaliases}`).toBe(expectedPrifinfo(ip, family === 'inet4' ? 'inet' : 'inet6', doaliases));
      }
    }
    const p2p = await sockitIn(lab, lab.src, ['ifaces', 'inet4', 'doaliases']);
    expect(p2p.stdout).toContain('tun0: ');
    expect(p2p.stdout).toContain('  destination addr: 203.0.113.34\n');
    expect(p2p.stdout).toContain('  broadcast addr: 198.51.100.255\n');
    expect(p2p.stdout).not.toContain('dummy1');
  });

  it('-l: a row per interface with its state, MTU, hardware address and every address', async () => {
    const ip = await ipJson(['addr']);
    const r = await sockitIn(lab, lab.src, ['ifaces', '-l']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Idx +Iface +State +MTU +Hardware address +RX-OK +TX-OK +RX-ERR +TX-ERR +Addresses$/);
    expect(rows.length - 1).toBe(ip.length);
    for (const [k, l] of ip.entries()) {
      const f = rows[k + 1]!.split(/ +/);
      expect(f.slice(0, 5), l.ifname).toEqual([String(l.ifindex), l.ifname, l.operstate, String(l.mtu), l.address ?? '-']);
      const addrs = (l.addr_info ?? []).map(
        (a) => `${a.local}${a.address ? ` peer ${a.address}` : ''}/${a.prefixlen}${a.label && a.label !== l.ifname ? `(${a.label})` : ''}`,
      );
      expect(rows[k + 1]!.endsWith(` ${addrs.join(' ') || '-'}`), rows[k + 1]).toBe(true);
    }
  });

  it('bad input: one line on stderr, exit 2', async () => {
    for (const args of [['inet5'], ['inet4', 'maybe']]) {
      const r = await sockitIn(lab, lab.src, ['ifaces', ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^sockit ifaces: invalid <(address-family|doaliases)>: .*\n$/);
    }
    const j = await sockitIn(lab, lab.src, ['ifaces', 'inet5', '--json']);
    expect(j.code).toBe(2);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
  });
});
