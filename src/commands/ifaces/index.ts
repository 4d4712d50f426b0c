// sockit ifaces: UNP 17.6's prifinfo — get_ifi_info(family, doaliases)
// printed as the book prints it — over rtnetlink (RTM_GETLINK, RTM_GETADDR)
// instead of SIOCGIFCONF, so IPv6 addresses are there too. As get_ifi_info,
// an interface that is down is skipped (unless -a), and without doaliases
// only the first address of each interface (of each family) is shown.
import { interfaces, operstateName, scopeName, type Interface, type InterfaceAddress } from '../../stack/inventory/index.js';
import { renderer, type JsonRecord, type Presenter } from '../../output/index.js';
import { jsonLine, makeCommand, parseArgs, runMain, UsageError } from '../common.js';
import { IFF_UP, TABLE_HEADER, ipFlags, prifinfo, tableRow, type IfiInfo } from './text.js';

interface Options {
  all?: boolean;
  long?: boolean;
  json?: boolean;
}

/** One interface as shown: the addresses selected and get_ifi_info's entries for it. */
interface Shown {
  iface: Interface;
  entries: IfiInfo[];
  long: boolean;
}

function addressRecord(a: InterfaceAddress): Record<string, unknown> {
  return {
    family: a.family,
    address: a.address,
    prefix_len: a.prefixLen,
    peer: a.peer,
    broadcast: a.broadcast,
    label: a.label,
    scope: scopeName(a.scope),
    flags: a.flags,
  };
}

const presenter: Presenter<Shown> = {
  toRecord({ iface: i }): JsonRecord {
    return {
      type: 'interface',
      index: i.index,
      name: i.name,
      flags: ipFlags(i.flags, i.linkDown),
      mtu: i.mtu,
      state: i.operstate === undefined ? undefined : operstateName(i.operstate).toLowerCase(),
      hardware_address: i.hardwareAddress,
      hardware_broadcast: i.broadcastAddress,
      addresses: i.addresses.map(addressRecord),
      stats: i.stats,
    };
  },
  toText(s): string {
    return s.long ? tableRow(s.iface) : s.entries.map(prifinfo).join('');
  },
};

function command() {
  return makeCommand('ifaces')
    .description("the interfaces and their addresses as UNP's prifinfo prints them (get_ifi_info over rtnetlink)")
    .usage('[options] [inet4|inet6] [doaliases]')
    .argument('[family]', 'inet4 or inet6 (default: both)')
    .argument('[doaliases]', "'doaliases' or 1: every address of an interface, not only its first (0: the first)")
    .option('-a, --all', 'interfaces that are down too (and those without an address)')
    .option('-l, --long', 'a table of every interface: state, MTU, hardware address, counters, addresses')
    .option('--json', 'JSON lines (sockit(1) JSON OUTPUT): an interface record each');
}

function familyArg(v: string | undefined): 0 | 4 | 6 {
  if (v === undefined) return 0;
  if (v === 'inet4' || v === 'inet') return 4;
  if (v === 'inet6') return 6;
  throw new UsageError(`invalid <address-family>: '${v}' (inet4 or inet6)`);
}

function aliasesArg(v: string | undefined): boolean {
  if (v === undefined) return false;
  if (v === 'doaliases') return true;
  if (/^\d+$/.test(v)) return Number(v) !== 0; // the book's atoi(argv[2])
  throw new UsageError(`invalid <doaliases>: '${v}' (doaliases, 1 or 0)`);
}

/** get_ifi_info's choice for one interface: its addresses of the family, the first of each family without doaliases. */
export function select(i: Interface, family: 0 | 4 | 6, doaliases: boolean, all: boolean): Shown | null {
  if (!all && !(i.flags & IFF_UP)) return null;
  const seen = new Set<number>();
  const addresses = i.addresses.filter((a) => {
    if (family && a.family !== family) return false;
    if (doaliases) return true;
    if (seen.has(a.family)) return false;
    seen.add(a.family);
    return true;
  });
  if (addresses.length === 0 && !all) return null;
  const iface = { ...i, addresses };
  const entries: IfiInfo[] = addresses.length ? addresses.map((addr) => ({ iface, addr })) : [{ iface }];
  return { iface, entries, long: false };
}

export async function run(argv: string[]): Promise<number> {
  return runMain('ifaces', async () => {
    const cmd = command();
    if (!parseArgs(cmd, argv)) return 0;
    const o = cmd.opts<Options>();
    let [f, d] = cmd.args as [string?, string?];
    // the family may be left out: `sockit ifaces doaliases`
    if (d === undefined && f !== undefined && !f.startsWith('inet')) [f, d] = [undefined, f];
    const family = familyArg(f);
    const doaliases = aliasesArg(d);
    // -l: every interface and every address, as netstat -i lists every link
    const long = Boolean(o.long);
    const { interfaces: list, malformed } = await interfaces();
    if (malformed) process.stderr.write(`sockit ifaces: a malformed rtnetlink reply: ${malformed.error}\n`);
    const out = renderer(presenter, Boolean(o.json));
    if (long && !o.json) process.stdout.write(TABLE_HEADER);
    let shown = 0,
      addresses = 0;
    for (const i of list) {
      const s = select(i, family, doaliases || long, Boolean(o.all) || long);
      if (!s) continue;
      s.long = long;
      shown++;
      addresses += s.iface.addresses.length;
      out.emit(s);
    }
    await out.drain();
    if (o.json) jsonLine({ type: 'summary', interfaces: shown, addresses, exit_code: 0 });
    return 0;
  });
}
