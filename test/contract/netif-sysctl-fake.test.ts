// SPDX-License-Identifier: Apache-2.0
import { FakeSysctl } from '../../src/netif/fake-sysctl.ts';
import { describeSysctlContract, writable } from './netif-sysctl.contract.ts';

describeSysctlContract('FakeSysctl', {
  fresh: () => Promise.resolve(new FakeSysctl({ 'kernel/osrelease': '6.1.176', [writable]: '0' })),
});
