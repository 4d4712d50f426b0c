// sock's cliopen.c, servopen.c, buffers.c, sockopts.c and multicast.c on the
// socket core: the socket is made and every option set on its descriptor
// before connect or listen; each option is read back and reported.
import * as C from '../constants.js';
import { connectSocket } from '../connect.js';
import { isSystemError, native, type SockAddr } from '../native/index.js';
import { addressFamily, isMulticast, parseIPv4 } from '../packet/addr.js';
import { hostServ, servPort } from '../hostserv.js';
import { resolveHost } from '../resolve.js';
import { Socket, inetAddress, type Inet6Address, type InetAddress } from '../socket.js';
import { explainAdjustment, findOption, getOption, setOption, type OptionValue } from '../sockopt.js';
import { MAX_SROUTE, sourceRouteOption } from './bytes.js';
import { type Emit, type SockConfig, SockFailure, failWith, sleep } from './config.js';

type Inet = InetAddress | Inet6Address;

/** Where a client connects: host and port, or a unix socket path. */
export type Target = { host: string; port: string } | { unix: string };
/** Where a server binds: an optional address and a port, or a unix socket path. */
export type Local = { host?: string; port: string } | { unix: string };

/** A unix socket path as typed: a leading @ names an abstract socket (unix(7)). */
export function unixAddress(path: string): SockAddr {
  return { family: C.AF_UNIX, path: path.startsWith('@') ? `\0${path.slice(1)}` : path };
}

// ---------- names and numbers ----------

/** A port: a number from 0 to 65535, or a service name from /etc/services. */
export function parsePort(text: string, proto: 'tcp' | 'udp'): number {
  const p = servPort(text, proto);
  if (p !== null) return p;
  if (/^\d+$/.test(text)) throw new SockFailure(`invalid port number: ${text} (0 to 65535)`, { usage: true });
  throw new SockFailure(`getservbyname() error for: ${text}/${proto}`, { usage: true });
}

/**
 * The addresses of a host in getaddrinfo's order (UNP 11.11 host_serv):
 * literals, with a %zone for IPv6, and names of the family asked for.
 * `what` words the failure as the book does.
 */
export async function addressesOf(host: string, port: number, cfg: SockConfig, what: string): Promise<Inet[]> {
  const found = await hostServ(host, port, cfg.family).catch(() => []);
  if (found.length) return found;
  throw new SockFailure(`${what}: ${host}`, { usage: true });
}

function wildcard(fam: number, port: number): Inet {
  return fam === C.AF_INET6 ? { family: C.AF_INET6, address: '::', port, scopeid: 0 } : { family: C.AF_INET, address: '0.0.0.0', port };
}

function proto(cfg: SockConfig): 'tcp' | 'udp' {
  return cfg.udp ? 'udp' : 'tcp';
}

function sockType(cfg: SockConfig): number {
  return cfg.udp ? C.SOCK_DGRAM : C.SOCK_STREAM;
}

function open(domain: number, cfg: SockConfig): Socket {
  try {
    return Socket.open(domain, sockType(cfg));
  } catch (e) {
    return failWith('socket() error', e);
  }
}

// ---------- options, read back ----------

/** Per-socket state sockopts() keeps between its two calls (doall 0, then 1). */
interface OptState {
  joined?: boolean;
  routed?: boolean;
}
const state = new WeakMap<Socket, OptState>();

function isInet(sock: Socket): boolean {
  return sock.domain === C.AF_INET || sock.domain === C.AF_INET6;
}

function isTcp(sock: Socket): boolean {
  return isInet(sock) && sock.type === C.SOCK_STREAM;
}

/**
 * setsockopt then getsockopt through the option table; reports requested
 * and actual. A flag that reads back off is fatal, as in sockopts.c.
 */
function setAndRead(sock: Socket, name: string, value: OptionValue, emit: Emit, report = true): OptionValue {
  const o = findOption(name)!;
  try {
    setOption(sock, o, value);
  } catch (e) {
    failWith(`${name} setsockopt error`, e);
  }
  if (o.access === 'set') {
    if (report) emit({ event: 'option', name, requested: value, value });
    return value;
  }
  let got: OptionValue;
  try {
    got = getOption(sock, o);
  } catch (e) {
    return failWith(`${name} getsockopt error`, e);
  }
  if (o.type === 'flag' && value && !got) throw new SockFailure(`${name} not set (0)`);
  const adjusted = explainAdjustment(o, value, got);
  if (report) emit({ event: 'option', name, requested: value, value: got, ...(adjusted ? { adjusted } : {}) });
  return got;
}

