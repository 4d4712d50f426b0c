// blackbox_exporter's icmp prober (prober/icmp.go) on sockit's ping setup:
// one echo request with "Prometheus Blackbox Exporter" as its data (padded
// to payload_size), on a ping socket when the kernel allows it, a raw one
// otherwise; dont_fragment as IP_PMTUDISC_DO (so no raw socket is needed
// for it); the round trip from the kernel's send and receive stamps.
import { toRelNs } from '../native/index.js';
import type { ProbeEvent } from '../probe/index.js';
import { setupPing, type PingSetup } from '../ping/setup.js';
import { chooseProtocol } from './resolve.js';
import { aborted, type ProbeContext } from './types.js';

const DURATION = 'probe_icmp_duration_seconds';
const DURATION_HELP = 'Duration of icmp request by phase';
const HOP_LIMIT = 'probe_icmp_reply_hop_limit';
const HOP_LIMIT_HELP = 'Replied packet hop limit (TTL for ipv4)';
const DATA = 'Prometheus Blackbox Exporter';

let icmpSequence = 0;

function payloadOf(size: number): Buffer {
  const data = Buffer.alloc(size || DATA.length);
  data.write(DATA.slice(0, data.length), 'latin1');
  return data;
}

export async function probeICMP(ctx: ProbeContext): Promise<boolean> {
  const { metrics, log, module } = ctx;
  const m = module.icmp;
  for (const phase of ['resolve', 'setup', 'rtt']) metrics.add(DURATION, DURATION_HELP, 0, { phase });
  const started = performance.now();
  const dst = await chooseProtocol(ctx.target, m.preferredIpProtocol, m.ipProtocolFallback, metrics, log);
  if (!dst) {
    log.warn('Error resolving address');
    return false;
  }
  metrics.add(DURATION, DURATION_HELP, (performance.now() - started) / 1000, { phase: 'resolve' });
  if (m.sourceIpAddress) log.info('Using source address', { srcIP: m.sourceIpAddress });
  const setupStart = performance.now();
  log.info('Creating socket');
  let setup: PingSetup;
  try {
    setup = await setupPing({
      address: dst.address,
      family: dst.family,
      iface: m.sourceIpAddress,
      ttl: m.ttl > 0 ? m.ttl : undefined,
      pmtu: m.dontFragment ? 'do' : undefined,
      dataLen: payloadOf(m.payloadSize).length,
      privileged: true,
    });
  } catch (e) {
    // a PermissionError's message carries its fix
    log.error('Error listening to socket', { err: e as Error });
    return false;
  }
  const method = setup.method;
  try {
    log.debug('Socket opened', { mechanism: method.mechanism });
    const seq = ++icmpSequence & 0xffff;
    const payload = payloadOf(m.payloadSize);
    log.info('Creating ICMP packet', { seq, id: method.ident ?? 0 });
    let reply: Extract<ProbeEvent, { type: 'reply' }> | undefined;
    let got: () => void = () => {};
    const replied = new Promise<void>((resolve) => (got = resolve));
    method.start((e) => {
      if (e.type === 'reply' && e.seq === seq && e.from === dst.address && !reply) {
        reply = { ...e, data: undefined, ipOptions: undefined, nodeInfo: undefined };
        got();
      } else if (e.type === 'icmp-error' && e.seq === seq) {
        log.debug('ICMP error about the request', { from: e.from, type: e.icmpType, code: e.icmpCode });
      }
    });
    metrics.add(DURATION, DURATION_HELP, (performance.now() - setupStart) / 1000, { phase: 'setup' });
    log.info('Writing out packet');
    const rttStart = performance.now();
    let sentRelNs: number;
    try {
      sentRelNs = toRelNs(method.send({ seq, payload, ttl: undefined }).realNs);
    } catch (e) {
      log.warn('Error writing to socket', { err: e as Error });
      return false;
    }
    log.info('Waiting for reply packets');
    await Promise.race([replied, aborted(ctx.signal)]);
    if (!reply) {
      log.warn('Timeout reading from socket', { err: `read ${method.mechanism}: i/o timeout` });
      return false;
    }
    const rttS = reply.rxRelNs !== undefined ? (reply.rxRelNs - sentRelNs) / 1e9 : (performance.now() - rttStart) / 1000;
    metrics.add(DURATION, DURATION_HELP, rttS, { phase: 'rtt' });
    if (reply.ttl !== undefined) metrics.set(HOP_LIMIT, HOP_LIMIT_HELP, reply.ttl);
    else log.debug("Cannot get TTL from the received packet. 'probe_icmp_reply_hop_limit' will be missing.");
    log.info('Found matching reply packet');
    return true;
  } finally {
    method.close();
  }
}
