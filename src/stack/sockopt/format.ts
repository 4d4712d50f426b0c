// Option values as UNP's checkopts prints them (figure 7.4), as JSON data,
// and tcp_info for people.
import { strerror } from '../errors.js';
import * as structs from '../structs.js';
import type { IcmpTypeFilter, OptionValue, Reading, SockOpt } from '../sockopt.js';

function ranges(xs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    out.push(j > i ? `${xs[i]}-${xs[j]}` : String(xs[i]));
    i = j;
  }
  return out.join(',');
}

function formatFilter(v: IcmpTypeFilter, max: number): string {
  const n = v.blocked.length;
  if (n === 0) return 'pass all';
  if (n === max + 1) return 'block all';
  if (n <= (max + 1) / 2) return `block ${ranges(v.blocked)}`;
  const blocked = new Set(v.blocked);
  return `pass ${ranges(Array.from({ length: max + 1 }, (_, i) => i).filter((t) => !blocked.has(t)))}`;
}

function tcpState(n: number): string {
  return structs.TCP_STATES[n] || String(n);
}

/** The one-line form of tcp_info checkopts prints. */
function formatTcpInfoLine(v: structs.TcpInfo): string {
  return [
    `state = ${tcpState(v.state)}`,
    `ca_state = ${structs.TCP_CA_STATES[v.ca_state] ?? v.ca_state}`,
    `retransmits = ${v.retransmits}`,
    `rto = ${v.rto} usec`,
    `rtt = ${v.rtt} usec`,
    `rttvar = ${v.rttvar} usec`,
    `snd_mss = ${v.snd_mss}`,
    `rcv_mss = ${v.rcv_mss}`,
    `snd_cwnd = ${v.snd_cwnd}`,
    `total_retrans = ${v.total_retrans}`,
  ].join(', ');
}

/**
 * A value as UNP's checkopts prints it after "default = " (figure 7.4:
 * flags on/off, ints %d, "l_onoff = %d, l_linger = %d", "%d sec, %d usec"),
 * and in the same spirit for the types the book does not print.
 * `compact` gives the short cell form of `sockopt --table`.
 */
export function formatValue(o: SockOpt, v: OptionValue, compact = false): string {
  switch (o.type) {
    case 'flag':
      return v ? 'on' : 'off';
    case 'int':
      return String(v);
    case 'linger': {
      const l = v as structs.Linger;
      return compact ? `${l.onoff},${l.linger}` : `l_onoff = ${l.onoff}, l_linger = ${l.linger}`;
    }
    case 'timeval': {
      const t = v as structs.Timeval;
      return compact ? `${t.sec + t.usec / 1e6}s` : `${t.sec} sec, ${t.usec} usec`;
    }
    case 'in_addr':
    case 'sockaddr_in6':
      return v as string;
    case 'string':
      return (v as string) === '' ? '(none)' : (v as string);
    case 'bytes':
      return (v as Buffer).length ? `0x${(v as Buffer).toString('hex')}` : '(none)';
    case 'ucred': {
      const c = v as structs.Ucred;
      const id = (n: number) => (n === 0xffffffff ? '-1' : String(n)); // (uid_t)-1: no peer
      return compact ? `${c.pid}/${id(c.uid)}/${id(c.gid)}` : `pid = ${c.pid}, uid = ${c.uid}, gid = ${c.gid}`;
    }
    case 'ip_mreqn': {
      const m = v as structs.IpMreqn;
      return `multiaddr = ${m.multiaddr}, address = ${m.address}, ifindex = ${m.ifindex}`;
    }
    case 'ip_mreq_source': {
      const m = v as structs.IpMreqSource;
      return `multiaddr = ${m.multiaddr}, sourceaddr = ${m.sourceaddr}, address = ${m.address}`;
    }
    case 'ipv6_mreq': {
      const m = v as structs.Ipv6Mreq;
      return `multiaddr = ${m.multiaddr}, ifindex = ${m.ifindex}`;
    }
    case 'group_req':
    case 'group_source_req': {
      const g = v as structs.GroupReq;
      return `group = ${g.group}${g.source !== undefined ? `, source = ${g.source}` : ''}, ifindex = ${g.ifindex}`;
    }
    case 'icmp6_filter':
      return formatFilter(v as IcmpTypeFilter, 255);
    case 'icmp_filter':
      return formatFilter(v as IcmpTypeFilter, 31);
    case 'ip6_mtuinfo': {
      const m = v as structs.Ip6MtuInfo;
      // getsockopt(IPV6_PATHMTU) fills in only the MTU (ipv6(7))
      return compact ? String(m.mtu) : `mtu = ${m.mtu}`;
    }
    case 'tcp_info': {
      const t = v as structs.TcpInfo;
      return compact ? tcpState(t.state) : formatTcpInfoLine(t);
    }
  }
}

// tcp_info's units (include/uapi/linux/tcp.h): microseconds, milliseconds, bytes per second
const TCPI_USEC = new Set(['rto', 'ato', 'rtt', 'rttvar', 'rcv_rtt', 'min_rtt', 'busy_time', 'rwnd_limited', 'sndbuf_limited']);
const TCPI_MSEC = new Set(['last_data_sent', 'last_ack_sent', 'last_data_recv', 'last_ack_recv', 'total_rto_time']);
const TCPI_RATE = new Set(['pacing_rate', 'max_pacing_rate', 'delivery_rate']);