/** The book prints what it set only `if (verbose)`; warnings always. */
function verboseOnly(cfg: SockConfig, emit: Emit): Emit {
  return cfg.verbose ? emit : (e) => (e.event === 'warning' || e.event === 'error') && emit(e);
}

/** buffers.c: SO_RCVBUF and SO_SNDBUF, before connect or listen so the window scale fits. */
export function buffers(sock: Socket, cfg: SockConfig, emit: Emit): void {
  emit = verboseOnly(cfg, emit);
  if (cfg.rcvbuflen) setAndRead(sock, 'SO_RCVBUF', cfg.rcvbuflen, emit);
  if (cfg.sndbuflen) setAndRead(sock, 'SO_SNDBUF', cfg.sndbuflen, emit);
}

/** SO_REUSEADDR / SO_REUSEPORT, before bind. */
function reuse(sock: Socket, cfg: SockConfig, emit: Emit): void {
  emit = verboseOnly(cfg, emit);
  if (cfg.reuseaddr) setAndRead(sock, 'SO_REUSEADDR', true, emit);
  if (cfg.reuseport) setAndRead(sock, 'SO_REUSEPORT', true, emit);
}

/** A multicast membership on any interface (imr_interface INADDR_ANY, as the book). */
function join(sock: Socket, group: string, emit: Emit): void {
  if (sock.domain === C.AF_INET6) {
    setAndRead(sock, 'IPV6_JOIN_GROUP', { multiaddr: group, ifindex: 0 }, emit);
  } else {
    setAndRead(sock, 'IP_ADD_MEMBERSHIP', { multiaddr: group, address: '0.0.0.0', ifindex: 0 }, emit);
  }
}

/**
 * sockopts.c. `doall` is false for a socket not yet connected (or a
 * listening one): options such as SO_KEEPALIVE wait for the connected
 * socket, others (IP_TOS, IP_TTL) must be set before the SYN.
 * `remote` is the destination, for a source route.
 */
export function sockopts(sock: Socket, cfg: SockConfig, doall: boolean, emit: Emit, remote?: SockAddr | null): void {
  emit = verboseOnly(cfg, emit);
  const st = state.get(sock) ?? {};
  state.set(sock, st);
  const v6 = sock.domain === C.AF_INET6;
  const inet = isInet(sock);
  const tcp = isTcp(sock);

  if (cfg.debug) setAndRead(sock, 'SO_DEBUG', true, emit);
  if (cfg.dontroute) setAndRead(sock, 'SO_DONTROUTE', true, emit);
  if (cfg.iptos !== -1 && !doall) setAndRead(sock, v6 ? 'IPV6_TCLASS' : 'IP_TOS', cfg.iptos, emit);
  if (cfg.ipttl !== -1 && !doall) setAndRead(sock, v6 ? 'IPV6_UNICAST_HOPS' : 'IP_TTL', cfg.ipttl, emit);
  if (cfg.maxseg && !cfg.udp) setAndRead(sock, 'TCP_MAXSEG', cfg.maxseg, emit);
  if (cfg.sroute && !st.routed) {
    st.routed = true;
    sourceRoute(sock, cfg.sroute, remote ?? null, emit);
  }
  if (cfg.broadcast) setAndRead(sock, 'SO_BROADCAST', true, emit);
  if (cfg.joinip && !st.joined) {
    st.joined = true;
    join(sock, cfg.joinip, emit);
  }
  if (cfg.mcastttl >= 0) setAndRead(sock, v6 ? 'IPV6_MULTICAST_HOPS' : 'IP_MULTICAST_TTL', cfg.mcastttl, emit);
  if (cfg.keepalive && doall && !cfg.udp) setAndRead(sock, 'SO_KEEPALIVE', true, emit);
  if (cfg.nodelay && doall && !cfg.udp) setAndRead(sock, 'TCP_NODELAY', true, emit);
  if (doall && cfg.verbose && tcp) {
    // "just print MSS if verbose"
    try {
      emit({ event: 'option', name: 'TCP_MAXSEG', requested: undefined, value: getOption(sock, 'TCP_MAXSEG') });
    } catch (e) {
      failWith('TCP_MAXSEG getsockopt error', e);
    }
  }
  if (cfg.linger >= 0 && doall && !cfg.udp) {
    const got = setAndRead(sock, 'SO_LINGER', { onoff: 1, linger: cfg.linger }, emit) as { onoff: number; linger: number };
    if (got.onoff === 0 || got.linger !== cfg.linger) throw new SockFailure(`SO_LINGER not set (${got.onoff}, ${got.linger})`);
  }
  if (doall && cfg.rcvtimeo) setAndRead(sock, 'SO_RCVTIMEO', millis(cfg.rcvtimeo), emit);
  if (doall && cfg.sndtimeo) setAndRead(sock, 'SO_SNDTIMEO', millis(cfg.sndtimeo), emit);
  if (cfg.recvdstaddr && cfg.udp && inet) {
    // IP_RECVDSTADDR is BSD's; IP_PKTINFO carries the same destination address
    setAndRead(sock, v6 ? 'IPV6_RECVPKTINFO' : 'IP_PKTINFO', true, emit);
  }
  if (cfg.sigio) asyncIO(sock, emit);
}

