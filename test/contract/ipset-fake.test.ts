// SPDX-License-Identifier: Apache-2.0
import { FakeIpset } from '../../src/ipset/fake-client.ts';
import { describeIpsetContract } from './ipset-client.contract.ts';

const referenced = new Set<string>();

describeIpsetContract('FakeIpset', {
  fresh: () => {
    referenced.clear();
    return Promise.resolve(new FakeIpset({ isReferenced: (name) => referenced.has(name) }));
  },
  reference: (name) => { referenced.add(name); return Promise.resolve(); },
  unreference: (name) => { referenced.delete(name); return Promise.resolve(); },
});
