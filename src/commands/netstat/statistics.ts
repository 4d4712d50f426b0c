// netstat -s: net-tools' statistics.c printer over the kernel's counters.
// Each known counter has its sentence; an unknown one prints as "Name: value"
// when it is not zero. net-tools finds a counter with bsearch(3) over tables
// that are not all in strcmp order, so some known counters (Forwarding,
// TCPTimeouts ...) print as unknown ones: the lookup below is the same
// binary search over the same order, so they do here too. The indent
// follows the last printed kind (a histogram's 8 spaces carry over into an
// unknown group such as IcmpMsg), as in net-tools.
import type { CounterGroup } from '../../stack/inventory/snmp.js';

// entry kinds (statistics.c's enum State): a number, a number shown when not
// zero, a static setting (never shown), ICMP input and output histograms
const N = 0,
  OPT = 1,
  STATIC = 2,
  IN = 3,
  OUT = 4;
type Kind = typeof N | typeof OPT | typeof STATIC | typeof IN | typeof OUT;
type Entry = readonly [name: string, text: string, kind: Kind];
const INDENT: Record<number, number> = { [N]: 4, [OPT]: 4, [IN]: 8, [OUT]: 8 };
const HISTOGRAM: Record<number, string> = { [IN]: 'ICMP input histogram:', [OUT]: 'ICMP output histogram:' };

const IP: Entry[] = [
  ['DefaultTTL', 'Default TTL is %u', STATIC],
  ['Forwarding', 'Forwarding is %u', STATIC],
  ['ForwDatagrams', '%u forwarded', N],
  ['FragCreates', '%u fragments created', OPT],
  ['FragFails', '%u outgoing packets failed fragmentation', OPT],
  ['FragOKs', '%u outgoing packets fragmented ok', OPT],
  ['InAddrErrors', '%u with invalid addresses', OPT],
  ['InDelivers', '%u incoming packets delivered', N],
  ['InDiscards', '%u incoming packets discarded', N],
  ['InHdrErrors', '%u with invalid headers', OPT],
  ['InReceives', '%u total packets received', N],
  ['InUnknownProtos', '%u with unknown protocol', OPT],
  ['OutDiscards', '%u outgoing packets dropped', OPT],
  ['OutNoRoutes', '%u dropped because of missing route', OPT],
  ['OutRequests', '%u requests sent out', N],
  ['ReasmFails', '%u packet reassemblies failed', OPT],
  ['ReasmOKs', '%u packets reassembled ok', OPT],
  ['ReasmReqds', '%u reassemblies required', OPT],
  ['ReasmTimeout', '%u fragments dropped after timeout', OPT],
];

const IP6: Entry[] = [
  ['Ip6FragCreates', '%u fragments created', OPT],
  ['Ip6FragFails', '%u outgoing packets failed fragmentation', OPT],
  ['Ip6FragOKs', '%u outgoing packets fragmented ok', OPT],
  ['Ip6InAddrErrors', '%u with invalid addresses', OPT],
  ['Ip6InDelivers', '%u incoming packets delivered', N],
  ['Ip6InDiscards', '%u incoming packets discarded', N],
  ['Ip6InHdrErrors', '%u with invalid headers', OPT],
  ['Ip6InMcastPkts', '%u incoming multicast packets', OPT],
  ['Ip6InNoRoutes', '%u incoming packets with no route', OPT],
  ['Ip6InReceives', '%u total packets received', N],
  ['Ip6InTooBigErrors', '%u with packets too big', OPT],
  ['Ip6InTruncatedPkts', '%u with truncated packets', OPT],
  ['Ip6InUnknownProtos', '%u with unknown protocol', OPT],
  ['Ip6OutDiscards', '%u outgoing packets dropped', OPT],
  ['Ip6OutForwDatagrams', '%u forwarded', N],
  ['Ip6OutMcastPkts', '%u outgoing multicast packets', OPT],
  ['Ip6OutNoRoutes', '%u dropped because of missing route', OPT],
  ['Ip6OutRequests', '%u requests sent out', N],
  ['Ip6ReasmFails', '%u packet reassemblies failed', OPT],
  ['Ip6ReasmOKs', '%u packets reassembled ok', OPT],
  ['Ip6ReasmReqds', '%u reassemblies required', OPT],
  ['Ip6ReasmTimeout', '%u fragments dropped after timeout', OPT],
];