function millis(ms: number) {
  return { sec: Math.floor(ms / 1000), usec: (ms % 1000) * 1000 };
}

/** O_ASYNC with this process as owner: SIGIO on readiness (fcntl(2); FIOASYNC in the book). */
function asyncIO(sock: Socket, emit: Emit): void {
  try {
    native.fcntl(sock.fd, C.F_SETOWN, process.pid);
  } catch (e) {
    failWith('fcntl F_SETOWN error', e);
  }
  try {
    const fl = native.fcntl(sock.fd, C.F_GETFL, 0);
    native.fcntl(sock.fd, C.F_SETFL, fl | C.O_ASYNC);
  } catch (e) {
    failWith('fcntl O_ASYNC error', e);
  }
  emit({ event: 'option', name: 'FIOASYNC', requested: true, value: (native.fcntl(sock.fd, C.F_GETFL, 0) & C.O_ASYNC) !== 0 });
}

/** sourceroute.c: the hops of -g/-G then the destination, in IP_OPTIONS. */
function sourceRoute(sock: Socket, sr: NonNullable<SockConfig['sroute']>, remote: SockAddr | null, emit: Emit): void {
  if (sock.domain !== C.AF_INET) {
    emit({ event: 'warning', message: 'source routes (-g/-G) are IPv4 options; IPv6 type 0 routing headers are gone (RFC 5095): ignored' });
    return;
  }
  if (!remote || remote.family !== C.AF_INET) {
    emit({ event: 'warning', message: 'a source route (-g/-G) needs a destination: ignored by a server' });
    return;
  }
  const hops = sr.hops.map((h) => parseIPv4(h)!);
  for (const h of sr.hops) emit({ event: 'source-route', hop: h });
  emit({ event: 'source-route', hop: remote.address });
  const opt = sourceRouteOption(sr.strict, hops, parseIPv4(remote.address)!);
  emit({ event: 'source-route-size', bytes: opt[1] });
  setAndRead(sock, 'IP_OPTIONS', opt, emit);
}

/** -g/-G hops resolved to IPv4 addresses ("unknown host" as sourceroute.c). */
export async function resolveHops(hops: readonly string[]): Promise<string[]> {
  if (hops.length > MAX_SROUTE) throw new SockFailure(`too many source routes with: ${hops[MAX_SROUTE]}`, { usage: true });
  const out: string[] = [];
  for (const h of hops) {
    if (parseIPv4(h)) {
      out.push(h);
      continue;
    }
    const a = await resolveHost(h, 4).then(
      (r) => r.addresses[0]?.address,
      () => undefined,
    );
    if (!a) throw new SockFailure(`unknown host: ${h}`, { usage: true });
    out.push(a);
  }
  return out;
}

// ---------- client ----------

export interface Opened {
  sock: Socket;
  /** the peer (client), or the bound address (server) */
  remote: SockAddr | null;
  local: SockAddr | null;
}

