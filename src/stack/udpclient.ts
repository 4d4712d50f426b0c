// A UDP client in the book's manner: an unconnected socket (UNP 8.6
// dg_cli), replies verified to come from the server's address and port
// (8.8), and a retransmission timeout with exponential backoff (14.2, 22.5).
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as C from './constants.js';
import { systemError } from './connect.js';
import type { InetSockAddr } from './hostserv.js';
import { unmapped, type Peer } from './servers.js';
import { addressFamily } from './packet/addr.js';

const ETIMEDOUT = 110;

export interface RequestOptions {
  /** wait this long for the first reply, ms; doubled at each retransmission */
  timeoutMs: number;
  /** retransmissions after the first send */
  retries: number;
  /** whether a datagram from the server answers this request (default: any does) */
  accept?: (reply: Buffer) => boolean;
}

export interface UdpClientEvents {
  /** a datagram from someone other than the server (UNP 8.8: "reply from … (ignored)") */
  ignored: [Peer, number];
  /** a datagram from the server that answers no outstanding request (a late duplicate) */
  stale: [number];
  /** a request was sent again after a timeout */
  retransmit: [number];
}

export class UdpClient extends EventEmitter<UdpClientEvents> {
  readonly server: InetSockAddr;
  private readonly socket: dgram.Socket;
  private waiter: { accept: (b: Buffer) => boolean; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;

  constructor(server: InetSockAddr) {
    super();
    this.server = server;
    this.socket = dgram.createSocket(server.family === C.AF_INET ? 'udp4' : 'udp6');
    const want = server.address;
    this.socket.on('message', (msg, rinfo) => {
      const from = unmapped(rinfo.address.replace(/%.*/, ''));
      if (from !== want || rinfo.port !== server.port) {
        this.emit('ignored', { address: from, port: rinfo.port, family: addressFamily(from) === 4 ? 4 : 6 }, msg.length);
        return;
      }
      const w = this.waiter;
      if (w?.accept(msg)) {
        this.waiter = null;
        w.resolve(msg);
      } else {
        this.emit('stale', msg.length);
      }
    });
    this.socket.on('error', (e) => {
      const w = this.waiter;
      this.waiter = null;
      w?.reject(e);
    });
  }

  private target(): string {
    const s = this.server;
    return s.family === C.AF_INET6 && s.scopeid ? `${s.address}%${s.scopeid}` : s.address;
  }

  private send(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, this.server.port, this.target(), (e) => (e ? reject(e) : resolve())));
  }

  /**
   * Send `data` and resolve with the server's reply. With no reply within
   * the timeout the request is sent again (timeout doubling) up to
   * `retries` times, then rejects with ETIMEDOUT. One request at a time.
   */
  async request(data: Uint8Array, opts: RequestOptions): Promise<Buffer> {
    if (this.waiter) throw new Error('UdpClient: a request is already outstanding');
    const reply = new Promise<Buffer>((resolve, reject) => {
      this.waiter = { accept: opts.accept ?? (() => true), resolve, reject };
    });
    let timeout = opts.timeoutMs;
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      if (attempt > 0) this.emit('retransmit', attempt);
      await this.send(data);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeout)));
      const got = await Promise.race([reply, expired]).finally(() => clearTimeout(timer));
      if (got) return got;
      timeout *= 2;
    }
    this.waiter = null;
    throw systemError(ETIMEDOUT, 'recvfrom');
  }

  close(): void {
    this.socket.close();
  }
}
