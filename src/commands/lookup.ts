// sockit lookup: names and services as UNP ch.11 teaches them. getaddrinfo(3)
// printed as glibc's `getent ahosts` prints it, getnameinfo(3) as `getent
// hosts` prints an address, getservbyname/getservbyport(3) as `getent
// services`. Exit status as getent(1): 2 when a key is not found.
import { getservbyname, getservbyport, type ServEnt } from '../stack/hostserv.js';
import {
  AI_ADDRCONFIG,
  AI_ALL,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  AI_V4MAPPED,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NOFQDN,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
  getaddrinfo,
  getnameinfo,
  type AddrInfo,
} from '../stack/resolve.js';
import { addressFamily } from '../stack/packet/addr.js';
import * as C from '../stack/constants.js';
import { renderer, type JsonRecord, type Presenter } from '../output/index.js';
import { familyFlag, isResolveError, jsonLine, makeCommand, parseArgs, runMain, UsageError } from './common.js';

interface Options {
  4?: boolean;
  6?: boolean;
  socktype?: number;
  passive?: boolean;
  // --x and --no-x both defined: undefined unless given (the default is on)
  canonical?: boolean;
  addrconfig?: boolean;
  v4mapped?: boolean;
  all?: boolean;
  numericHost?: boolean;
  numericService?: boolean;
  reverse?: boolean;
  nameRequired?: boolean;
  fqdn?: boolean;
  dgram?: boolean;
  services?: string;
  json?: boolean;
}

const SOCKTYPES: Record<string, number> = { stream: C.SOCK_STREAM, dgram: C.SOCK_DGRAM, raw: C.SOCK_RAW, seqpacket: C.SOCK_SEQPACKET };
// getent's names (glibc nss/getent.c ahosts_keys_int); SOCK_RDM 4, SOCK_DCCP 6, SOCK_PACKET 10
const SOCKNAMES: Record<number, string> = { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 4: 'RDM', 5: 'SEQPACKET', 6: 'DCCP', 10: 'PACKET' };
// /etc/protocols names of the protocols getaddrinfo returns
const PROTONAMES: Record<number, string> = { 0: 'ip', 1: 'icmp', 6: 'tcp', 17: 'udp', 33: 'dccp', 58: 'ipv6-icmp', 132: 'sctp', 136: 'udplite' };

type Event =
  | { kind: 'addrinfo'; ai: AddrInfo; withService: boolean }
  | { kind: 'name'; address: string; port: number | null; host: string; service: string }
  | { kind: 'service'; s: ServEnt };

const sockName = (t: number) => SOCKNAMES[t] ?? String(t);
const protoName = (p: number) => PROTONAMES[p] ?? String(p);
const familyOf = (address: string) => (addressFamily(address.replace(/%.*/, '')) === 6 ? 6 : 4);

/** getent's address column: "%s%-*s" of the address and its %scope, with pad = 15 - both lengths (so a scope shortens it). */
function addressColumn(address: string, scope: string): string {
  return address + scope.padEnd(Math.max(0, 15 - address.length - scope.length), ' ');
}

const presenter: Presenter<Event> = {
  toRecord(e): JsonRecord {
    if (e.kind === 'addrinfo') {
      const { ai } = e;
      return {
        type: 'address',
        family: ai.family,
        address: ai.address,
        port: e.withService ? ai.port : undefined,
        scope_id: ai.scopeid || undefined,
        socktype: sockName(ai.socktype).toLowerCase(),
        protocol: protoName(ai.protocol),
        canonname: ai.canonname || undefined,
      };
    }
    if (e.kind === 'name') {
      return {
        type: 'name',
        family: familyOf(e.address),
        address: e.address,
        port: e.port ?? undefined,
        host: e.host,
        service: e.port === null ? undefined : e.service,
      };
    }
    return { type: 'service', name: e.s.name, port: e.s.port, protocol: e.s.proto, aliases: e.s.aliases };
  },
  toText(e): string {
    if (e.kind === 'addrinfo') {
      // printf("%s%-*s %-6s %s\n", buf, pad, scope, sockstr, canonname ?: "")
      const { ai } = e;
      const col = addressColumn(ai.address, ai.scopeid ? `%${ai.scopeid}` : '');
      const serv = e.withService ? ` ${ai.port}/${protoName(ai.protocol)}` : '';
      return `${col} ${sockName(ai.socktype).padEnd(6)}${serv} ${ai.canonname ?? ''}\n`;
    }
    if (e.kind === 'name') {
      // getent hosts: printf("%-15s %s", address, h_name)
      return `${e.address.padEnd(15)} ${e.host}${e.port === null ? '' : ` ${e.service}`}\n`;
    }
    // getent services: printf("%-21s %d/%s", s_name, port, s_proto), then " alias" each
    return `${e.s.name.padEnd(21)} ${e.s.port}/${e.s.proto}${e.s.aliases.map((a) => ` ${a}`).join('')}\n`;
  },
};

