// The probe-method registry: one list of methods, each saying its name, its
// option letter, what -p means, its -O options and its packets' layout as
// traceroute 2.x counts "NN byte packets" (the lab tests compare the
// header line with traceroute itself).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/stack/errors.js';
import { DEF_DATA_LEN, ipHeaderLen, sizedLayout } from '../../../src/stack/probe/descriptor.js';
import { METHODS, methodByFlag, probeMethod } from '../../../src/stack/probe/registry.js';

describe('probe-method registry', () => {
  it("has traceroute 2.x's methods, by name and by option letter", () => {
    expect(METHODS.map((m) => m.name)).toEqual(['default', 'icmp', 'tcp', 'udp']);
    expect(['I', 'T', 'U'].map((f) => methodByFlag(f)?.name)).toEqual(['icmp', 'tcp', 'udp']);
    expect(probeMethod('dccp')).toBeUndefined();
    expect(METHODS.map((m) => [m.name, m.port.default, m.unprivileged])).toEqual([
      ['default', 33434, 'yes'],
      ['icmp', 1, 'ping_group_range'],
      ['tcp', 80, 'no'],
      ['udp', 53, 'yes'],
    ]);
    expect(probeMethod('tcp')!.options.map((o) => o.name)).toEqual(['sysctl', 'mss=NUM', 'info']);
  });

  it('lays packets out as traceroute counts them: packetlen includes the IP header', () => {
    // UDP: 8 bytes of header the kernel writes; 32 bytes of data by default (60-byte packets over IPv4)
    expect(sizedLayout(4, 8, 0, -1)).toEqual({ headerLen: 28, dataLen: 32, methodBytes: 0, sized: true });
    expect(sizedLayout(6, 8, 0, -1)).toEqual({ headerLen: 48, dataLen: 32, methodBytes: 0, sized: true });
    expect(sizedLayout(4, 8, 0, 100)).toEqual({ headerLen: 28, dataLen: 72, methodBytes: 0, sized: true });
    // shorter than the headers: no data at all
    expect(sizedLayout(4, 8, 0, 10).dataLen).toBe(0);
    // ICMP: its 8-byte header counts as data, and there is always room for it
    expect(sizedLayout(4, 0, 8, -1)).toEqual({ headerLen: 20, dataLen: DEF_DATA_LEN, methodBytes: 8, sized: true });
    expect(sizedLayout(4, 0, 8, 20).dataLen).toBe(8);
    expect(sizedLayout(6, 0, 8, 100).dataLen).toBe(60);
    expect([ipHeaderLen(4), ipHeaderLen(6)]).toEqual([20, 40]);
  });

  it('a -O word a method does not have is bad input, before any socket opens', () => {
    const o = { target: '192.0.2.1', family: 4 as const, packetLen: -1 };
    for (const name of ['default', 'udp', 'icmp']) {
      expect(() => probeMethod(name)!.open({ ...o, methodOptions: ['info'] })).toThrow(new UsageError(`the ${name} method has no option \`info'`));
    }
    for (const word of ['ack', 'mss=x', 'mss=70000']) {
      expect(() => probeMethod('tcp')!.open({ ...o, methodOptions: [word] })).toThrow(UsageError);
    }
  });
});