const ICMP: Entry[] = [
  ['InAddrMaskReps', 'address mask replies: %u', IN],
  ['InAddrMasks', 'address mask request: %u', IN],
  ['InDestUnreachs', 'destination unreachable: %u', IN],
  ['InEchoReps', 'echo replies: %u', IN],
  ['InEchos', 'echo requests: %u', IN],
  ['InErrors', '%u input ICMP message failed', N],
  ['InMsgs', '%u ICMP messages received', N],
  ['InParmProbs', 'wrong parameters: %u', IN],
  ['InRedirects', 'redirects: %u', IN],
  ['InSrcQuenchs', 'source quenches: %u', IN],
  ['InTimeExcds', 'timeout in transit: %u', IN],
  ['InTimestampReps', 'timestamp reply: %u', IN],
  ['InTimestamps', 'timestamp request: %u', IN],
  ['OutAddrMaskReps', 'address mask replies: %u', OUT],
  ['OutAddrMasks', 'address mask requests: %u', OUT],
  ['OutDestUnreachs', 'destination unreachable: %u', OUT],
  ['OutEchoReps', 'echo replies: %u', OUT],
  ['OutEchos', 'echo requests: %u', OUT],
  ['OutErrors', '%u ICMP messages failed', N],
  ['OutMsgs', '%u ICMP messages sent', N],
  ['OutParmProbs', 'wrong parameters: %u', OUT],
  ['OutRedirects', 'redirect: %u', OUT],
  ['OutSrcQuenchs', 'source quench: %u', OUT],
  ['OutTimeExcds', 'time exceeded: %u', OUT],
  ['OutTimestampReps', 'timestamp replies: %u', OUT],
  ['OutTimestamps', 'timestamp requests: %u', OUT],
];

const ICMP6: Entry[] = [
  ['Icmp6InDestUnreachs', 'destination unreachable: %u', IN],
  ['Icmp6InEchoReplies', 'echo replies: %u', IN],
  ['Icmp6InEchos', 'echo requests: %u', IN],
  ['Icmp6InErrors', '%u input ICMP message failed', N],
  ['Icmp6InGroupMembQueries', 'group member queries: %u', IN],
  ['Icmp6InGroupMembReductions', 'group member reductions: %u', IN],
  ['Icmp6InGroupMembResponses', 'group member responses: %u', IN],
  ['Icmp6InMsgs', '%u ICMP messages received', N],
  ['Icmp6InNeighborAdvertisements', 'neighbour advertisement: %u', IN],
  ['Icmp6InNeighborSolicits', 'neighbour solicits: %u', IN],
  ['Icmp6InParmProblems', 'parameter problem: %u', IN],
  ['Icmp6InPktTooBigs', 'packets too big: %u', IN],
  ['Icmp6InRedirects', 'redirects: %u', IN],
  ['Icmp6InRouterAdvertisements', 'router advertisement: %u', IN],
  ['Icmp6InRouterSolicits', 'router solicits: %u', IN],
  ['Icmp6InTimeExcds', 'received ICMPv6 time exceeded: %u', IN],
  ['Icmp6OutDestUnreachs', 'destination unreachable: %u', OUT],
  ['Icmp6OutEchoReplies', 'echo replies: %u', OUT],
  ['Icmp6OutEchos', 'echo requests: %u', OUT],
  ['Icmp6OutGroupMembQueries', 'group member queries: %u', OUT],
  ['Icmp6OutGroupMembReductions', 'group member reductions: %u', OUT],
  ['Icmp6OutGroupMembResponses', 'group member responses: %u', OUT],
  ['Icmp6OutMsgs', '%u ICMP messages sent', N],
  ['Icmp6OutNeighborAdvertisements', 'neighbor advertisements: %u', OUT],
  ['Icmp6OutNeighborSolicits', 'neighbor solicits: %u', OUT],
  ['Icmp6OutParmProblems', 'parameter problem: %u', OUT],
  ['Icmp6OutPktTooBigs', 'packets too big: %u', OUT],
  ['Icmp6OutRedirects', 'redirects: %u', OUT],
  ['Icmp6OutRouterAdvertisements ', 'router advertisement: %u', OUT],
  ['Icmp6OutRouterSolicits', 'router solicits: %u', OUT],
  ['Icmp6OutTimeExcds', 'sent ICMPv6 time exceeded: %u', OUT],
];

