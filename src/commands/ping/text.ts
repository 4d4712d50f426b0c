// iputils ping's words (iputils 20221126: ping.c, ping_common.c, ping6_common.c):
// the header, reply and error lines, the statistics, and how it words the
// setup's refusals and system errors. Pure functions over the core's records.
import { describeSystemError } from '../../stack/errors.js';
import { describe4, describe6 } from '../../stack/packet/icmp-names.js';
import * as icmp4 from '../../stack/packet/icmp4.js';
import type { OptionItem } from '../../stack/packet/ipoptions.js';
import * as ni from '../../stack/packet/nodeinfo.js';
import type { PingEvent, PingSetupProblem, PingStats, PingWarning } from '../../stack/ping/index.js';

export const NAME = 'ping';

export const NI_HELP = `sockit ping -6 -N <nodeinfo opt>
Help:
  help
Query:
  name
  ipv6
  ipv6-all
  ipv6-compatible
  ipv6-global
  ipv6-linklocal
  ipv6-sitelocal
  ipv4
  ipv4-all
Subject:
  subject-ipv6=addr
  subject-ipv4=addr
  subject-name=name
  subject-fqdn=name
`;

/** " time=0.045 ms": iputils' rounding to 3 significant-ish digits (microseconds in). */
export function formatTime(us: number): string {
  if (us >= 100000 - 50) return `${Math.trunc((us + 500) / 1000)}`;
  if (us >= 10000 - 5) return `${Math.trunc((us + 50) / 1000)}.${Math.trunc(((us + 50) % 1000) / 100)}`;
  if (us >= 1000) return `${Math.trunc((us + 5) / 1000)}.${String(Math.trunc(((us + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.trunc(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
}

/** %ld.%03ld of microseconds */
export function ms3(us: number): string {
  const neg = us < 0 ? '-' : '';
  const a = Math.abs(us);
  return `${neg}${Math.trunc(a / 1000)}.${String(a % 1000).padStart(3, '0')}`;
}

/** printf's %g (6 significant digits) */
export function formatG(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** The statistics block iputils prints at the end (finish()). */
export function summaryText(host: string, s: PingStats): string {
  let out = `\n--- ${host} ping statistics ---\n`;
  out += `${s.ntransmitted} packets transmitted, ${s.nreceived} received`;
  if (s.nrepeats) out += `, +${s.nrepeats} duplicates`;
  if (s.nchecksum) out += `, +${s.nchecksum} corrupted`;
  if (s.nerrors) out += `, +${s.nerrors} errors`;
  if (s.ntransmitted) out += `, ${formatG(s.lossPercent)}% packet loss, time ${s.elapsedMs}ms`;
  out += '\n';
  let comma = '';
  const r = s.rttSummary();
  if (r) {
    out += `rtt min/avg/max/mdev = ${ms3(r.min)}/${ms3(r.avg)}/${ms3(r.max)}/${ms3(r.mdev)} ms`;
    comma = ', ';
  }
  if (s.pipesize > 1) {
    out += `${comma}pipe ${s.pipesize}`;
    comma = ', ';
  }
  const ie = s.ipgEwma();
  if (ie) out += `${comma}ipg/ewma ${ms3(ie.ipg)}/${ms3(ie.ewma)} ms`;
  return out + '\n';
}

/** SIGQUIT's status line (status()), for standard error. */
export function statusText(s: PingStats): string {
  let line = `\r${s.nreceived}/${s.ntransmitted} packets, ${statusLoss(s)}% loss`;
  if (s.nreceived && s.timing) {
    const tavg = Math.trunc(s.tsum / (s.nreceived + s.nrepeats));
    line += `, min/avg/ewma/max = ${ms3(s.tmin)}/${ms3(tavg)}/${ms3(Math.trunc(s.rtt / 8))}/${ms3(s.tmax)} ms`;
  }
  return line + '\n';
}

/** the status line's loss: an integer percentage */
export function statusLoss(s: PingStats): number {
  return s.ntransmitted ? Math.trunc(((s.ntransmitted - s.nreceived) * 100) / s.ntransmitted) : 0;
}

/** "[1700000000.123456] " for -D, from CLOCK_REALTIME ns */
export function stampText(realNs: bigint): string {
  return `[${realNs / 1_000_000_000n}.${String((realNs % 1_000_000_000n) / 1000n).padStart(6, '0')}] `;
}

/** The reply's node information answer as iputils prints it after "from ADDR:", ending "; seq=N;". */
export function nodeInfoText(wire: Buffer): string {
  const a = ni.nodeInfoAnswer(wire);
  if (!a) return ' parse error (too short)';
  let s = '';
  if (a.code === ni.SUCCESS) {
    const list = a.names?.map((n) => ` ${n.name}${n.fqdn ? '.' : ''}`) ?? a.addresses?.map((x) => ` ${x.address}`);
    if (a.tooShort) s += ' parse error (too short)';
    else if (list) {
      s += list.join(',');
      if (a.cut) s += `${list.length ? ',' : ''} parse error (truncated)`;
      if (a.addresses && a.flags & ni.FLAG_TRUNCATE) s += ' (truncated)';
    } else s += ` unknown qtype(0x${a.qtype.toString(16).padStart(2, '0')})`;
  } else if (a.code === ni.REFUSED) s += ' refused';
  else if (a.code === ni.UNKNOWN_QTYPE) s += ' unknown';
  // iputils byte-swaps the one-byte code here (ntohs): code 3 prints as 300
  else s += ` unknown code(${((a.code << 8) & 0xffff).toString(16).padStart(2, '0')})`;
  return `${s}; seq=${a.seq};`;
}

/** The text iputils prints after a reply for its IP options (pr_options), names looked up with `name`. */
export async function optionsText(items: OptionItem[], name: (a: string) => Promise<string>): Promise<string> {
  const list = async (addresses: string[]) => (await Promise.all(addresses.map((a) => (a === '0.0.0.0' ? a : name(a))))).map((a) => `\t${a}\n`).join('');
  let s = '';
  for (const it of items) {
    if (it.kind === 'nop') s += '\nNOP';
    else if (it.kind === 'rr') s += it.same ? '\t(same route)' : `\nRR: ${await list(it.addresses)}`;
    else if (it.kind === 'srr') s += `\n${it.strict ? 'S' : 'L'}SRR: ${await list(it.addresses)}`;
    else if (it.kind === 'ts') s += await stampsText(it, name);
    else s += `\nunknown option ${it.type.toString(16)}`;
  }
  return s;
}

/** A timestamp option: the first standard time absolute, the rest relative to the one before. */
async function stampsText(it: Extract<OptionItem, { kind: 'ts' }>, name: (a: string) => Promise<string>): Promise<string> {
  let s = '\nTS: ';
  let stdtime = 0;
  let nonstdtime = 0;
  for (const e of it.entries) {
    if (e.address !== undefined) s += `\t${e.address === '0.0.0.0' ? e.address : await name(e.address)}`;
    if (e.stamp === undefined) break;
    if (!e.standard) {
      s += nonstdtime === 0 ? `\t${e.stamp} absolute not-standard` : `\t${e.stamp - nonstdtime} not-standard`;
      nonstdtime = e.stamp;
    } else {
      s += stdtime === 0 ? `\t${e.stamp} absolute` : `\t${e.stamp - stdtime}`;
      stdtime = e.stamp;
    }
    s += '\n';
  }
  if (it.flags >> 4) s += `Unrecorded hops: ${it.flags >> 4}\n`;
  return s;
}

type Reply = Extract<PingEvent, { type: 'reply' }>;

/** What a reply line shows besides the event: names, the verbose ident, the options' text. */
export interface ReplyLook {
  stamp: string;
  from: string;
  options: string;
  ident?: number;
  /** many hosts answer a broadcast: iputils marks the repeats only with -v */
  showDup: boolean;
  audible: boolean;
}

/** "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms", and what iputils adds after it. */
export function replyText(e: Reply, l: ReplyLook): string {
  let s = `${l.stamp}${e.bytes} bytes from ${l.from}:${e.nodeInfo ? nodeInfoText(e.nodeInfo) : ` icmp_seq=${e.seq}`}`;
  if (l.ident !== undefined) s += ` ident=${l.ident}`;
  if (e.ttl !== undefined) s += ` ttl=${e.ttl}`;
  if (e.truncated) return s + ' (truncated)\n';
  if (e.rttUs !== undefined) s += ` time=${formatTime(e.rttUs)} ms`;
  if (e.dup && l.showDup) s += ' (DUP!)';
  if (!e.checksumOk) s += ' (BAD CHECKSUM!)';
  if (e.wrongSource) s += ' (DIFFERENT ADDRESS!)';
  if (e.mismatch) {
    const m = e.mismatch;
    s += `\nwrong data byte #${m.index} should be 0x${m.expected.toString(16)} but was 0x${m.actual.toString(16)}`;
    for (let i = 0; i < m.received.length; i++) {
      if (i % 32 === 0) s += `\n#${i + 16}\t`;
      s += `${m.received[i]!.toString(16)} `;
    }
  }
  if (l.audible) s += '\x07';
  return s + l.options + '\n';
}