/**
 * cliopen.c: socket, SO_REUSEADDR/PORT, bind (-b/-l, and always for UDP),
 * buffers, options, connect (not for UDP with -o), then the options that
 * need a connection. Each address of a name is tried in turn.
 */
export async function cliopen(cfg: SockConfig, target: Target, emit: Emit): Promise<Opened> {
  if ('unix' in target) {
    // a datagram client needs a name to be answered: autobind (unix(7))
    return clientOn(open(C.AF_UNIX, cfg), unixAddress(target.unix), cfg, emit, cfg.udp ? { family: C.AF_UNIX, path: '' } : undefined);
  }
  const port = parsePort(target.port, proto(cfg));
  const candidates = await addressesOf(target.host, port, cfg, 'invalid hostname');
  let last: unknown;
  for (const remote of candidates) {
    try {
      const local = localFor(remote, cfg);
      return await clientOn(open(remote.family, cfg), remote, cfg, emit, local);
    } catch (e) {
      last = e;
      // another address of the name may answer (UNP 11.12 tcp_connect)
      if (!(e instanceof SockFailure) || !e.message.startsWith('connect() error') || remote === candidates.at(-1)) throw e;
    }
  }
  throw last;
}

/** The client's own address: -l, -b, and always for UDP (an ephemeral port); undefined to let connect choose. */
function localFor(remote: Inet, cfg: SockConfig): Inet | undefined {
  if (cfg.bindport === 0 && cfg.localip === undefined && !cfg.udp) return undefined;
  if (cfg.localip === undefined) return wildcard(remote.family, cfg.bindport);
  const fam = addressFamily(cfg.localip.split('%')[0]);
  if (fam !== (remote.family === C.AF_INET ? 4 : 6)) throw new SockFailure(`invalid IP address: ${cfg.localip}`, { usage: true });
  return inetAddress(cfg.localip, cfg.bindport);
}

/** cliopen.c on a new socket: reuse, bind, buffers, options, connect, the options after. */
async function clientOn(sock: Socket, remote: SockAddr, cfg: SockConfig, emit: Emit, local?: SockAddr): Promise<Opened> {
  try {
    reuse(sock, cfg, emit);
    if (local) {
      try {
        sock.bind(local);
      } catch (e) {
        failWith('bind() error', e, true);
      }
    }
    buffers(sock, cfg, emit);
    sockopts(sock, cfg, false, emit, remote);
    if (cfg.tap && remote.family !== C.AF_UNIX) {
      // --pcap: our port is part of the flow before the first packet leaves
      if (!local) sock.bind(wildcard(remote.family, 0));
      await cfg.tap.opening(sock, remote);
    }
    if (!cfg.udp || cfg.connectudp) {
      try {
        await connectSocket(sock, remote);
      } catch (e) {
        failWith('connect() error', e);
      }
    }
    const bound = sock.localAddress();
    if (cfg.verbose) emit({ event: 'connected', local: bound, remote });
    sockopts(sock, cfg, true, emit, remote);
    return { sock, remote, local: bound };
  } catch (e) {
    sock.close();
    throw e;
  }
}

// ---------- server ----------

export interface Listening extends Opened {
  /** a unix socket path this server created (to remove at the end) */
  created?: string;
}

/**
 * servopen.c up to accept(): socket, SO_REUSEADDR/PORT, bind, a multicast
 * join when the address is a group, then for UDP the buffers, -f connect and
 * every option; for TCP the buffers, the listening socket's options, listen
 * and the -O pause.
 */