function command() {
  return makeCommand('lookup')
    .description('getaddrinfo, getnameinfo and getservbyname as getent(1) prints them (UNP ch.11)')
    .usage('[options] name [service] | -x address [port] | --services name|port[/proto]')
    .argument('[name]', "host name or address ('*' with --passive: no host)")
    .argument('[service]', 'service name or port (adds port/protocol to every row)')
    .option('-4', 'IPv4 only (AF_INET), as getent ahostsv4')
    .option('-6', 'IPv6 only (AF_INET6), as getent ahostsv6')
    .option('--socktype <type>', 'stream, dgram, raw or seqpacket (ai_socktype; default: every type)', socktypeArg)
    .option('--passive', 'AI_PASSIVE: addresses to bind (the wildcard without a name)')
    .option('--canonical', 'AI_CANONNAME: the canonical name on the first row (the default)')
    .option('--no-canonical', 'no AI_CANONNAME')
    .option('--addrconfig', 'AI_ADDRCONFIG: only families configured on this host (the default)')
    .option('--no-addrconfig', 'no AI_ADDRCONFIG')
    .option('--v4mapped', 'AI_V4MAPPED: with -6, IPv4 addresses as ::ffff:a.b.c.d (the default)')
    .option('--no-v4mapped', 'no AI_V4MAPPED')
    .option('--all', 'AI_ALL: with -6 and AI_V4MAPPED, mapped IPv4 addresses besides IPv6 ones')
    .option('--numeric-host', 'AI_NUMERICHOST / NI_NUMERICHOST: no name lookup')
    .option('--numeric-service', 'AI_NUMERICSERV / NI_NUMERICSERV: ports as numbers')
    .option('-x, --reverse', 'getnameinfo of address [port], as getent hosts prints it')
    .option('--name-required', 'NI_NAMEREQD: fail (exit 2) when the address has no name')
    .option('--no-fqdn', 'NI_NOFQDN: the host part of a local name only')
    .option('--dgram', 'NI_DGRAM: the port as a UDP service')
    .option('--services <name|port>', 'getservbyname/getservbyport over /etc/services, as getent services ("7", "echo", "echo/udp")')
    .option('--json', 'JSON lines (sockit(1) JSON OUTPUT)');
}

function socktypeArg(v: string): number {
  const t = SOCKTYPES[v.toLowerCase()];
  if (t === undefined) throw new UsageError(`invalid socket type: '${v}' (stream, dgram, raw or seqpacket)`);
  return t;
}

export async function run(argv: string[]): Promise<number> {
  return runMain('lookup', async () => {
    const cmd = command();
    if (!parseArgs(cmd, argv)) return 0;
    const o = cmd.opts<Options>();
    const [name, service] = cmd.args as [string?, string?];
    const out = renderer(presenter, Boolean(o.json));
    const found =
      o.services !== undefined
        ? services(o, o.services, name, out.emit)
        : o.reverse
          ? await reverse(o, name, service, out.emit)
          : await forward(o, name, service, out.emit);
    await out.drain();
    if (o.json) jsonLine({ type: 'summary', found, exit_code: 0 });
    return 0;
  });
}

/** The resolver's failure as one line (and an error record), exit 2 as getent. */
function notFound(o: Options, key: string, code: string, message: string): never {
  if (o.json) jsonLine({ type: 'error', kind: 'resolve', code, message: `${key}: ${message}` });
  throw new UsageError(`${key}: ${message}`);
}

async function forward(o: Options, name: string | undefined, service: string | undefined, emit: (e: Event) => void): Promise<number> {
  if (name === undefined) throw new UsageError('a name to look up is required (see sockit lookup --help)');
  const family = familyFlag(o, 'only one of -4 and -6 may be given');
  const host = name === '*' && o.passive ? null : name;
  // getent ahosts: AI_V4MAPPED | AI_ADDRCONFIG | AI_CANONNAME (no canonical name without a host: EAI_BADFLAGS)
  const flags =
    (o.canonical !== false && host !== null ? AI_CANONNAME : 0) |
    (o.addrconfig !== false ? AI_ADDRCONFIG : 0) |
    (o.v4mapped !== false ? AI_V4MAPPED : 0) |
    (o.all ? AI_ALL : 0) |
    (o.passive ? AI_PASSIVE : 0) |
    (o.numericHost ? AI_NUMERICHOST : 0) |
    (o.numericService ? AI_NUMERICSERV : 0);
  let list: AddrInfo[];
  try {
    list = await getaddrinfo(host, service ?? null, { family, socktype: o.socktype ?? 0, flags });
  } catch (e) {
    if (isResolveError(e)) notFound(o, service === undefined ? name : `${name} ${service}`, e.code, e.message);
    throw e;
  }
  for (const ai of list) emit({ kind: 'addrinfo', ai, withService: service !== undefined });
  return list.length;
}

async function reverse(o: Options, address: string | undefined, service: string | undefined, emit: (e: Event) => void): Promise<number> {
  if (address === undefined) throw new UsageError('-x needs an address (see sockit lookup --help)');
  if (!addressFamily(address.replace(/%.*/, ''))) throw new UsageError(`not an IP address: '${address}'`);
  let port: number | null = null;
  if (service !== undefined) {
    if (!/^\d+$/.test(service) || Number(service) > 65535) throw new UsageError(`invalid port: '${service}'`);
    port = Number(service);
  }
  const flags =
    (o.numericHost ? NI_NUMERICHOST : 0) |
    (o.numericService ? NI_NUMERICSERV : 0) |
    (o.nameRequired ? NI_NAMEREQD : 0) |
    (o.fqdn === false ? NI_NOFQDN : 0) |
    (o.dgram ? NI_DGRAM : 0);
  try {
    const r = await getnameinfo(address, port ?? 0, flags);
    emit({ kind: 'name', address, port, host: r.host, service: r.service });
  } catch (e) {
    if (isResolveError(e)) notFound(o, address, e.code, e.message);
    throw e;
  }
  return 1;
}

function services(o: Options, key: string, extra: string | undefined, emit: (e: Event) => void): number {
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}' after --services`);
  // getent services: "name", "port", "name/proto" or "port/proto"
  const slash = key.indexOf('/');
  const what = slash < 0 ? key : key.slice(0, slash);
  const proto = slash < 0 ? undefined : key.slice(slash + 1);
  const s = /^\d+$/.test(what) ? getservbyport(Number(what), proto) : getservbyname(what, proto);
  if (!s) notFound(o, key, 'ENOENT', 'service not found in /etc/services');
  emit({ kind: 'service', s });
  return 1;
}
