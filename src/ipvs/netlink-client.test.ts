// The host kernel (unit tests run only on the host) has generic netlink but no IPVS:
// opening the client must say so.
import { describe, expect, it } from '@jest/globals';
import { NetlinkIpvsClient } from './netlink-client.ts';

describe('NetlinkIpvsClient on a kernel without IPVS', () => {
  it('rejects with EAFNOSUPPORT and a hint to load ip_vs', async () => {
    await expect(NetlinkIpvsClient.open()).rejects.toMatchObject({ code: 'EAFNOSUPPORT', message: expect.stringContaining('ip_vs') as unknown });
  });
});