/** tcp_info in sockit(1)'s vocabulary: times as *_ms, rates as *_bytes_per_s, 64-bit counters as numbers while exact. */
function tcpInfoJson(v: structs.TcpInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v) as [string, number | bigint | undefined][]) {
    if (x === undefined) continue;
    const n = typeof x === 'bigint' ? (x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x;
    if (TCPI_USEC.has(k))
      out[`${k}_ms`] = k === 'min_rtt' && n === 0xffffffff ? null : Number(n) / 1e3; // ~0U: no sample yet
    else if (TCPI_MSEC.has(k)) out[`${k}_ms`] = n;
    else if (TCPI_RATE.has(k))
      out[`${k}_bytes_per_s`] = x === 0xffffffffffffffffn ? null : Number(n); // ~0ULL: no limit
    else out[k] = n;
  }
  return out;
}

/**
 * A value as JSON data in sockit(1)'s vocabulary: bytes as hex, a timeval as
 * its fields tv_sec and tv_usec, an empty string as null, tcp_info with units.
 */
export function jsonValue(o: SockOpt, v: OptionValue): unknown {
  switch (o.type) {
    case 'bytes':
      return (v as Buffer).toString('hex') || null;
    case 'timeval':
      return { tv_sec: (v as structs.Timeval).sec, tv_usec: (v as structs.Timeval).usec };
    case 'string':
      return (v as string) || null;
    case 'tcp_info':
      return tcpInfoJson(v as structs.TcpInfo);
    default:
      return v;
  }
}

/** tcp_info decoded for people, a few related fields per line (for a live socket). */
export function formatTcpInfo(v: structs.TcpInfo): string[] {
  const ms = (us: number) => `${(us / 1000).toFixed(3)} ms`;
  const opts =
    structs.TCPI_OPTIONS.filter(([bit]) => v.options & bit)
      .map(([, n]) => n)
      .join(',') || 'none';
  const lines = [
    `state ${tcpState(v.state)}, ca_state ${structs.TCP_CA_STATES[v.ca_state] ?? v.ca_state}, options ${opts}` +
      (v.options & 4 ? `, wscale ${v.snd_wscale},${v.rcv_wscale}` : ''),
    // min_rtt is ~0U until the first RTT sample
    `rtt ${ms(v.rtt)}, rttvar ${ms(v.rttvar)}` +
      (v.min_rtt !== undefined && v.min_rtt !== 0xffffffff ? `, min_rtt ${ms(v.min_rtt)}` : '') +
      `, rto ${ms(v.rto)}, ato ${ms(v.ato)}`,
    `snd_mss ${v.snd_mss}, rcv_mss ${v.rcv_mss}, advmss ${v.advmss}, pmtu ${v.pmtu}`,
    `snd_cwnd ${v.snd_cwnd}, snd_ssthresh ${v.snd_ssthresh}, rcv_ssthresh ${v.rcv_ssthresh}, rcv_space ${v.rcv_space}` +
      (v.snd_wnd !== undefined ? `, snd_wnd ${v.snd_wnd}` : '') +
      (v.rcv_wnd !== undefined ? `, rcv_wnd ${v.rcv_wnd}` : ''),
    `retransmits ${v.retransmits}, total_retrans ${v.total_retrans}, probes ${v.probes}, backoff ${v.backoff}` +
      `, unacked ${v.unacked}, lost ${v.lost}, sacked ${v.sacked}, reordering ${v.reordering}`,
    `last_data_sent ${v.last_data_sent} ms ago, last_data_recv ${v.last_data_recv} ms ago, last_ack_recv ${v.last_ack_recv} ms ago`,
  ];
  if (v.bytes_acked !== undefined) {
    lines.push(
      `bytes_sent ${v.bytes_sent ?? '?'}, bytes_acked ${v.bytes_acked}, bytes_received ${v.bytes_received}` +
        `, segs_out ${v.segs_out}, segs_in ${v.segs_in}` +
        (v.bytes_retrans !== undefined ? `, bytes_retrans ${v.bytes_retrans}` : ''),
    );
  }
  if (v.pacing_rate !== undefined) {
    lines.push(
      `pacing_rate ${v.pacing_rate} B/s` +
        (v.delivery_rate !== undefined ? `, delivery_rate ${v.delivery_rate} B/s` : '') +
        (v.notsent_bytes !== undefined ? `, notsent_bytes ${v.notsent_bytes}` : ''),
    );
  }
  return lines;
}

/**
 * What UNP's checkopts prints after "NAME: " for a reading: "(undefined)",
 * `${label}<value>` ("default = off"), or "getsockopt error: <strerror>".
 */
export function formatOption(r: Reading, label = 'default = '): string {
  if (r.undefined !== undefined) return '(undefined)';
  if (r.error) return `getsockopt error: ${strerror(r.error.errno)}`;
  return `${label}${formatValue(r.option, r.value)}`;
}
