// iputils ping's setup (ping.c main, ping4_run/ping6_run, ping_common.c
// setup), as a library: the limits for unprivileged users, -I as an address
// or a device, the source address (the kernel's choice, with the broadcast
// retry), the multicast rules, a ping socket or a raw one, the receive
// buffer and the -F flow-label lease. Plain options in, a ready method and
// the session's options out; what iputils refuses comes out as a typed
// PingSetupError the caller words (the command as iputils does).
import * as C from '../constants.js';
import { PermissionError, type SystemError, UsageError, isSystemError } from '../errors.js';
import { isMulticast, parseIPv4, parseIPv6 } from '../packet/addr.js';
import { type TimestampType, MAX_IPOPTLEN, recordRouteOption, timestampOption } from '../packet/ipoptions.js';
import type { IcmpProbe, NodeInfoQuery, PmtuMode } from '../probe/icmp.js';
import type { ProbeMethod } from '../probe/index.js';
import { probeMethod } from '../probe/registry.js';
import { sourceAddressFor } from '../route.js';
import { MINUSERINTERVAL, PingSession, type PingEvent, type PingOptions } from './session.js';

/** iputils: an unprivileged user preloads at most 3 probes */
export const MAX_USER_PRELOAD = 3;
/** iputils: an unprivileged user pings broadcast or multicast at most once a second */
export const MIN_USER_MULTICAST_INTERVAL = 1000;
/** iputils sock_setbufs: the receive buffer is at least 64 KiB */
export const MIN_RCVBUF = 65536;

/** What a ping run asks for, in iputils' terms: its options, parsed. */
export interface PingSetupOptions {
  /** the destination, a numeric address (resolve names first) */
  address: string;
  family: 4 | 6;
  /** iputils' uid test: root has no interval or preload limits (default: getuid() is 0) */
  privileged?: boolean;
  /** -i, ms between probes (default 1000; 0 with flood) */
  intervalMs?: number;
  /** -f */
  flood?: boolean;
  /** -l: probes sent before waiting for replies (default 1) */
  preload?: number;
  /** -s: ICMP data bytes (default 56) */
  dataLen?: number;
  /** -I: a source address (IPv6 may carry %device) or a device name */
  iface?: string;
  /** -B: bind the source address the kernel picks now */
  sticky?: boolean;
  /** -b: allow a broadcast destination (SO_BROADCAST) */
  broadcast?: boolean;
  /** --mode: only a ping socket, or only a raw one */
  mode?: 'dgram' | 'raw';
  /** -e: the echo identifier (0 forces a raw socket) */
  ident?: number;
  /** -t, -Q, -M, -S, -m, -d, -r */
  ttl?: number;
  tos?: number;
  pmtu?: PmtuMode;
  sndbuf?: number;
  mark?: number;
  debug?: boolean;
  dontroute?: boolean;
  /** -L: multicast we send is not looped back */
  noLoop?: boolean;
  /** -U: no kernel receive stamps; replies are timed when read */
  userLatency?: boolean;
  /** -C: connect(2) the socket to the destination */
  connect?: boolean;
  /** -R: record route (IPv4, raw socket) */
  recordRoute?: boolean;
  /** -T: timestamps (IPv4, raw socket) */
  timestamp?: TimestampType;
  /** -T tsprespec: the hops asked to stamp, as numeric IPv4 addresses */
  prespec?: string[];
  /** -N: a node information query (IPv6, raw socket), or how to build it once the checks passed */
  nodeInfo?: NodeInfoQuery | (() => Promise<NodeInfoQuery>);
  /** -F: IPv6 flow label to lease and send with */
  flowLabel?: number;
  /** what the session does; see PingOptions */
  count?: number;
  deadlineS?: number;
  lingerMs?: number;
  pattern?: Buffer;
  adaptive?: boolean;
  outstanding?: boolean;
  quiet?: boolean;
  /** warnings as iputils prints them while setting up */
  onWarning?: (w: PingWarning) => void;
}

/** What iputils warns about on the way (and goes on). */
export type PingWarning =
  /** -b and the destination is a broadcast address */
  | { kind: 'broadcast' }
  /** -e 0: a ping socket cannot have identifier 0, so a raw socket */
  | { kind: 'ident-zero' };

/** The step of the setup a system error came from, for the caller's wording. */
export type PingSetupStep =
  /** SO_BINDTODEVICE for -I device */
  | 'device'
  /** connect(2) of the probe that finds the source address */
  | 'route'
  /** opening and configuring the ICMP socket */
  | 'socket'
  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS for -t */
  | 'multicast-ttl'
  /** IP_TTL / IPV6_UNICAST_HOPS for -t */
  | 'unicast-ttl'
  /** IPV6_FLOWLABEL_MGR for -F */
  | 'flowlabel';

