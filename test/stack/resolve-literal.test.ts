// resolveHost answers a plain dotted quad itself: the same answer
// getaddrinfo(3) gives, without the thread pool.
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { binding } from '../../src/stack/native/index.js';
import { AI_CANONNAME, resolveHost } from '../../src/stack/resolve.js';
import * as sockaddr from '../../src/stack/sockaddr.js';

describe('resolveHost of an IPv4 literal', () => {
  it.each(['127.0.0.1', '192.0.2.7', '0.0.0.0', '255.255.255.255', '198.51.100.250'])('%s: what getaddrinfo says', async (host) => {
    for (const family of [0, 4] as const) {
      const ours = await resolveHost(host, family);
      const libc = await binding.getaddrinfo(host, family === 4 ? C.AF_INET : C.AF_UNSPEC, C.SOCK_DGRAM, AI_CANONNAME);
      expect(ours.canonname).toBe(libc.canonname);
      expect(ours.addresses).toEqual(libc.addresses.map((b) => ({ family: 4, address: (sockaddr.decode(b) as { address: string }).address })));
    }
  });

  it('leaves other spellings to getaddrinfo (octal, short forms), and IPv6 requests', async () => {
    // inet_aton: 010 is octal 8, 127.1 is 127.0.0.1
    expect((await resolveHost('10.0.0.010')).addresses).toEqual([{ family: 4, address: '10.0.0.8' }]);
    expect((await resolveHost('127.1')).addresses).toEqual([{ family: 4, address: '127.0.0.1' }]);
    await expect(resolveHost('127.0.0.1', 6)).rejects.toThrow();
  });
});
