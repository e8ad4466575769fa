// SPDX-License-Identifier: Apache-2.0
import { FakeNetif } from '../../src/netif/fake-client.ts';
import { describeNetifContract } from './netif-client.contract.ts';

describeNetifContract('FakeNetif', { fresh: () => Promise.resolve(new FakeNetif()) });