/** Why iputils would refuse to start. */
export type PingSetupProblem =
  | { kind: 'interval'; intervalMs: number; minimumMs: number }
  | { kind: 'preload'; preload: number; maximum: number }
  | { kind: 'source'; text: string }
  /** the destination is a broadcast address and -b was not given */
  | { kind: 'broadcast' }
  | { kind: 'multicast-interval'; family: 4 | 6; intervalMs: number }
  | { kind: 'multicast-fragment'; family: 4 | 6 }
  | { kind: 'ip-options-family'; option: '-R' | '-T' }
  | { kind: 'ip-options-raw'; option: '-R' | '-T' }
  | { kind: 'nodeinfo-family' }
  | { kind: 'nodeinfo-raw' }
  | { kind: 'system'; step: PingSetupStep; error: SystemError; device?: string };

/** A setup iputils would refuse: the problem, for the caller to word; exit status 2. */
export class PingSetupError extends UsageError {
  constructor(readonly problem: PingSetupProblem) {
    super(problem.kind === 'system' ? `${problem.step}: ${problem.error.message}` : `ping setup refused (${problem.kind}): ${JSON.stringify(problem)}`);
  }
}

/** A ready ping: the probe method (socket open and configured) and what the session needs. */
export interface PingSetup {
  method: IcmpProbe;
  /** the source address: -I's, or the one the kernel picked */
  source?: string;
  /** -I's device */
  device?: string;
  /** the source is bound (-I address or -B): iputils then names it in its header */
  boundSource: boolean;
  /** a broadcast or multicast destination */
  multicast: boolean;
  /** the IP option the probes carry, if any */
  ipOption?: '-R' | '-T';
  /** its bytes (IP_OPTIONS), for --pcap's rebuilt requests */
  ipOptions?: Buffer;
  /** the options to give PingSession */
  session: PingOptions;
}

/**
 * iputils' setup for one destination: checks the options as iputils does,
 * opens and configures the socket (ping socket, else raw; raw for -e 0,
 * -R, -T, -N), leases the flow label. Throws PingSetupError (iputils'
 * refusals and the system errors of each step), or IcmpPermissionError
 * when no ICMP socket may be opened (its fix says what to change).
 */
export async function setupPing(o: PingSetupOptions): Promise<PingSetup> {
  const privileged = o.privileged ?? process.getuid?.() === 0;
  const preload = o.preload ?? 1;
  const dataLen = o.dataLen ?? 56;
  const intervalMs = o.intervalMs ?? (o.flood ? 0 : 1000);
  checkUserLimits(privileged, intervalMs, preload);
  const { source: given, device } = interfaceOf(o.iface);
  const source = given ?? findSource(o, device);
  const multicast = !!o.broadcast || isMulticast(o.address);
  const pmtu = multicastRules(o, multicast, privileged, intervalMs);
  const { mode, ipOption } = socketMode(o);
  const nodeInfo = typeof o.nodeInfo === 'function' ? await o.nodeInfo() : o.nodeInfo;
  const ipOptions = o.recordRoute ? recordRouteOption() : o.timestamp ? timestampOption(o.timestamp, o.prespec) : undefined;
  const boundSource = given !== undefined || !!o.sticky;
  // the icmp method of the probe registry, with ping's own socket settings
  const method = step(
    'socket',
    device,
    () =>
      probeMethod('icmp')!.open({
        target: o.address,
        family: o.family,
        source: boundSource ? source : undefined,
        device,
        tos: o.tos,
        pmtu,
        mark: o.mark,
        packetLen: -1,
        icmp: {
          mode,
          ident: o.ident,
          sndbuf: o.sndbuf,
          debug: o.debug,
          dontroute: o.dontroute,
          broadcast: o.broadcast,
          multicastLoop: o.noLoop ? false : undefined,
          timestamps: !o.userLatency,
          connect: o.connect,
          ipOptions,
          nodeInfo,
          rcvbuf: receiveBuffer(dataLen, ipOptions ? MAX_IPOPTLEN : 0, preload),
        },
      }).method as IcmpProbe,
  );
  try {
    configureMethod(method, o, device);
  } catch (e) {
    method.close();
    throw e;
  }
  const session: PingOptions = {
    count: o.count ?? 0,
    intervalMs,
    flood: !!o.flood,
    preload,
    deadlineS: o.deadlineS ?? 0,
    lingerMs: o.lingerMs ?? 10_000,
    // a node information query carries no data of ours: nothing to time or check (iputils)
    dataLen: nodeInfo ? 0 : dataLen,
    pattern: o.pattern,
    adaptive: !!o.adaptive,
    outstanding: !!o.outstanding,
    privileged,
    quiet: !!o.quiet,
    multicast,
  };
  return { method, source, device, boundSource, multicast, ipOption, ipOptions, session };
}

/**
 * A session on a ready setup (the clock and timers default to the
 * system's); `method` stands for setup.method when given (one around it,
 * such as --pcap's recorder).
 */
export function createSession(
  setup: PingSetup,
  onEvent: (e: PingEvent) => void,
  extra: Partial<PingOptions> = {},
  method: ProbeMethod = setup.method,
): PingSession {
  return new PingSession(method, { ...setup.session, ...extra }, onEvent);
}

