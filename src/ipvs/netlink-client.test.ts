// The host kernel has generic netlink but no IPVS: opening the client must say so.
import { describe, expect, it } from '@jest/globals';
import { NetlinkIpvsClient } from './netlink-client.ts';

describe('NetlinkIpvsClient on a kernel without IPVS', () => {
  it('rejects with EAFNOSUPPORT and a hint to load ip_vs', async () => {
    if (process.env.IPVS_PROXY_SANDBOX) return; // inside the sandbox IPVS exists; this case is for the host
    await expect(NetlinkIpvsClient.open()).rejects.toMatchObject({ code: 'EAFNOSUPPORT', message: expect.stringContaining('ip_vs') as unknown });
  });
});
