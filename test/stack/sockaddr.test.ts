import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { native } from '../../src/stack/native/index.js';
import { decode, encode, socketEnd, type SockAddr } from '../../src/stack/sockaddr.js';

describe('sockaddr', () => {
  it('round-trips every family', () => {
    const cases: SockAddr[] = [
      { family: 2, address: '192.0.2.1', port: 7 },
      { family: 10, address: '2001:db8::1', port: 65535, flowinfo: 0x12345, scopeid: 3 },
      { family: 1, path: '/tmp/sockit.sock' },
      { family: 1, path: '\0abstract-name' },
      { family: 1, path: '' },
      { family: 16, pid: 1234, groups: 5 },
      { family: 17, protocol: 0x0800, ifindex: 2, hatype: 1, pkttype: 0, addr: Buffer.from([2, 0, 0, 0, 0, 1]) },
      { family: 0 },
    ];
    for (const sa of cases) expect(decode(encode(sa))).toEqual(sa);
  });

  it('lays out sockaddr_in and sockaddr_in6 as the kernel does', () => {
    expect(encode({ family: 2, address: '192.0.2.1', port: 0x1234 }).toString('hex')).toBe('0200' + '1234' + 'c0000201' + '0000000000000000');
    const b = encode({ family: 10, address: '::1', port: 80 });
    expect(b.length).toBe(28);
    expect(b.readUInt16BE(2)).toBe(80);
    expect(b[23]).toBe(1);
  });

  it('agrees with the kernel: what getsockname returns decodes to what bind was given', () => {
    const fd = native.socket(C.AF_INET6, C.SOCK_DGRAM, 0);
    try {
      native.bind(fd, { family: 10, address: '::1', port: 0 });
      const got = native.getsockname(fd);
      expect(got).toMatchObject({ family: 10, address: '::1', scopeid: 0 });
      expect((got as { port: number }).port).toBeGreaterThan(0);
    } finally {
      native.close(fd);
    }
    const u = native.socket(C.AF_UNIX, C.SOCK_DGRAM, 0);
    try {
      native.bind(u, { family: 1, path: `\0sockit-test-${process.pid}` });
      expect(native.getsockname(u)).toEqual({ family: 1, path: `\0sockit-test-${process.pid}` });
    } finally {
      native.close(u);
    }
  });

  it('rejects bad input on encode and short input on decode', () => {
    expect(() => encode({ family: 2, address: '999.0.0.1', port: 1 })).toThrow(TypeError);
    expect(() => encode({ family: 2, address: '192.0.2.1', port: 70000 })).toThrow(RangeError);
    expect(() => encode({ family: 1, path: 'x'.repeat(108) })).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(decode(Buffer.from([2, 0, 0]))).toBeNull();
    expect(decode(Buffer.from([99, 0, 0, 0]))).toBeNull();
  });
});

describe("socketEnd: a socket end in sockit(1)'s JSON vocabulary", () => {
  it('gives family 4/6/"unix", the address and port, a unix path (@ for abstract, null unnamed)', () => {
    // the addon's own decode of a kernel sockaddr, then the record
    const v4 = decode(encode({ family: 2, address: '192.0.2.1', port: 7 }))!;
    expect(socketEnd(v4)).toEqual({ family: 4, address: '192.0.2.1', port: 7 });
    const v6 = decode(encode({ family: 10, address: 'fe80::1', port: 9, scopeid: 2 }))!;
    expect(socketEnd(v6)).toEqual({ family: 6, address: 'fe80::1', port: 9, scope_id: 2 });
    expect(socketEnd({ family: 10, address: '2001:db8::1', port: 9, scopeid: 0 })).toEqual({ family: 6, address: '2001:db8::1', port: 9 });
    expect(socketEnd(decode(encode({ family: 1, path: '/run/x.sock' })))).toEqual({ family: 'unix', path: '/run/x.sock' });
    expect(socketEnd({ family: 1, path: '\0name' })).toEqual({ family: 'unix', path: '@name' });
    expect(socketEnd({ family: 1, path: '' })).toEqual({ family: 'unix', path: null });
    expect(socketEnd(null)).toBeNull();
    expect(socketEnd({ family: 16, pid: 0, groups: 0 })).toBeNull();
  });
});