/** iputils: users wait at least 2 ms between probes and preload at most 3. */
function checkUserLimits(privileged: boolean, intervalMs: number, preload: number): void {
  if (privileged) return;
  if (intervalMs < MINUSERINTERVAL) throw new PingSetupError({ kind: 'interval', intervalMs, minimumMs: MINUSERINTERVAL });
  if (preload > MAX_USER_PRELOAD) throw new PingSetupError({ kind: 'preload', preload, maximum: MAX_USER_PRELOAD });
}

/** -I: an IPv4 address, an IPv6 address (with %device), or else a device name. */
export function interfaceOf(iface: string | undefined): { source?: string; device?: string } {
  if (iface === undefined) return {};
  if (iface.includes(':')) {
    const [addr, dev] = iface.split('%');
    if (!parseIPv6(addr!)) throw new PingSetupError({ kind: 'source', text: iface });
    return { source: addr, device: dev };
  }
  return parseIPv4(iface) ? { source: iface } : { device: iface };
}

/**
 * The source the kernel would pick (iputils' probe connect; toward the first
 * -T tsprespec hop when there is one). A broadcast destination refuses the
 * connect with EACCES until SO_BROADCAST: -b retries with it, else refused.
 */
function findSource(o: PingSetupOptions, device: string | undefined): string {
  const toward = o.prespec?.[0] ?? o.address;
  const probe = (broadcast: boolean) => sourceAddressFor(toward, { device, tos: o.tos, mark: o.mark, broadcast });
  return step('route', device, () => {
    try {
      return probe(false);
    } catch (e) {
      if (!(isSystemError(e) && e.code === 'EACCES' && o.family === 4)) throw e;
      if (!o.broadcast) throw new PingSetupError({ kind: 'broadcast' });
      o.onWarning?.({ kind: 'broadcast' });
      return probe(true);
    }
  });
}

/** Broadcast and multicast (iputils): users wait a second between probes, nothing is fragmented. */
function multicastRules(o: PingSetupOptions, multicast: boolean, privileged: boolean, intervalMs: number): PmtuMode | undefined {
  if (!multicast) return o.pmtu;
  if (!privileged && intervalMs < MIN_USER_MULTICAST_INTERVAL) throw new PingSetupError({ kind: 'multicast-interval', family: o.family, intervalMs });
  if (!privileged && o.pmtu !== undefined && o.pmtu !== 'do') throw new PingSetupError({ kind: 'multicast-fragment', family: o.family });
  return o.pmtu ?? 'do';
}

/** A ping socket unless something needs a raw one: -e 0, and -R, -T, -N (whose replies only a raw socket shows). */
function socketMode(o: PingSetupOptions): { mode?: 'dgram' | 'raw'; ipOption?: '-R' | '-T' } {
  let mode = o.mode;
  if (o.ident === 0 && !mode) {
    mode = 'raw';
    o.onWarning?.({ kind: 'ident-zero' });
  }
  const ipOption = o.recordRoute ? '-R' : o.timestamp ? '-T' : undefined;
  if (ipOption) {
    if (o.family !== 4) throw new PingSetupError({ kind: 'ip-options-family', option: ipOption });
    if (mode === 'dgram') throw new PingSetupError({ kind: 'ip-options-raw', option: ipOption });
    mode = 'raw';
  }
  if (o.nodeInfo) {
    if (o.family !== 6) throw new PingSetupError({ kind: 'nodeinfo-family' });
    if (mode === 'dgram') throw new PingSetupError({ kind: 'nodeinfo-raw' });
    mode = 'raw';
  }
  return { mode, ipOption };
}

/**
 * iputils' estimate of what one packet costs the receive buffer, times the
 * preload, at least 64 KiB (ping_common.c setup, sock_setbufs).
 */
export function receiveBuffer(dataLen: number, optLen: number, preload: number): number {
  const hold = dataLen + 8;
  return Math.max(MIN_RCVBUF, (hold + Math.ceil(hold / 512) * (optLen + 20 + 16 + 64 + 160)) * preload);
}

/** -t (multicast then unicast, as iputils sets them) and the -F lease. */
function configureMethod(method: IcmpProbe, o: PingSetupOptions, device: string | undefined): void {
  const v4 = o.family === 4;
  if (o.ttl !== undefined) {
    const ttl = o.ttl;
    const s = method.socket;
    step('multicast-ttl', device, () => (v4 ? s.setsockopt(C.IPPROTO_IP, C.IP_MULTICAST_TTL, ttl) : s.setsockopt(C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, ttl)));
    step('unicast-ttl', device, () => method.setTtl(ttl));
  }
  // a label already leased elsewhere (another ping's, for its linger time) is EPERM, as for iputils
  if (!v4 && o.flowLabel !== undefined) step('flowlabel', device, () => method.setFlowLabel(o.flowLabel!));
}

/** Run one step; its system error comes out as a PingSetupError naming the step. */
function step<T>(name: PingSetupStep, device: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PermissionError || !isSystemError(e)) throw e;
    throw new PingSetupError({ kind: 'system', step: name, error: e, device });
  }
}
