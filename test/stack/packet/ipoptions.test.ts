import { describe, expect, it } from 'vitest';
import { parseIPv4 } from '../../../src/stack/packet/addr.js';
import { IPOPT_LSRR, IPOPT_SSRR, ipOptionItems, recordRouteOption, sourceRouteOption, timestampOption } from '../../../src/stack/packet/ipoptions.js';
import { lcg, randomBytes } from '../../helpers/fuzz.js';

const a4 = (s: string) => parseIPv4(s)!;

describe('ipoptions (RFC 791 3.1)', () => {
  it('builds the record-route option iputils sends: NOP, RR, length 39, pointer 4, room for 9 addresses', () => {
    const b = recordRouteOption();
    expect(b.length).toBe(40);
    expect([...b.subarray(0, 4)]).toEqual([1, 7, 39, 4]);
    expect(b.subarray(4).every((x) => x === 0)).toBe(true);
  });

  it('builds the timestamp options: tsonly 40 bytes, tsandaddr 36, tsprespec the hops each with its slot', () => {
    expect([...timestampOption('tsonly').subarray(0, 4)]).toEqual([68, 40, 5, 0]);
    expect(timestampOption('tsonly').length).toBe(40);
    expect([...timestampOption('tsandaddr').subarray(0, 4)]).toEqual([68, 36, 5, 1]);
    const pre = timestampOption('tsprespec', ['192.0.2.1', '192.0.2.18']);
    expect(pre.toString('hex')).toBe('4414' + '0503' + 'c0000201' + '00000000' + 'c0000212' + '00000000');
  });

  it('builds source routes with the hops then the destination, padded to 4 bytes (sock -g / -G)', () => {
    const loose = sourceRouteOption(false, [a4('192.0.2.1')], a4('198.51.100.7'));
    expect(loose.toString('hex')).toBe('830b04' + 'c0000201' + 'c6336407' + '00');
    expect(sourceRouteOption(true, [], a4('203.0.113.9'))[0]).toBe(IPOPT_SSRR);
    expect(loose[0]).toBe(IPOPT_LSRR);
  });

  it('walks what it built: the source route as pr_options reads it, record route, timestamps', () => {
    const sr = sourceRouteOption(true, [a4('192.0.2.1'), a4('192.0.2.18')], a4('198.51.100.7'));
    // iputils reads a source route from the pointer byte on: the pointer (4) and the first 3 bytes make the first "address"
    expect(ipOptionItems(sr)).toEqual([{ kind: 'srr', strict: true, addresses: ['4.192.0.2', '1.192.0.2', '18.198.51.100'] }]);
    expect(ipOptionItems(recordRouteOption())).toEqual([{ kind: 'nop' }]);
    expect(ipOptionItems(timestampOption('tsonly'))).toEqual([]);
    // a filled record route, then the same again: "(same route)"
    const rr = recordRouteOption();
    rr[3] = 12;
    a4('192.0.2.1').copy(rr, 4);
    a4('192.0.2.18').copy(rr, 8);
    const memory = { last: null };
    expect(ipOptionItems(rr, memory)).toEqual([{ kind: 'nop' }, { kind: 'rr', same: false, addresses: ['192.0.2.1', '192.0.2.18'] }]);
    expect(ipOptionItems(rr, memory)).toEqual([{ kind: 'nop' }, { kind: 'rr', same: true, addresses: [] }]);
  });

  it('never throws on damaged options; reads only the slots the pointer says are used', () => {
    const rand = lcg(12);
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(rand, rand() % 44);
      expect(() => ipOptionItems(b, { last: null })).not.toThrow();
    }
    // a pointer past the option's length counts up to the length: one stamp here
    expect(ipOptionItems(Buffer.from([68, 8, 13, 0, 0, 0, 0, 9]))).toEqual([{ kind: 'ts', flags: 0, entries: [{ stamp: 9, standard: true }] }]);
    // a length past the bytes there are ends the walk
    expect(ipOptionItems(Buffer.from([1, 68, 40, 5]))).toEqual([{ kind: 'nop' }]);
  });
});
