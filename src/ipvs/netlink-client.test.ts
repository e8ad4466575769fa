// Opening the client on the host (unit tests run only on the host). Our
// development and CI hosts have generic netlink but no IPVS: opening must say
// so. On a host that has IPVS, opening must work instead.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { NetlinkIpvsClient } from './netlink-client.ts';

describe('NetlinkIpvsClient.open on the host kernel', () => {
  it('rejects with EAFNOSUPPORT and a hint to load ip_vs when the kernel has no IPVS', async () => {
    const open = NetlinkIpvsClient.open();
    if (existsSync('/proc/net/ip_vs')) {
      (await open).close();
    } else {
      await expect(open).rejects.toMatchObject({ code: 'EAFNOSUPPORT', message: expect.stringContaining('ip_vs') as unknown });
    }
  });
});
