// IcmpProbe's echo requests on a real raw socket to 127.0.0.1: a payload
// buffer sent again with only its start rewritten (Probe.changed, as a
// flood rewrites its stamp) is copied and checksummed in part, and every
// request still carries the checksum of its whole message; the kernel,
// which drops requests with a bad checksum, answers each one.
import { describe, expect, it } from 'vitest';
import { verify } from '../../../src/stack/packet/checksum.js';
import { IcmpProbe } from '../../../src/stack/probe/icmp.js';
import type { ProbeEvent } from '../../../src/stack/probe/index.js';
import { isRoot, rootReason } from '../../helpers/root.js';

async function replies(probe: IcmpProbe, n: number): Promise<Set<number>> {
  const got = new Set<number>();
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${got.size} of ${n} replies`)), 5000);
    probe.start((e: ProbeEvent) => {
      if (e.type !== 'reply') return;
      got.add(e.seq);
      if (got.size === n) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return got;
}

describe('IcmpProbe.build', () => {
  it.skipIf(!isRoot)(`checksums a partly rewritten payload right, for even and odd lengths of the change (${rootReason})`, async () => {
    const probe = new IcmpProbe({ family: 4, target: '127.0.0.1', mode: 'raw' });
    try {
      const payload = Buffer.alloc(57); // odd: the tail's last byte is padded
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 37 + 11) & 0xff;
      const answered = replies(probe, 40);
      for (let seq = 1; seq <= 40; seq++) {
        // the first probe builds in full; then only payload[0, changed) moves
        const changed = seq % 2 ? 12 : 5;
        for (let i = 0; i < changed; i++) payload[i] = (seq * 13 + i * 7) & 0xff;
        const p = { seq, payload, changed };
        expect(probe.send(p).bytes).toBe(8 + payload.length);
        const wire = probe.lastSent.transport;
        // the whole message as sent: this probe's bytes, and a checksum over all of them
        expect(wire.subarray(8).equals(payload)).toBe(true);
        expect(verify(wire)).toBe(true);
      }
      expect([...(await answered)].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    } finally {
      probe.close();
    }
  });

  it.skipIf(!isRoot)(`builds in full again for another buffer, or with no promise (${rootReason})`, () => {
    const probe = new IcmpProbe({ family: 4, target: '127.0.0.1', mode: 'raw' });
    try {
      const a = Buffer.alloc(56, 1);
      probe.send({ seq: 1, payload: a, changed: 12 });
      // another buffer of the same size, different past the promised start
      const b = Buffer.alloc(56, 2);
      probe.send({ seq: 2, payload: b, changed: 12 });
      expect(probe.lastSent.transport.subarray(8).equals(b)).toBe(true);
      expect(verify(probe.lastSent.transport)).toBe(true);
      // the same buffer changed past its start, with no promise given
      b[40] = 9;
      probe.send({ seq: 3, payload: b });
      expect(probe.lastSent.transport[48]).toBe(9);
      expect(verify(probe.lastSent.transport)).toBe(true);
    } finally {
      probe.close();
    }
  });
});
