// host_serv: names and services to socket addresses.
import { describe, expect, it } from 'vitest';
import * as C from '../../src/stack/constants.js';
import { hostServ, isResolveError, servPort } from '../../src/stack/hostserv.js';

describe('servPort', () => {
  it('reads numbers and /etc/services names', () => {
    expect(servPort('7')).toBe(7);
    expect(servPort('65535')).toBe(65535);
    expect(servPort('65536')).toBeNull();
    expect(servPort('echo')).toBe(7);
    expect(servPort('daytime', 'udp')).toBe(13);
    expect(servPort('no-such-service')).toBeNull();
    expect(servPort('-1')).toBeNull();
  });
});

describe('hostServ', () => {
  it('takes literals as they are, in canonical form, with the port', async () => {
    expect(await hostServ('127.0.0.1', 7)).toEqual([{ family: C.AF_INET, address: '127.0.0.1', port: 7 }]);
    expect(await hostServ('0:0::1', 9)).toEqual([{ family: C.AF_INET6, address: '::1', port: 9, scopeid: 0 }]);
    expect(await hostServ('fe80::1%1', 9)).toEqual([{ family: C.AF_INET6, address: 'fe80::1', port: 9, scopeid: 1 }]);
  });

  it('refuses a literal of the other family, as getaddrinfo does', async () => {
    await expect(hostServ('::1', 7, 4)).rejects.toMatchObject({ code: 'EAI_ADDRFAMILY', message: 'Address family for hostname not supported' });
  });

  it('resolves names through getaddrinfo (/etc/hosts)', async () => {
    const all = await hostServ('localhost', 13);
    expect(all.map((a) => a.address)).toContain('127.0.0.1');
    expect(all.every((a) => a.port === 13)).toBe(true);
  });

  it("fails with gai_strerror's text", async () => {
    const e = await hostServ('no-such-host.invalid', 7).catch((x: unknown) => x);
    expect(isResolveError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'EAI_NONAME', message: 'Name or service not known' });
  });
});
