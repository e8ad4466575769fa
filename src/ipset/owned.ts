// SPDX-License-Identifier: Apache-2.0
// Which sets are ours: kube-proxy's 17 set names in both families. The
// applier never writes or destroys any other set.

import { setInfos, setName } from '../reconciler/sets.ts';

/**
 * kube-proxy's set names for IPv4 and IPv6 (`KUBE-…` and `KUBE-6-…`, the
 * latter cut to 31 characters as kube-proxy cuts them), in kube-proxy's order.
 */
export function kubeProxySetNames(): string[] {
  return [...setInfos.map((i) => setName(i.base, 'IPv4')), ...setInfos.map((i) => setName(i.base, 'IPv6'))];
}