const TCP: Entry[] = [
  ['ActiveOpens', '%u active connection openings', N],
  ['AttemptFails', '%u failed connection attempts', N],
  ['CurrEstab', '%u connections established', N],
  ['EstabResets', '%u connection resets received', N],
  ['InErrs', '%u bad segments received', N],
  ['InSegs', '%u segments received', N],
  ['MaxConn', '', N],
  ['OutRsts', '%u resets sent', N],
  ['OutSegs', '%u segments sent out', N],
  ['PassiveOpens', '%u passive connection openings', N],
  ['RetransSegs', '%u segments retransmitted', N],
  ['RtoAlgorithm', 'RTO algorithm is %u', STATIC],
  ['RtoMax', '', N],
  ['RtoMin', '', N],
];

const UDP: Entry[] = [
  ['InDatagrams', '%u packets received', N],
  ['InErrors', '%u packet receive errors', N],
  ['NoPorts', '%u packets to unknown port received', N],
  ['OutDatagrams', '%u packets sent', N],
  ['RcvbufErrors', '%u receive buffer errors', N],
  ['SndbufErrors', '%u send buffer errors', N],
];

const UDP6: Entry[] = [
  ['Udp6InDatagrams', '%u packets received', N],
  ['Udp6InErrors', '%u packet receive errors', N],
  ['Udp6NoPorts', '%u packets to unknown port received', N],
  ['Udp6OutDatagrams', '%u packets sent', N],
];

