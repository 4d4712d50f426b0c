// blackbox_exporter's tcp prober (prober/tcp.go) without TLS: connect to
// HOST:PORT, then the query_response dialogue line by line.
import net from 'node:net';
import { FAILED_DUE_TO_REGEX, FAILED_DUE_TO_REGEX_HELP, runQueryResponse, type LineChannel } from './query.js';
import { chooseProtocol } from './resolve.js';
import { aborted, portOf, splitHostPort, type ProbeContext } from './types.js';

/** Lines off a TCP stream, as bufio.Scanner's ScanLines cuts them (a trailing \r dropped). */
class SocketLines implements LineChannel {
  private buffered = '';
  private ended = false;
  readError?: Error;
  private wake: (() => void) | null = null;

  constructor(
    private readonly sock: net.Socket,
    signal: AbortSignal,
  ) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buffered += d;
      this.wake?.();
    });
    const end = (e?: Error) => {
      this.ended = true;
      if (e && !this.readError) this.readError = e;
      this.wake?.();
    };
    sock.on('end', () => end());
    sock.on('error', (e) => end(e));
    sock.on('close', () => end());
    signal.addEventListener(
      'abort',
      () => end(new Error(`read tcp ${sock.localAddress}:${sock.localPort}->${sock.remoteAddress}:${sock.remotePort}: i/o timeout`)),
      { once: true },
    );
  }

  async readLine(): Promise<string | null> {
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl).replace(/\r$/, '');
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      if (this.ended) {
        if (this.buffered === '' || this.readError) return null;
        const rest = this.buffered;
        this.buffered = '';
        return rest;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }

  write(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.sock.write(text, 'latin1', (e) => (e ? reject(e) : resolve())));
  }
}

function dial(host: string, port: number, localAddress: string | undefined, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, localAddress });
    const fail = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.once('connect', () => {
      sock.off('error', fail);
      resolve(sock);
    });
    sock.once('error', fail);
    aborted(signal).then(() => fail(new Error(`dial tcp ${net.isIPv6(host) ? `[${host}]` : host}:${port}: i/o timeout`)));
  });
}

export async function probeTCP(ctx: ProbeContext): Promise<boolean> {
  const { metrics, log } = ctx;
  const m = ctx.module.tcp;
  metrics.add(FAILED_DUE_TO_REGEX, FAILED_DUE_TO_REGEX_HELP, 0);
  const hp = splitHostPort(ctx.target);
  if (!hp) {
    log.error('Error splitting target address and port', { err: `address ${ctx.target}: missing port in address` });
    return false;
  }
  const dst = await chooseProtocol(hp.host, m.preferredIpProtocol, m.ipProtocolFallback, metrics, log);
  if (!dst) {
    log.error('Error resolving address');
    return false;
  }
  const port = portOf(hp.port);
  if (port === null) {
    log.error('Error dialing TCP', { err: `dial tcp: lookup port ${hp.port}: unknown port` });
    return false;
  }
  if (m.sourceIpAddress) log.info('Using local address', { srcIP: m.sourceIpAddress });
  log.info('Dialing TCP without TLS');
  let sock: net.Socket;
  try {
    sock = await dial(dst.address, port, m.sourceIpAddress, ctx.signal);
  } catch (e) {
    log.error('Error dialing TCP', { err: e as Error });
    return false;
  }
  try {
    log.info('Successfully dialed');
    return await runQueryResponse(m.queryResponse, new SocketLines(sock, ctx.signal), metrics, log);
  } finally {
    sock.destroy();
  }
}
