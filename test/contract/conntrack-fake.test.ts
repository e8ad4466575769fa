import { FakeConntrack } from '../../src/conntrack/fake-client.ts';
import { describeConntrackContract } from './conntrack-client.contract.ts';

const fake = new FakeConntrack();

describeConntrackContract('FakeConntrack', {
  client: () => Promise.resolve(fake),
  insert: async (flows) => { for (const f of flows) await fake.insert(f); },
});
