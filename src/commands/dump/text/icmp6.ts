// print-icmp6.c (tcpdump 4.99): echo, neighbor discovery with its options,
// MLD, the errors, and the -v wording (the checksum verdict first). Facts
// copied, not code.
import { formatIPv6 } from '../../../stack/packet/addr.js';
import type { Icmp6Layer } from '../../../stack/dissect/index.js';
import { hexText } from './ascii.js';
import { quotedTransport } from './icmp.js';
import { type TextOptions, hex2, hex4, host, tcpPort, udpPort } from './netdissect.js';

const UNREACH6: Record<number, string> = {
  0: 'unreachable route',
  1: 'unreachable prohibited',
  2: 'beyond scope',
  3: 'unreachable address',
  4: 'unreachable port',
  5: 'unreachable policy',
  6: 'unreachable reject route',
};

// print-icmp6.c icmp6_opt_values
const ND_OPTIONS: Record<number, string> = {
  1: 'source link-address',
  2: 'destination link-address',
  3: 'prefix info',
  4: 'redirected header',
  5: 'mtu',
  7: 'advertisement interval',
  8: 'homeagent information',
  24: 'route info',
  25: 'rdnss',
  31: 'dnssl',
};
const bitNames = (v: number, names: [number, string][]) =>
  names
    .filter(([b]) => v & b)
    .map(([, n]) => n)
    .join(', ') || 'none';
const RA_FLAGS: [number, string][] = [
  [0x80, 'managed'],
  [0x40, 'other stateful'],
  [0x20, 'home agent'],
  [0x02, 'ipv6 only'],
];
const PI_FLAGS: [number, string][] = [
  [0x80, 'onlink'],
  [0x40, 'auto'],
  [0x20, 'router'],
];
const lifetime = (v: number) => (v === 0xffffffff ? 'infinity' : `${v}s`);

/** icmp6_opt_print: one line per option, what it holds, at -vv its bytes. */
function ndOptionText(x: NonNullable<Icmp6Layer['ndOptions']>[number], o: TextOptions): string {
  let s = `\n\t  ${ND_OPTIONS[x.type] ?? 'unknown'} option (${x.type}), length ${x.length} (${x.length / 8}): `;
  const b = Buffer.from(x.data, 'hex');
  if ((x.type === 1 || x.type === 2) && b.length) s += [...b].map((v) => hex2(v)).join(':');
  else if (x.type === 3 && b.length >= 30)
    s +=
      `${host(o, formatIPv6(b, 14))}/${b[0]}${x.length !== 32 ? 'badlen' : ''}, Flags [${bitNames(b[1]!, PI_FLAGS)}], ` +
      `valid time ${lifetime(b.readUInt32BE(2))}, pref. time ${lifetime(b.readUInt32BE(6))}`;
  else if (x.type === 5 && b.length >= 6) s += ` ${b.readUInt32BE(2)}${x.length !== 8 ? 'bad option length' : ''}`;
  if (o.verbose > 1 && b.length) s += hexText(b).replace(/\n\t/g, '\n\t    ');
  return s;
}
const MLD_RECORDS = ['', 'is_in', 'is_ex', 'to_in', 'to_ex', 'allow', 'block'];

/** print-icmp6.c at -v: the checksum verdict first, lengths moved, ND options and MLDv2 records spelled out. */
function icmp6Verbose(c: Icmp6Layer, o: TextOptions): string {
  const sum = c.sum ? (c.sum.value === c.sum.good ? '[icmp6 sum ok] ' : `[bad icmp6 cksum 0x${hex4(c.sum.value)} -> 0x${hex4(c.sum.good)}!] `) : '';
  const opts = (c.ndOptions ?? []).map((x) => ndOptionText(x, o)).join('');
  switch (c.type) {
    case 128:
    case 129:
      return `${sum}ICMP6, echo ${c.type === 128 ? 'request' : 'reply'}, id ${c.id}, seq ${c.seq}`;
    case 133:
      return `${sum}ICMP6, router solicitation, length ${c.length}${opts}`;
    case 134: {
      const r = c.ra;
      if (!r) return `${sum}ICMP6, router advertisement, length ${c.length}`;
      return (
        `${sum}ICMP6, router advertisement, length ${c.length}\n\thop limit ${r.hopLimit}, Flags [${bitNames(r.flags, RA_FLAGS)}], ` +
        `pref ${['medium', 'high', 'rsv', 'low'][(r.flags >> 3) & 3]}, router lifetime ${r.lifetime}s, reachable time ${r.reachable}ms, retrans timer ${r.retrans}ms${opts}`
      );
    }
    case 135:
      return `${sum}ICMP6, neighbor solicitation, length ${c.length}, who has ${host(o, c.target!)}${opts}`;
    case 136: {
      const f = c.naFlags!;
      const flags = [f.router ? 'router' : '', f.solicited ? 'solicited' : '', f.override ? 'override' : ''].filter(Boolean).join(', ') || 'none';
      return `${sum}ICMP6, neighbor advertisement, length ${c.length}, tgt is ${host(o, c.target!)}, Flags [${flags}]${opts}`;
    }
    case 143:
      return (
        `${sum}ICMP6, multicast listener report v2, ${c.records} group record(s)` +
        (c.groups ?? [])
          .map(
            (g) =>
              ` [gaddr ${host(o, g.group)} ${MLD_RECORDS[g.type] ?? `type-#${g.type}`}` +
              (o.verbose > 1 ? ` {${g.addresses.map((a) => ` ${host(o, a)}`).join('')} }]` : `, ${g.sources} source(s)]`),
          )
          .join('')
      );
    case 1:
    case 3:
      return sum + icmp6Text(c, { ...o, verbose: 0 }).replace(/, length \d+$/, '');
    default:
      return sum + icmp6Text(c, { ...o, verbose: 0 });
  }
}

