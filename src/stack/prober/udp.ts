// sockit's udp prober (blackbox_exporter has none): one datagram to
// HOST:PORT on a connected UDP socket with IP_RECVERR (the probe registry's
// udp method, as traceroute -U uses it), so a port unreachable or any other
// ICMP error fails the probe at once, naming who sent it. With
// query_response, each `send` is a datagram (each from a socket of its own,
// as the method opens one per probe) and each `expect` must match a line of
// the replies (an empty datagram goes first when the dialogue starts by
// expecting); without it, any reply is success.
import { describe4, describe6 } from '../packet/icmp-names.js';
import type { ProbeEvent } from '../probe/index.js';
import { probeMethod } from '../probe/registry.js';
import { FAILED_DUE_TO_REGEX, FAILED_DUE_TO_REGEX_HELP, runQueryResponse, type LineChannel } from './query.js';
import { chooseProtocol } from './resolve.js';
import { aborted, portOf, splitHostPort, type ProbeContext } from './types.js';

const ICMP_TYPE = 'probe_udp_icmp_error_type';
const ICMP_TYPE_HELP = 'ICMP type of the error that answered the datagram (-1: none)';

export async function probeUDP(ctx: ProbeContext): Promise<boolean> {
  const { metrics, log } = ctx;
  const m = ctx.module.udp;
  metrics.add(FAILED_DUE_TO_REGEX, FAILED_DUE_TO_REGEX_HELP, 0);
  metrics.set(ICMP_TYPE, ICMP_TYPE_HELP, -1);
  const hp = splitHostPort(ctx.target);
  if (!hp) {
    log.error('Error splitting target address and port', { err: `address ${ctx.target}: missing port in address` });
    return false;
  }
  const port = portOf(hp.port);
  const dst = await chooseProtocol(hp.host, m.preferredIpProtocol, m.ipProtocolFallback, metrics, log);
  if (!dst) return false;
  if (port === null || port === 0) {
    log.error('Error dialing UDP', { err: `unknown port ${hp.port}` });
    return false;
  }
  const method = probeMethod('udp')!.open({ target: dst.address, family: dst.family, port, source: m.sourceIpAddress, packetLen: -1 }).method;
  const lines: string[] = [];
  let wake: () => void = () => {};
  let failed: Extract<ProbeEvent, { type: 'icmp-error' | 'local-error' }> | undefined;
  let replies = 0;
  // each datagram is its own probe: the method gives every probe its own
  // connected socket, and a probe's socket stays open (its replies count)
  // until close()
  let seq = 0;
  try {
    method.start((e) => {
      if (e.type === 'reply' && e.data) {
        replies++;
        log.debug('Received datagram', { from: e.from, bytes: e.bytes });
        lines.push(
          ...e.data
            .toString('latin1')
            .replace(/\n$/, '')
            .split('\n')
            .map((l) => l.replace(/\r$/, '')),
        );
      } else if (e.type === 'icmp-error' || e.type === 'local-error') {
        failed = e;
      }
      wake();
    });
    const qrs = m.queryResponse;
    const channel: LineChannel = {
      get readError() {
        return failed ? new Error(errorText(dst.family, failed)) : ctx.signal.aborted ? new Error('read udp: i/o timeout') : undefined;
      },
      async readLine() {
        for (;;) {
          if (lines.length) return lines.shift()!;
          if (failed || ctx.signal.aborted) return null;
          await Promise.race([new Promise<void>((r) => (wake = r)), aborted(ctx.signal)]);
        }
      },
      async write(text) {
        log.info('Sending datagram', { bytes: Buffer.byteLength(text, 'latin1'), via: method.mechanism });
        method.send({ seq: ++seq, payload: Buffer.from(text, 'latin1') });
      },
    };
    // something has to go out before anything comes back: an empty datagram
    // when the dialogue starts by expecting
    if (!qrs[0] || qrs[0].expect) {
      try {
        await channel.write('');
      } catch (e) {
        log.error('Failed to send', { err: e as Error });
        return false;
      }
    }
    if (qrs.length === 0) {
      while (!replies && !failed && !ctx.signal.aborted) await Promise.race([new Promise<void>((r) => (wake = r)), aborted(ctx.signal)]);
    }
    const ok = qrs.length ? await runQueryResponse(qrs, channel, metrics, log) : replies > 0;
    if (failed) {
      if (failed.type === 'icmp-error') metrics.set(ICMP_TYPE, ICMP_TYPE_HELP, failed.icmpType);
      log.error('ICMP error for the datagram', { err: errorText(dst.family, failed) });
      return false;
    }
    if (!ok || !replies) {
      if (!replies) log.error('No reply', { err: 'read udp: i/o timeout' });
      return false;
    }
    log.info('Received reply');
    return true;
  } finally {
    method.close();
  }
}

function errorText(family: 4 | 6, e: Extract<ProbeEvent, { type: 'icmp-error' | 'local-error' }>): string {
  if (e.type === 'local-error') return e.code;
  return `${(family === 4 ? describe4 : describe6)(e.icmpType, e.icmpCode, e.mtu)} from ${e.from}`;
}