const TCP_EXT: Entry[] = [
  ['DelayedACKLocked', '%u delayed acks further delayed because of locked socket', OPT],
  ['DelayedACKLost', 'Quick ack mode was activated %u times', OPT],
  ['DelayedACKs', '%u delayed acks sent', OPT],
  ['EmbryonicRsts', '%u resets received for embryonic SYN_RECV sockets', OPT],
  ['ListenDrops', '%u SYNs to LISTEN sockets dropped', OPT],
  ['ListenOverflows', '%u times the listen queue of a socket overflowed', OPT],
  ['LockDroppedIcmps', '%u ICMP packets dropped because socket was locked', OPT],
  ['OfoPruned', '%u packets dropped from out-of-order queue because of socket buffer overrun', OPT],
  ['OutOfWindowIcmps', '%u ICMP packets dropped because they were out-of-window', OPT],
  ['PAWSActive', '%u active connections rejected because of time stamp', OPT],
  ['PAWSEstab', '%u packets rejected in established connections because of timestamp', OPT],
  ['PAWSPassive', '%u passive connections rejected because of time stamp', OPT],
  ['PruneCalled', '%u packets pruned from receive queue because of socket buffer overrun', OPT],
  ['RcvPruned', '%u packets pruned from receive queue', OPT],
  ['SockMallocOOM', 'Ran %u times out of system memory during packet sending', OPT],
  ['SyncookiesFailed', '%u invalid SYN cookies received', OPT],
  ['SyncookiesRecv', '%u SYN cookies received', OPT],
  ['SyncookiesSent', '%u SYN cookies sent', OPT],
  ['TCPAbortFailed', '%u times unable to send RST due to no memory', OPT],
  ['TCPAbortOnClose', '%u connections reset due to early user close', OPT],
  ['TCPAbortOnData', '%u connections reset due to unexpected data', OPT],
  ['TCPAbortOnLinger', '%u connections aborted after user close in linger timeout', OPT],
  ['TCPAbortOnMemory', '%u connections aborted due to memory pressure', OPT],
  ['TCPAbortOnSyn', '%u connections reset due to unexpected SYN', OPT],
  ['TCPAbortOnTimeout', '%u connections aborted due to timeout', OPT],
  ['TCPDirectCopyFromBacklog', '%u bytes directly in process context from backlog', OPT],
  ['TCPDirectCopyFromPrequeue', '%u bytes directly received in process context from prequeue', OPT],
  ['TCPDSACKOfoRecv', '%u DSACKs for out of order packets received', OPT],
  ['TCPDSACKOfoSent', '%u DSACKs sent for out of order packets', OPT],
  ['TCPDSACKOldSent', '%u DSACKs sent for old packets', OPT],
  ['TCPDSACKRecv', '%u DSACKs received', OPT],
  ['TCPDSackUndo', '%u congestion window recovered without slow start using DSACK', OPT],
  ['TCPDSACKUndo', '%u congestion windows recovered without slow start by DSACK', OPT],
  ['TCPFACKReorder', 'Detected reordering %u times using FACK', OPT],
  ['TCPFastRetrans', '%u fast retransmits', OPT],
  ['TCPForwardRetrans', '%u forward retransmits', OPT],
  ['TCPFullUndo', '%u congestion windows fully recovered without slow start', OPT],
  ['TCPHPAcks', '%u predicted acknowledgments', OPT],
  ['TCPHPHits', '%u packet headers predicted', N],
  ['TCPHPHitsToUser', '%u packet headers predicted and directly queued to user', OPT],
  ['TCPLossFailures', '%u timeouts in loss state', OPT],
  ['TCPLoss', '%u TCP data loss events', OPT],
  ['TCPLossUndo', '%u congestion windows recovered without slow start after partial ack', OPT],
  ['TCPLostRetransmits', '%u retransmits lost', OPT],
  ['TCPMemoryPressures', 'TCP ran low on memory %u times', OPT],
  ['TCPPartialUndo', '%u congestion windows partially recovered using Hoe heuristic', OPT],
  ['TCPPrequeued', '%u packets directly queued to recvmsg prequeue', OPT],
  ['TCPPrequeueDropped', '%u packets dropped from prequeue', OPT],
  ['TCPPureAcks', '%u acknowledgments not containing data payload received', OPT],
  ['TCPRcvCollapsed', '%u packets collapsed in receive queue due to low socket buffer', OPT],
  ['TCPRenoFailures', '%u timeouts after reno fast retransmit', OPT],
  ['TCPRenoRecoveryFailed', '%u reno fast retransmits failed', OPT],
  ['TCPRenoRecoveryFail', '%u classic Reno fast retransmits failed', OPT],
  ['TCPRenoRecovery', '%u times recovered from packet loss due to fast retransmit', OPT],
  ['TCPRenoReorder', 'Detected reordering %u times using reno fast retransmit', OPT],
  ['TCPSackFailures', '%u timeouts after SACK recovery', OPT],
  ['TCPSackRecoveryFail', '%u SACK retransmits failed', OPT],
  ['TCPSackRecovery', '%u times recovered from packet loss by selective acknowledgements', OPT],
  ['TCPSACKReneging', '%u bad SACK blocks received', OPT],
  ['TCPSACKReorder', 'Detected reordering %u times using SACK', OPT],
  ['TCPSchedulerFailed', '%u times receiver scheduled too late for direct processing', OPT],
  ['TCPSlowStartRetrans', '%u retransmits in slow start', OPT],
  ['TCPTimeouts', '%u other TCP timeouts', OPT],
  ['TCPTSReorder', 'Detected reordering %u times using time stamp', OPT],
  ['TWKilled', '%u TCP sockets finished time wait in slow timer', OPT],
  ['TW', '%u TCP sockets finished time wait in fast timer', OPT],
  ['TWRecycled', '%u time wait sockets recycled by time stamp', OPT],
];

const SCTP: Entry[] = [
  ['SctpAborteds', '%u Number of Aborteds ', N],
  ['SctpActiveEstabs', '%u Active Associations', N],
  ['SctpChecksumErrors', '%u Number of Packets with invalid Checksum', N],
  ['SctpCurrEstab', '%u Current Associations', N],
  ['SctpFragUsrMsgs', '%u Number of messages fragmented', N],
  ['SctpInCtrlChunks', '%u Number of control chunks received', N],
  ['SctpInOrderChunks', '%u Number of ordered chunks received', N],
  ['SctpInSCTPPacks', '%u Number of SCTP packets received', N],
  ['SctpInUnorderChunks', '%u Number of Unordered chunks received', N],
  ['SctpOutCtrlChunks', '%u Number of control chunks sent', N],
  ['SctpOutOfBlues', '%u Number of Out of Blue packets', N],
  ['SctpOutOrderChunks', '%u Number of ordered chunks sent', N],
  ['SctpOutSCTPPacks', '%u Number of SCTP packets sent', N],
  ['SctpOutUnorderChunks', '%u Number of Unordered chunks sent', N],
  ['SctpPassiveEstabs', '%u Passive Associations', N],
  ['SctpReasmUsrMsgs', '%u Number of messages reassembled ', N],
  ['SctpShutdowns', '%u Number of Graceful Terminations', N],
];
/** The counter tables and which of -w (raw), -t, -u, SCTP turn each on */
type Proto = 'raw' | 'tcp' | 'udp' | 'sctp';
const V4_TABLES: Record<string, [Entry[], Proto]> = {
  Ip: [IP, 'raw'],
  Icmp: [ICMP, 'raw'],
  Tcp: [TCP, 'tcp'],
  Udp: [UDP, 'udp'],
  Sctp: [SCTP, 'sctp'],
  TcpExt: [TCP_EXT, 'tcp'],
};
const V6_TABLES: Record<string, [Entry[], Proto]> = { Ip6: [IP6, 'raw'], Icmp6: [ICMP6, 'raw'], Udp6: [UDP6, 'udp'], Tcp6: [TCP, 'tcp'] };

