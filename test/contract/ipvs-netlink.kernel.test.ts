import { afterAll } from '@jest/globals';
import { NetlinkIpvsClient } from '../../src/ipvs/netlink-client.ts';
import { describeIpvsContract } from './ipvs-client.contract.ts';

let client: NetlinkIpvsClient | undefined;
const defaults = { tcp: 900, tcpFin: 120, udp: 300 };

describeIpvsContract('netlink client on the real kernel', {
  async fresh() {
    client ??= await NetlinkIpvsClient.open();
    await client.flush();
    await client.setTimeouts(defaults);
    return client;
  },
});

afterAll(async () => {
  await client?.flush();
  client?.close();
});
