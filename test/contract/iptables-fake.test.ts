import { FakeIptables } from '../../src/iptables/fake-client.ts';
import type { IpFamily } from '../../src/iptables/types.ts';
import { describeIptablesContract } from './iptables-client.contract.ts';

const sets = new Set(['IPTC-SET4', 'IPTC-SET6']);
const clients = new Map<IpFamily, FakeIptables>();

describeIptablesContract('FakeIptables', {
  fresh(family) {
    // A new fake per test is the fake's "fresh": nothing to clean up.
    const c = new FakeIptables({ family, setExists: (n) => sets.has(n) });
    clients.set(family, c);
    return Promise.resolve(c);
  },
  existingSet: (family) => (family === 'IPv4' ? 'IPTC-SET4' : 'IPTC-SET6'),
});