/** whether -t/-u/-w (`on`) keep a group: one netstat knows by its protocol, an unknown one always */
export function groupShown(group: string, v6: boolean, on: Record<Proto, boolean>): boolean {
  const tables = v6 ? V6_TABLES : V4_TABLES;
  return !Object.hasOwn(tables, group) || on[tables[group]![1]];
}

/** bsearch(3) as glibc does it: halve [l, u) by strcmp; the table's order is taken as it is */
function lookup(table: Entry[], name: string): Entry | undefined {
  let l = 0,
    u = table.length;
  while (l < u) {
    const i = (l + u) >> 1;
    const c = strcmp(name, table[i]![0]);
    if (c < 0) u = i;
    else if (c > 0) l = i + 1;
    else return table[i];
  }
  return undefined;
}

function strcmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** strtoull(3): digits after optional blanks and sign; a minus wraps modulo 2^64 */
export function strtoull(text: string): bigint {
  const m = /^\s*([+-]?)(\d+)/.exec(text);
  if (!m) return 0n;
  const v = BigInt(m[2]!);
  const max = (1n << 64n) - 1n;
  if (v > max) return max;
  return m[1] === '-' && v !== 0n ? (1n << 64n) - v : v;
}

/** The printer's state between lines, files and groups, as statistics.c keeps it. */
export class StatisticsText {
  private state: number = N;
  private out = '';

  constructor(private readonly on: Record<Proto, boolean>) {}

  private line(indent: number, s: string): void {
    this.out += `${' '.repeat(indent)}${s}\n`;
  }

  /** newtable: a known group prints its title when its protocol is on; an unknown one always */
  private table(tables: Record<string, [Entry[], Proto]>, group: string): { entries: Entry[] | null; on: boolean } {
    const known = Object.hasOwn(tables, group) ? tables[group] : undefined;
    if (known) {
      const on = this.on[known[1]];
      if (on) this.line(0, `${group}:`);
      this.state = N;
      return { entries: known[0], on };
    }
    this.line(0, `${group}:`);
    return { entries: null, on: true };
  }

  private value(entries: Entry[] | null, name: string, v: bigint): void {
    const e = entries ? lookup(entries, name) : undefined;
    if (!e) {
      if (v) this.line(INDENT[this.state] ?? 0, `${name}: ${v}`);
      return;
    }
    const [, text, kind] = e;
    if (kind === STATIC || text === '') return;
    if ((kind === IN || kind === OUT) && this.state !== kind) this.line(INDENT[this.state] ?? 0, HISTOGRAM[kind]!);
    if (kind === N || v) this.line(INDENT[kind]!, text.replace('%u', String(v)));
    this.state = kind;
  }

  /** /proc/net/snmp and netstat (and sctp/snmp): `only` keeps the groups whose title starts so */
  v4(groups: CounterGroup[], only?: string): this {
    for (const g of groups) {
      if (only !== undefined && !g.group.startsWith(only)) continue;
      const t = this.table(V4_TABLES, g.group);
      if (t.on) for (const c of g.counters) this.value(t.entries, c.name, strtoull(c.text));
    }
    return this;
  }

  /** /proc/net/snmp6 */
  v6(groups: CounterGroup[]): this {
    for (const g of groups) {
      const t = this.table(V6_TABLES, g.group);
      if (t.on) for (const c of g.counters) this.value(t.entries, c.name, strtoull(c.text));
    }
    return this;
  }

  text(): string {
    return this.out;
  }
}
