// tcpdump's names without -n (addrtoname.c): IPv4 and IPv6 addresses by
// reverse lookup through the system resolver (getnameinfo(3): /etc/hosts,
// then DNS as nsswitch.conf says), ports by the first /etc/services entry
// for the protocol, MAC addresses by /etc/ethers, else "xx:..:xx (oui Name)"
// with "Broadcast" for ff:ff:ff:ff:ff:ff. Each address is looked up once.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { protocolName, serviceName } from '../../stack/inventory/names.js';

// oui.c oui_values (tcpdump 4.99): the OUIs tcpdump names after a MAC address
const OUI: Record<number, string> = {
  0x000000: 'Ethernet',
  0x00000c: 'Cisco',
  0x00005e: 'IANA',
  0x000081: 'Nortel Networks SONMP',
  0x0000f8: 'Cisco bridged',
  0x0080c2: 'Ethernet bridged',
  0x00a03e: 'ATM Forum',
  0x00e02f: 'DOCSIS Spanning Tree',
  0x080007: 'Appletalk',
  0x009069: 'Juniper',
  0x080009: 'Hewlett-Packard',
  0x00120f: 'IEEE 802.3 Private',
  0x0012bb: 'ANSI/TIA',
  0x001b21: 'DCBX',
  0x002320: 'Nicira Networks',
  0x5c16c7: 'Big Switch Networks',
  0xb0d2f5: 'Vello Systems',
  0x002481: 'HP',
  0x0004ea: 'HP-Labs',
  0x748771: 'Infoblox Inc',
  0xa42305: 'Open Networking Lab',
  0x00049f: 'Freescale',
  0x0015ad: 'Netronome',
  0x001018: 'Broadcom',
  0x00e004: 'PMC-Sierra',
  0xd0f0db: 'Ericsson',
};

export type Lookup = (address: string) => Promise<string | null>;

/** The name getnameinfo(3) gives an address, null when it has none (its numeric fallback) or the lookup fails. */
async function systemLookup(address: string): Promise<string | null> {
  const { nameOf } = await import('../../stack/resolve.js');
  try {
    const name = await nameOf(address);
    return name && !isIP(name) ? name : null;
  } catch {
    return null;
  }
}

/** /etc/ethers (ethers(5)): "08:00:20:00:61:CA hostname", MAC in lower case with two digits per byte. */
function readEthers(path = '/etc/ethers'): Map<string, string> {
  const m = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return m;
  }
  for (const raw of text.split('\n')) {
    const f = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length < 2) continue;
    const bytes = f[0]!.split(':');
    if (bytes.length !== 6 || !bytes.every((b) => /^[0-9a-fA-F]{1,2}$/.test(b))) continue;
    const key = bytes.map((b) => b.toLowerCase().padStart(2, '0')).join(':');
    if (!m.has(key)) m.set(key, f[1]!);
  }
  return m;
}

/**
 * The names a run prints, cached: host() answers from the cache and notes
 * an address it has not looked up yet; resolve() looks up what was noted.
 */
export class Names {
  private readonly hosts = new Map<string, string>();
  private readonly macs = new Map<string, string>();
  private readonly tcp = new Map<number, string>();
  private readonly udp = new Map<number, string>();
  private ethers: Map<string, string> | undefined;
  /** addresses host() was asked for and has no answer for yet */
  readonly missing = new Set<string>();

  constructor(private readonly lookup: Lookup = systemLookup) {}

  host(address: string): string {
    const name = this.hosts.get(address);
    if (name !== undefined) return name;
    this.missing.add(address);
    return address;
  }

  /** Look up the addresses host() noted, all at once; afterwards host() knows them. */
  async resolve(): Promise<void> {
    const todo = [...this.missing];
    this.missing.clear();
    const names = await Promise.all(todo.map((a) => this.lookup(a)));
    todo.forEach((a, i) => this.hosts.set(a, names[i] ?? a));
  }

  tcpPort(port: number): string {
    return portName(this.tcp, port, 'tcp');
  }

  udpPort(port: number): string {
    return portName(this.udp, port, 'udp');
  }

  protocol(n: number): string | undefined {
    return protocolName(n);
  }

  /** etheraddr_string: /etc/ethers, else the address and its OUI's name; Broadcast by name. */
  mac(address: string): string {
    let s = this.macs.get(address);
    if (s !== undefined) return s;
    this.ethers ??= readEthers();
    s = this.ethers.get(address);
    if (s === undefined) {
      if (address === 'ff:ff:ff:ff:ff:ff') s = 'Broadcast';
      else s = `${address} (oui ${OUI[Number.parseInt(address.slice(0, 8).replace(/:/g, ''), 16)] ?? 'Unknown'})`;
    }
    this.macs.set(address, s);
    return s;
  }
}

function portName(cache: Map<number, string>, port: number, proto: 'tcp' | 'udp'): string {
  let s = cache.get(port);
  if (s === undefined) {
    s = serviceName(port, proto) ?? String(port);
    cache.set(port, s);
  }
  return s;
}
