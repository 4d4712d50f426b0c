// The IP_RECVERR error queue, read once for the UDP and TCP methods: a real
// datagram to a closed port on loopback, and the kernel's queued
// sock_extended_err as the probe event the engines take.
import { describe, expect, it } from 'vitest';
import * as C from '../../../src/stack/constants.js';
import type { ProbeEvent } from '../../../src/stack/probe/index.js';
import { drainErrorQueue, errorQueueEvent } from '../../../src/stack/probe/recverr.js';
import { isPortUnreachable, tuneSocket } from '../../../src/stack/probe/tune.js';
import { Socket, inetAddress } from '../../../src/stack/socket.js';

/** The events for one datagram sent to a port nothing listens on. */
function closedPort(family: 4 | 6, seq: number | undefined): Promise<ProbeEvent[]> {
  const s = Socket.open(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM);
  const target = family === 4 ? '127.0.0.1' : '::1';
  // a port of our own, closed again: nothing listens there
  const probe = Socket.open(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM);
  probe.bind(inetAddress(target, 0));
  const port = (probe.localAddress() as { port: number }).port;
  probe.close();
  tuneSocket(s, family, {});
  s.connectStart(inetAddress(target, port));
  return new Promise((resolve) => {
    s.onReadable((ready) => {
      if (!ready.error) return;
      const events: ProbeEvent[] = [];
      drainErrorQueue(s, Buffer.alloc(2048), 8, (r) => {
        const e = errorQueueEvent(family, seq, r, (type, code) => isPortUnreachable(family, type, code));
        if (e) events.push(e);
      });
      s.close();
      resolve(events);
    });
    s.send(Buffer.from('probe'));
  });
}

describe('the error queue (IP_RECVERR / IPV6_RECVERR)', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family}: a port unreachable is an icmp-error from the offender, the destination reached`, async () => {
      const [e, ...rest] = await closedPort(family, 7);
      expect(rest).toEqual([]);
      expect(e).toMatchObject({
        type: 'icmp-error',
        seq: 7,
        from: family === 4 ? '127.0.0.1' : '::1',
        icmpType: family === 4 ? 3 : 1,
        icmpCode: family === 4 ? 3 : 4,
        mtu: 0,
        reached: true,
      });
      expect(typeof (e as { rxRelNs?: number }).rxRelNs).toBe('number');
    });
  }

  it('an ICMP error the method cannot pin on a probe is dropped', async () => {
    expect(await closedPort(4, undefined)).toEqual([]);
  });
});
