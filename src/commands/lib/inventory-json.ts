// The `socket` record of sockit(1) JSON OUTPUT for an inventory entry, shared
// by ss and netstat: every field their text shows, tcp_info decoded with the
// units in the key names (kernel microseconds as *_ms).
import type { JsonRecord } from '../../output/index.js';
import { NETLINK_CONNECTED } from '../../stack/abi/packet_diag.js';
import type { InetSocket, NetlinkDiagMsg, Owner, PacketDiagMsg, SocketEntry } from '../../stack/inventory/index.js';
import { TCPI_OPTIONS, TCP_CA_STATES, type TcpInfo } from '../../stack/structs.js';

export interface RecordContext {
  netid: string;
  state: string;
  owners?: Owner[];
  ifname(index: number): string | undefined;
}

const TIMERS = ['off', 'on', 'keepalive', 'timewait', 'persist'];
const us = (v: number | undefined) => (v === undefined ? undefined : v / 1000);

/** tcp_info with units: microseconds become *_ms, kernel ms stay *_ms, rates *_bytes_per_s. */
export function tcpInfoRecord(i: TcpInfo): Record<string, unknown> {
  const n = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));
  return {
    state: i.state,
    ca_state: TCP_CA_STATES[i.ca_state] ?? i.ca_state,
    retransmits: i.retransmits,
    probes: i.probes,
    backoff: i.backoff,
    options: TCPI_OPTIONS.filter(([bit]) => i.options & bit).map(([, name]) => name),
    snd_wscale: i.snd_wscale,
    rcv_wscale: i.rcv_wscale,
    rto_ms: us(i.rto),
    ato_ms: us(i.ato),
    snd_mss_bytes: i.snd_mss,
    rcv_mss_bytes: i.rcv_mss,
    unacked: i.unacked,
    sacked: i.sacked,
    lost: i.lost,
    retrans: i.retrans,
    fackets: i.fackets,
    last_data_sent_ms: i.last_data_sent,
    last_ack_sent_ms: i.last_ack_sent,
    last_data_recv_ms: i.last_data_recv,
    last_ack_recv_ms: i.last_ack_recv,
    pmtu_bytes: i.pmtu,
    rcv_ssthresh: i.rcv_ssthresh,
    rtt_ms: us(i.rtt),
    rttvar_ms: us(i.rttvar),
    snd_ssthresh: i.snd_ssthresh,
    snd_cwnd: i.snd_cwnd,
    advmss_bytes: i.advmss,
    reordering: i.reordering,
    rcv_rtt_ms: us(i.rcv_rtt),
    rcv_space_bytes: i.rcv_space,
    total_retrans: i.total_retrans,
    pacing_rate_bytes_per_s: n(i.pacing_rate),
    max_pacing_rate_bytes_per_s: n(i.max_pacing_rate),
    bytes_acked: n(i.bytes_acked),
    bytes_received: n(i.bytes_received),
    segs_out: i.segs_out,
    segs_in: i.segs_in,
    notsent_bytes: i.notsent_bytes,
    min_rtt_ms: us(i.min_rtt),
    data_segs_in: i.data_segs_in,
    data_segs_out: i.data_segs_out,
    delivery_rate_bytes_per_s: n(i.delivery_rate),
    busy_time_ms: us(n(i.busy_time)),
    rwnd_limited_ms: us(n(i.rwnd_limited)),
    sndbuf_limited_ms: us(n(i.sndbuf_limited)),
    delivered: i.delivered,
    delivered_ce: i.delivered_ce,
    bytes_sent: n(i.bytes_sent),
    bytes_retrans: n(i.bytes_retrans),
    dsack_dups: i.dsack_dups,
    reord_seen: i.reord_seen,
    rcv_ooopack: i.rcv_ooopack,
    snd_wnd_bytes: i.snd_wnd,
    rcv_wnd_bytes: i.rcv_wnd,
  };
}

