// SPDX-License-Identifier: Apache-2.0
import { ProcSysctl } from '../../src/netif/sysctl.ts';
import { describeSysctlContract } from './netif-sysctl.contract.ts';

describeSysctlContract('ProcSysctl on the real kernel', { fresh: () => Promise.resolve(new ProcSysctl()) });