/** An ICMP error's text (pr_icmph): "Time to live exceeded" ... */
export function icmpErrorText(family: 4 | 6, e: { icmpType: number; icmpCode: number; mtu: number }): string {
  return family === 4 ? describe4(e.icmpType, e.icmpCode, e.mtu) : describe6(e.icmpType, e.icmpCode, e.mtu);
}

/** A redirect or source quench (IPv4 only): its name, and a redirect's new next hop. */
export function icmpNoticeText(e: { icmpType: number; icmpCode: number; gateway?: string }): string {
  return describe4(e.icmpType, e.icmpCode, 0) + (e.icmpType === icmp4.REDIRECT ? `(New nexthop: ${e.gateway})` : '');
}

/** An IP_RECVERR entry the local stack queued: "local error: message too long, mtu=1400". */
export function localErrorText(family: 4 | 6, e: { code: string; errno: number; info: number }, strerror: (n: number) => string): string {
  return e.code === 'EMSGSIZE' ? `local error: message too long, mtu${family === 4 ? '=' : ': '}${e.info}` : `local error: ${strerror(e.errno)}`;
}

/** iputils' warning when a reply seems to come back before it was sent. */
export function clockBackText(us: number): string {
  return `sockit ${NAME}: Warning: time of day goes back (${us}us), taking countermeasures\n`;
}