function end(s: InetSocket, local: boolean) {
  return { family: s.family === 2 ? 4 : 6, address: local ? s.src : s.dst, port: local ? s.sport : s.dport };
}

/** A socket's owners as the record's `users` (ss's users:(("comm",pid=,fd=))). */
function usersRecord(owners: Owner[]) {
  return owners.map((o) => ({ comm: o.comm, pid: o.pid, fd: o.fd }));
}

/** One socket as its JSON record. */
export function socketRecord(s: SocketEntry, c: RecordContext): JsonRecord {
  const r: JsonRecord = { type: 'socket', netid: c.netid, state: c.state };
  if (s.table === 'unix') {
    Object.assign(r, {
      recv_q: s.rqueue ?? 0,
      send_q: s.wqueue ?? 0,
      local: { family: 'unix', path: s.name ?? null },
      peer: { family: 'unix', inode: s.peer ?? null },
      inode: s.inode,
    });
    if (s.refcnt !== undefined) r.refcnt = s.refcnt;
  } else {
    Object.assign(r, { recv_q: s.rqueue, send_q: s.wqueue, local: end(s, true), peer: end(s, false), inode: s.inode, uid: s.uid, cookie: s.cookie });
    if (s.ifindex) r.interface = c.ifname(s.ifindex) ?? s.ifindex;
    if (s.v6only !== undefined) r.v6only = s.v6only === 1;
    if (s.mark) r.fwmark = s.mark;
    if (s.timer) r.timer = { name: TIMERS[s.timer] ?? 'unknown', expires_ms: s.expires, retrans: s.retrans };
    if (s.shutdown !== undefined) r.shutdown = { read: (s.shutdown & 1) === 1, write: (s.shutdown & 2) === 2 };
    if (s.cong) r.congestion = s.cong;
    if (s.info) r.tcp_info = tcpInfoRecord(s.info);
  }
  if (s.skmeminfo) r.skmem = Object.fromEntries(Object.entries(s.skmeminfo).map(([k, v]) => [k === 'drops' ? k : `${k}_bytes`, v]));
  if (c.owners?.length) r.users = usersRecord(c.owners);
  return r;
}

/** The socket record of a packet or netlink socket (sockit(1) JSON OUTPUT). */
export function linkRecord(s: PacketDiagMsg | NetlinkDiagMsg, ifname: (index: number) => string | undefined, owners?: Owner[]): JsonRecord {
  const mem = s.skmeminfo;
  if (s.table === 'packet') {
    const index = s.info?.index ?? s.proc?.ifindex ?? 0;
    return {
      type: 'socket',
      netid: s.type === 3 ? 'p_raw' : 'p_dgr',
      state: 'UNCONN',
      recv_q: s.proc ? s.proc.rmem : (mem?.rmem_alloc ?? 0),
      send_q: 0,
      local: { protocol: s.protocol, interface: index ? (ifname(index) ?? null) : null },
      inode: s.inode,
      uid: s.uid ?? null,
      version: s.info?.version ?? null,
      flags: s.info?.flags ?? null,
      fanout: s.fanout === undefined ? null : { id: s.fanout & 0xffff, type: (s.fanout >>> 16) & 0xffff },
      bpf_instructions: s.filter?.length ?? null,
      users: owners?.length ? usersRecord(owners) : null,
    };
  }
  return {
    type: 'socket',
    netid: 'nl',
    state: 'UNCONN',
    recv_q: s.proc ? s.proc.rmem : (mem?.rmem_alloc ?? 0),
    send_q: s.proc ? s.proc.wmem : (mem?.wmem_alloc ?? 0),
    local: { protocol: s.protocol, portid: s.portid | 0 },
    peer: s.state === NETLINK_CONNECTED ? { dst_group: s.dstGroup, portid: s.dstPortid | 0 } : null,
    groups: s.groups ?? 0,
    inode: s.inode,
  };
}
