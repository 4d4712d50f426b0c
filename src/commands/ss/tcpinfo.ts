// ss -i: the tcp_info tokens in ss's order with ss's units (misc/ss.c
// tcp_show_info and tcp_stats_print): times in ms printed with C's %g,
// rates in bits/s through sprint_bw, counters only when non-zero.
import type { InetSocket } from '../../stack/inventory/index.js';
import { TCPI_OPTIONS } from '../../stack/structs.js';

/** C printf's %g (precision 6): shortest of %e and %f, trailing zeros dropped. */
export function g(x: number, prec = 6): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  const [mant, ex] = x.toExponential(prec - 1).split('e');
  const exp = Number(ex);
  const trim = (t: string) => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (exp < -4 || exp >= prec) return `${trim(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(x.toFixed(prec - 1 - exp));
}

/** sprint_bw: bits per second with T/G/M/k and %.3g, or %.0f with -n */
export function bw(v: number, numeric: boolean): string {
  if (numeric) return v.toFixed(0);
  if (v >= 1e12) return `${g(v / 1e12, 3)}T`;
  if (v >= 1e9) return `${g(v / 1e9, 3)}G`;
  if (v >= 1e6) return `${g(v / 1e6, 3)}M`;
  if (v >= 1e3) return `${g(v / 1e3, 3)}k`;
  return g(v);
}

const has = (options: number, name: string) => (options & (TCPI_OPTIONS.find(([, n]) => n === name)?.[0] ?? 0)) !== 0;
const U64_MAX = 2 ** 64;

/** The -i tokens of one TCP socket (with the leading space of each), '' without INET_DIAG_INFO. */
export function tcpInfoText(s: InetSocket, numeric: boolean, timers: boolean): string {
  const i = s.info;
  if (!i) return '';
  let o = '';
  if (timers) {
    if (has(i.options, 'timestamps')) o += ' ts';
    if (has(i.options, 'sack')) o += ' sack';
    if (has(i.options, 'ecn')) o += ' ecn';
    if (has(i.options, 'ecn_seen')) o += ' ecnseen';
    if (has(i.options, 'syn_data')) o += ' fastopen';
  }
  if (s.cong) o += ` ${s.cong}`;
  if (has(i.options, 'wscale')) o += ` wscale:${i.snd_wscale},${i.rcv_wscale}`;
  if (i.rto && i.rto !== 3000000) o += ` rto:${g(i.rto / 1000)}`;
  if (i.backoff) o += ` backoff:${i.backoff}`;
  if (i.rtt) o += ` rtt:${g(i.rtt / 1000)}/${g(i.rttvar / 1000)}`;
  if (i.ato) o += ` ato:${g(i.ato / 1000)}`;
  if (i.snd_mss) o += ` mss:${i.snd_mss}`;
  if (i.pmtu) o += ` pmtu:${i.pmtu}`;
  if (i.rcv_mss) o += ` rcvmss:${i.rcv_mss}`;
  if (i.advmss) o += ` advmss:${i.advmss}`;
  if (i.snd_cwnd) o += ` cwnd:${i.snd_cwnd}`;
  if (i.snd_ssthresh < 0xffff && i.snd_ssthresh) o += ` ssthresh:${i.snd_ssthresh}`;
  const n = (v: bigint | number | undefined) => Number(v ?? 0);
  const counters: [string, bigint | number | undefined][] = [
    ['bytes_sent', i.bytes_sent],
    ['bytes_retrans', i.bytes_retrans],
    ['bytes_acked', i.bytes_acked],
    ['bytes_received', i.bytes_received],
    ['segs_out', i.segs_out],
    ['segs_in', i.segs_in],
    ['data_segs_out', i.data_segs_out],
    ['data_segs_in', i.data_segs_in],
  ];
  for (const [k, v] of counters) if (n(v)) o += ` ${k}:${String(v)}`;
  if (s.dctcp?.enabled) o += ` dctcp:(ce_state:${s.dctcp.ce_state},alpha:${s.dctcp.alpha},ab_ecn:${s.dctcp.ab_ecn},ab_tot:${s.dctcp.ab_tot})`;
  else if (s.dctcp) o += ' dctcp:fallback_mode';
  if (s.bbr) {
    o += ` bbr:(bw:${bw(s.bbr.bw * 8, numeric)}bps,mrtt:${g(s.bbr.min_rtt / 1000)}`;
    if (s.bbr.pacing_gain) o += `,pacing_gain:${g(s.bbr.pacing_gain / 256)}`;
    if (s.bbr.cwnd_gain) o += `,cwnd_gain:${g(s.bbr.cwnd_gain / 256)}`;
    o += ')';
  }
  let rtt = i.rtt;
  if (s.vegas?.enabled && s.vegas.rtt && s.vegas.rtt !== 0x7fffffff) rtt = s.vegas.rtt;
  if (rtt > 0 && i.snd_mss && i.snd_cwnd) o += ` send ${bw((i.snd_cwnd * i.snd_mss * 8000000) / rtt, numeric)}bps`;
  if (i.last_data_sent) o += ` lastsnd:${i.last_data_sent}`;
  if (i.last_data_recv) o += ` lastrcv:${i.last_data_recv}`;
  if (i.last_ack_recv) o += ` lastack:${i.last_ack_recv}`;
  const pacing = n(i.pacing_rate),
    maxPacing = n(i.max_pacing_rate);
  if (pacing && pacing < U64_MAX) {
    o += ` pacing_rate ${bw(pacing * 8, numeric)}bps`;
    if (maxPacing && maxPacing < U64_MAX) o += `/${bw(maxPacing * 8, numeric)}bps`;
  }
  if (n(i.delivery_rate)) o += ` delivery_rate ${bw(n(i.delivery_rate) * 8, numeric)}bps`;
  if (i.delivered) o += ` delivered:${i.delivered}`;
  if (i.delivered_ce) o += ` delivered_ce:${i.delivered_ce}`;
  if (i.delivery_rate_app_limited) o += ' app_limited';
  const busy = n(i.busy_time);
  if (busy) {
    o += ` busy:${Math.floor(busy / 1000)}ms`;
    const rw = n(i.rwnd_limited),
      sb = n(i.sndbuf_limited);
    if (rw) o += ` rwnd_limited:${Math.floor(rw / 1000)}ms(${((100 * rw) / busy).toFixed(1)}%)`;
    if (sb) o += ` sndbuf_limited:${Math.floor(sb / 1000)}ms(${((100 * sb) / busy).toFixed(1)}%)`;
  }
  if (i.unacked) o += ` unacked:${i.unacked}`;
  if (i.retrans || i.total_retrans) o += ` retrans:${i.retrans}/${i.total_retrans}`;
  if (i.lost) o += ` lost:${i.lost}`;
  if (i.sacked && s.state !== 10) o += ` sacked:${i.sacked}`;
  if (i.dsack_dups) o += ` dsack_dups:${i.dsack_dups}`;
  if (i.fackets) o += ` fackets:${i.fackets}`;
  if (i.reordering !== 3) o += ` reordering:${i.reordering}`;
  if (i.reord_seen) o += ` reord_seen:${i.reord_seen}`;
  if (i.rcv_rtt) o += ` rcv_rtt:${g(i.rcv_rtt / 1000)}`;
  if (i.rcv_space) o += ` rcv_space:${i.rcv_space}`;
  if (i.rcv_ssthresh) o += ` rcv_ssthresh:${i.rcv_ssthresh}`;
  if (i.notsent_bytes) o += ` notsent:${i.notsent_bytes}`;
  if (i.min_rtt && i.min_rtt !== 0xffffffff) o += ` minrtt:${g(i.min_rtt / 1000)}`;
  if (i.rcv_ooopack) o += ` rcv_ooopack:${i.rcv_ooopack}`;
  if (i.snd_wnd) o += ` snd_wnd:${i.snd_wnd}`;
  return o;
}