/** What iputils says as it goes on. */
export function warningText(w: PingWarning): string {
  return w.kind === 'broadcast' ? 'WARNING: pinging broadcast address\n' : `sockit ${NAME}: WARNING: ident 0 => forcing raw socket\n`;
}

/** iputils' words for a setup it refuses (the line after "sockit ping: "). */
export function setupErrorText(p: PingSetupProblem, family: 4 | 6): string {
  const what = family === 4 ? 'broadcast' : 'multicast';
  switch (p.kind) {
    case 'interval':
      return `cannot flood; minimal interval allowed for user is ${p.minimumMs}ms`;
    case 'preload':
      return `cannot set preload to value greater than ${p.maximum}: ${p.preload}`;
    case 'source':
      return `invalid source address: ${p.text}`;
    case 'broadcast':
      return 'Do you want to ping broadcast? Then -b. If not, check your local firewall rules';
    case 'multicast-interval':
      return `${what} ping with too short interval: ${p.intervalMs}`;
    case 'multicast-fragment':
      return `${what} ping does not fragment`;
    case 'ip-options-family':
      return `${p.option}: IP options are IPv4's`;
    case 'ip-options-raw':
      return `${p.option}: IP options need a raw socket (a ping socket does not show the replies' IP header)`;
    case 'nodeinfo-family':
      return "-N: node information queries are IPv6's";
    case 'nodeinfo-raw':
      return '-N: node information queries need a raw socket (a ping socket sends only echo requests)';
    case 'system':
      return describeSystemError(p.error, systemWhat(p, family));
  }
}

/** What iputils names before strerror for each step of its setup. */
function systemWhat(p: Extract<PingSetupProblem, { kind: 'system' }>, family: 4 | 6): string {
  const dev = p.device ? `SO_BINDTODEVICE ${p.device}` : undefined;
  switch (p.step) {
    case 'route':
      return p.error.code === 'ENODEV' && dev ? dev : 'connect';
    case 'socket':
      return p.error.syscall === 'setsockopt' && dev ? dev : p.error.syscall === 'connect' ? 'connect failed' : p.error.syscall;
    case 'device':
      return dev ?? 'SO_BINDTODEVICE';
    case 'multicast-ttl':
      return family === 4 ? 'cannot set multicast time-to-live' : 'cannot set multicast hop limit';
    case 'unicast-ttl':
      return family === 4 ? 'cannot set unicast time-to-live' : 'cannot set unicast hop limit';
    case 'flowlabel':
      return "can't set flowlabel";
  }
}
