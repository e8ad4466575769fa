// The iptables contract against the real iptables-legacy / ip6tables-legacy in
// the sandbox kernel. Creates two ipsets (IPTC-SET4/6) and IPTC-* chains;
// removes all of them afterwards.
import { beforeAll } from '@jest/globals';
import { ExecIptables } from '../../src/iptables/exec-client.ts';
import type { IpFamily } from '../../src/iptables/types.ts';
import { run } from '../../src/sandbox/exec.ts';
import { describeIptablesContract, removeTestState } from './iptables-client.contract.ts';

const clients: Record<IpFamily, ExecIptables> = {
  IPv4: new ExecIptables({ family: 'IPv4', backend: 'legacy' }),
  IPv6: new ExecIptables({ family: 'IPv6', backend: 'legacy' }),
};

beforeAll(async () => {
  await run('ipset', ['restore', '-exist'], {
    input: 'create IPTC-SET4 hash:ip family inet\ncreate IPTC-SET6 hash:ip family inet6\n',
  });
}, 60_000);

describeIptablesContract('iptables-legacy in the kernel', {
  async fresh(family) {
    await removeTestState(clients[family]);
    return clients[family];
  },
  existingSet: (family) => (family === 'IPv4' ? 'IPTC-SET4' : 'IPTC-SET6'),
  async done() {
    await run('ipset', ['destroy', 'IPTC-SET4']);
    await run('ipset', ['destroy', 'IPTC-SET6']);
  },
});
