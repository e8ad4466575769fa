import { FakeIpvs } from '../../src/ipvs/fake-client.ts';
import { describeIpvsContract } from './ipvs-client.contract.ts';

describeIpvsContract('FakeIpvs', { fresh: () => Promise.resolve(new FakeIpvs()) });
