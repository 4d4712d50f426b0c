// sock --pcap: the tap (config.ts SockTap) that records sock's one flow.
// The recording opens when the first IP socket is about to connect (a
// client: the peer and our port are known) or is bound (a server: our port;
// a server on the wildcard address has no one interface, so its packets are
// rebuilt even with CAP_NET_RAW). Without a packet socket each connection's
// bytes and each datagram are rebuilt (capture/streams.ts); urgent bytes
// (-U) and what -Z peeks are not.
import * as C from '../constants.js';
import type { SockAddr } from '../native/index.js';
import { type FlowSpec, PcapngFile, Recording, defaultTtl, nowNs } from '../capture/record.js';
import { type End, TcpRebuilder, endOf, rebuildDatagram, streamFlows } from '../capture/streams.js';
import { serverFlow } from '../capture/flowfilter.js';
import { sourceAddressFor } from '../route.js';
import type { Socket } from '../socket.js';
import type { SystemError } from '../errors.js';
import type { SockTap } from './config.js';
import type { Conn, OnData } from './conn.js';

const isWildcard = (a: string) => a === '0.0.0.0' || a === '::';

/** Our end toward `peer`: the bound address, or the route's source when bound to the wildcard. */
function localToward(sock: Socket, peer: End | null): End | null {
  const local = endOf(sock.localAddress());
  if (!local || !isWildcard(local.address) || !peer) return local;
  try {
    return { address: sourceAddressFor(peer.address), port: local.port };
  } catch {
    return null;
  }
}

/** A server's flow: its port, any peer, and the ICMP errors about what it sent. */
function listenerFlow(proto: 'tcp' | 'udp', local: End): FlowSpec {
  const family = local.address.includes(':') ? 6 : 4;
  const address = isWildcard(local.address) ? undefined : local.address;
  return { family, local: local.address, filter: serverFlow(family, proto, address, local.port), ports: new Set([local.port]) };
}

export class PcapTap implements SockTap {
  private readonly file: PcapngFile;
  private rec: Recording | null = null;
  private opened: Promise<Recording> | null = null;
  /** the port a server listens on (an opening without a peer) */
  private serverPort: number | undefined;

  /** Opens (truncates) the file now: throws the open(2) error before any socket is made. */
  constructor(path: string) {
    this.file = new PcapngFile(path);
  }

  /** What -v says about the recording once it is open. */
  get mechanism(): string | undefined {
    return this.rec?.mechanism;
  }

  async opening(sock: Socket, remote: SockAddr | null): Promise<void> {
    const local = endOf(sock.localAddress());
    if (!local) return;
    if (this.rec) {
      this.rec.ports?.add(local.port);
      return;
    }
    const proto = sock.type === C.SOCK_STREAM ? 'tcp' : 'udp';
    const peer = endOf(remote);
    if (!peer) this.serverPort = local.port;
    const flows = peer ? streamFlows(proto, [peer], isWildcard(local.address) ? undefined : local.address) : [listenerFlow(proto, local)];
    flows[0]!.ports!.add(local.port);
    this.opened ??= Recording.open(this.file, flows);
    this.rec = await this.opened;
  }

  conn(sock: Socket, conn: Conn): Conn {
    const rec = this.rec;
    const remote = endOf(sock.remoteAddress());
    const local = remote && localToward(sock, remote);
    if (!rec || !remote || !local) return conn;
    rec.ports?.add(local.port);
    const b = new TcpRebuilder(rec, local, remote, defaultTtl(remote.address.includes(':') ? 6 : 4));
    const t = nowNs();
    // a client's connect, or the peer's (an accepted connection, on the port we listen on)
    b.connect(t, t, 'connected', local.port !== this.serverPort);
    return new RecordedConn(conn, b);
  }

  datagram(sock: Socket, out: boolean, data: Buffer, peer: SockAddr | null): void {
    const rec = this.rec;
    if (!rec?.rebuilding) return;
    const other = endOf(peer ?? sock.remoteAddress());
    const local = other && localToward(sock, other);
    if (!other || !local) return;
    rebuildDatagram(rec, out, local, other, data, defaultTtl(other.address.includes(':') ? 6 : 4));
  }

  /** Drain and close the recording (or just the file, when no socket was ever opened). */
  close(): void {
    if (this.rec) this.rec.close();
    else this.file.close();
  }
}

/** A connection whose reads, writes and ends are rebuilt as segments. */
class RecordedConn implements Conn {
  constructor(
    private readonly inner: Conn,
    private readonly b: TcpRebuilder,
  ) {}

  get fd(): number {
    return this.inner.fd;
  }
  get failed(): SystemError | undefined {
    return this.inner.failed;
  }

  start(onData: OnData, onEnd: () => void, onError: (e: SystemError) => void): void {
    this.inner.start(
      (chunk, peek) => {
        if (!peek) this.b.data(false, chunk);
        return onData(chunk, peek);
      },
      () => {
        this.b.fin(false);
        onEnd();
      },
      onError,
    );
  }

  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }

  write(data: Buffer, cb?: (err?: SystemError) => void): boolean {
    this.b.data(true, data);
    return this.inner.write(data, cb);
  }

  writev(chunks: Buffer[], cb?: (err?: SystemError) => void): boolean {
    this.b.data(true, Buffer.concat(chunks));
    return this.inner.writev(chunks, cb);
  }

  drained(): Promise<void> {
    return this.inner.drained();
  }
  flushed(): Promise<void> {
    return this.inner.flushed();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown().then(() => this.b.fin(true));
  }

  close(): void {
    this.b.fin(true);
    this.inner.close();
  }
}