export function icmp6Text(c: Icmp6Layer, o: TextOptions): string {
  if (o.verbose && !c.short) return icmp6Verbose(c, o);
  let s = 'ICMP6, ';
  const q = c.quote;
  const qip = q?.[0]?.layer === 'ipv6' ? q[0] : undefined;
  switch (c.type) {
    case 128:
      s += `echo request, id ${c.id}, seq ${c.seq}`;
      break;
    case 129:
      s += `echo reply, id ${c.id}, seq ${c.seq}`;
      break;
    case 133:
      s += 'router solicitation';
      break;
    case 134:
      s += 'router advertisement';
      break;
    case 135:
      s += `neighbor solicitation, who has ${host(o, c.target!)}`;
      break;
    case 136:
      s += `neighbor advertisement, tgt is ${host(o, c.target!)}`;
      break;
    case 137:
      s += `redirect, ${host(o, c.target!)}`;
      break;
    case 130:
      s += `multicast listener query`;
      break;
    case 131:
      s += `multicast listener report max resp delay: ${c.maxDelay} addr: ${host(o, c.target!)}`;
      break;
    case 132:
      s += `multicast listener done max resp delay: ${c.maxDelay} addr: ${host(o, c.target!)}`;
      break;
    case 143:
      s += `multicast listener report v2, ${c.records} group record(s)`;
      break;
    case 1: {
      s += `destination unreachable, ${UNREACH6[c.code] ?? `unknown unreach code (${c.code})`}`;
      const t = quotedTransport(q?.[1]);
      if (c.code === 4 && qip) {
        const to = host(o, qip.header.dst);
        if (t?.layer === 'udp') s += `, ${to} udp port ${udpPort(o, t.dstPort)}`;
        else if (t?.layer === 'tcp') s += `, ${to} tcp port ${tcpPort(o, t.segment.dstPort)}`;
        else s += `, ${to}`;
      } else if (qip) s += ` ${host(o, qip.header.dst)}`;
      break;
    }
    case 2:
      s += `packet too big, mtu ${c.mtu}`;
      break;
    case 3:
      s +=
        c.code === 0
          ? `time exceeded in-transit${qip ? ` for ${host(o, qip.header.dst)}` : ''}`
          : c.code === 1
            ? 'ip6 reassembly time exceeded'
            : `time exceeded, unknown code (${c.code})`;
      break;
    case 4:
      s += `parameter problem, ${['erroneous - octet', 'next header - octet', 'option - octet'][c.code] ?? 'code-#'} ${c.pointer}`;
      break;
    default:
      s += `type-#${c.type}`;
  }
  if (c.typeOnly) return `${s.split(', ').slice(0, 2).join(', ')} [|icmp6]`;
  // print-icmp6.c reads nothing past the code of a router solicitation or advertisement without -v
  if (c.short && (c.type === 133 || c.type === 134) && !o.verbose) return `${s}, length ${c.length}`;
  // a port unreachable whose quoted ports the capture cut prints no address
  if (c.short && c.type === 1 && c.code === 4) return `${s.slice(0, s.indexOf('unreachable port') + 'unreachable port'.length)} [|icmp6]`;
  if (c.short) return s.replace(/, (who has|tgt is|id|\S+ group|[0-9a-f:]+ udp port|[0-9a-f:]+ tcp port|max resp).*$/, '').replace(/ for $/, '') + ' [|icmp6]';
  return s + `, length ${c.length}`;
}
