import { describe, expect, it } from 'vitest';
import { annotate, describe4, describe6, icmpErrno } from '../../../src/stack/packet/icmp-names.js';

describe('icmp-names', () => {
  it('names ICMP errors by the errno the kernel reports for them (ping_err, icmpv6_err_convert)', () => {
    expect(icmpErrno(4, 11, 0)).toBe('EHOSTUNREACH');
    expect(icmpErrno(4, 3, 0)).toBe('ENETUNREACH');
    expect(icmpErrno(4, 3, 3)).toBe('ECONNREFUSED');
    expect(icmpErrno(4, 3, 4)).toBe('EMSGSIZE');
    expect(icmpErrno(4, 3, 7)).toBe('EHOSTDOWN');
    expect(icmpErrno(4, 3, 99)).toBe('EHOSTUNREACH');
    expect(icmpErrno(4, 12, 0)).toBe('EPROTO');
    expect(icmpErrno(4, 4, 0)).toBeNull(); // source quench is no error
    expect(icmpErrno(6, 1, 1)).toBe('EACCES');
    expect(icmpErrno(6, 1, 4)).toBe('ECONNREFUSED');
    expect(icmpErrno(6, 2, 0)).toBe('EMSGSIZE');
    expect(icmpErrno(6, 3, 0)).toBe('EHOSTUNREACH');
    expect(icmpErrno(6, 128, 0)).toBeNull();
  });

  it('words them as iputils and annotates them as traceroute does', () => {
    expect(describe4(11, 0, 0)).toBe('Time to live exceeded');
    expect(describe4(3, 4, 1400)).toBe('Frag needed and DF set (mtu = 1400)');
    expect(describe6(3, 0, 0)).toBe('Time exceeded: Hop limit');
    expect(annotate(4, 3, 1, 0)).toBe('!H');
    expect(annotate(4, 11, 0, 0)).toBeNull();
  });
});