export async function servopen(cfg: SockConfig, where: Local, emit: Emit): Promise<Listening> {
  let sock: Socket;
  let bound: SockAddr;
  let created: string | undefined;
  if ('unix' in where) {
    bound = unixAddress(where.unix);
    sock = open(C.AF_UNIX, cfg);
    if (!where.unix.startsWith('@')) created = where.unix;
  } else {
    const port = parsePort(where.port, proto(cfg));
    bound =
      where.host === undefined
        ? wildcard(cfg.family === 6 ? C.AF_INET6 : C.AF_INET, port)
        : (await addressesOf(where.host, port, cfg, 'invalid host name for server'))[0];
    sock = open(bound.family, cfg);
  }
  try {
    reuse(sock, cfg, emit);
    try {
      sock.bind(bound);
    } catch (e) {
      created = undefined;
      failWith("can't bind local address", e, true); // exit 2, as sockit(1) says of a server's bind
    }
    const local = sock.localAddress();
    if (cfg.tap && !created && !('unix' in where)) await cfg.tap.opening(sock, null);
    // ★ port 0: say which port the kernel chose, once the socket takes traffic
    const ready = () => {
      if ((bound.family === C.AF_INET || bound.family === C.AF_INET6) && bound.port === 0) emit({ event: 'listening', local });
    };
    if ((bound.family === C.AF_INET || bound.family === C.AF_INET6) && isMulticast(bound.address)) {
      try {
        join(sock, bound.address, () => {});
      } catch (e) {
        failWith('IP_ADD_MEMBERSHIP error', (e as SockFailure).system ?? e);
      }
      if (cfg.verbose) emit({ event: 'multicast', group: bound.address });
    }
    if (cfg.udp) {
      buffers(sock, cfg, emit);
      let peer: SockAddr | null = null;
      if (cfg.foreign) {
        const fam = addressFamily(cfg.foreign.ip.split('%')[0]);
        const port = /^\d+$/.test(cfg.foreign.port) ? Number(cfg.foreign.port) : NaN;
        if (!fam || fam !== (bound.family === C.AF_INET6 ? 6 : 4) || !(port <= 65535)) {
          throw new SockFailure(`invalid IP address: ${cfg.foreign.ip}`, { usage: true });
        }
        peer = inetAddress(cfg.foreign.ip, port);
        try {
          await connectSocket(sock, peer);
        } catch (e) {
          failWith('connect() error', e);
        }
      }
      sockopts(sock, cfg, true, emit, peer);
      ready();
      return { sock, remote: peer, local, created };
    }
    buffers(sock, cfg, emit);
    sockopts(sock, cfg, false, emit);
    try {
      sock.listen(cfg.listenq);
    } catch (e) {
      failWith('listen() error', e);
    }
    ready();
    if (cfg.pauselisten) await sleep(cfg.pauselisten); // lets the connection queue build up
    return { sock, remote: null, local, created };
  } catch (e) {
    sock.close();
    throw e;
  }
}

/**
 * servopen.c's accept loop: each connection is reported, gets the buffers
 * and every option again (not all propagate from the listening socket),
 * then goes to `serve`. Without -F the first connection is served and the
 * loop ends; with -F (the book forks a child per connection) every
 * connection is served concurrently by a handler in this process, until
 * `signal` aborts. A failing handler under -F is reported and the server
 * goes on, as the parent does when a child dies.
 */
export function acceptLoop(listener: Socket, cfg: SockConfig, emit: Emit, serve: (sock: Socket) => Promise<void>, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (e?: unknown) => {
      if (done) return;
      done = true;
      listener.onReadable(null);
      signal?.removeEventListener('abort', onAbort);
      if (e === undefined) resolve();
      else reject(e);
    };
    const onAbort = () => finish();
    if (signal?.aborted) return finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    listener.onReadable(() => {
      for (let i = 0; i < 64 && !done; i++) {
        let a: ReturnType<Socket['accept']>;
        try {
          a = listener.accept();
        } catch (e) {
          if (isSystemError(e) && (e.code === 'ECONNABORTED' || e.code === 'EINTR')) continue;
          return finish(new SockFailure('accept() error', { cause: e }));
        }
        if (!a) return;
        const conn = a.socket;
        const run = async () => {
          if (cfg.verbose) emit({ event: 'connection', local: conn.localAddress(), remote: a.address });
          buffers(conn, cfg, emit);
          sockopts(conn, cfg, true, emit, a.address);
          await serve(conn);
        };
        if (!cfg.dofork) {
          listener.onReadable(null); // the book returns the first connection; the rest wait in the queue
          run().then(
            () => finish(),
            (e) => {
              if (!conn.isClosed) conn.close();
              finish(e);
            },
          );
          return;
        }
        run().catch((e) => {
          if (!conn.isClosed) conn.close();
          emit({
            event: 'error',
            kind: 'connection',
            message: e instanceof Error ? e.message : String(e),
            code: e instanceof SockFailure ? e.system?.code : undefined,
          });
        });
      }
    });
  });
}
