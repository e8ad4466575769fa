// Adapters that drive each subsystem's applier as a sync stage.

import type { IpsetApplier } from '../ipset/applier.ts';
import type { IptablesApplier } from '../iptables/applier.ts';
import type { NetifApplier } from '../netif/applier.ts';
import type { DesiredAddresses } from '../netif/diff.ts';
import type { FamilyDelta } from '../reconciler/incremental.ts';
import { jumpRules } from '../reconciler/iptables.ts';
import type { DesiredState, SetEntry } from '../reconciler/types.ts';
import type { ApplyResult } from './apply-result.ts';
import type { Stage } from './engine.ts';

/** ipsets: the whole set list on full syncs, entry adds/deletes on partial ones. */
export function ipsetStage(applier: IpsetApplier): Stage {
  return {
    subsystem: 'ipset',
    full: (state: DesiredState): Promise<ApplyResult> => applier.applyFull(state.families.flatMap((f) => f.ipsets)),
    partial: (deltas: readonly FamilyDelta[]): Promise<ApplyResult> => {
      const adds: SetEntry[] = deltas.flatMap((d) => d.setAdds);
      const dels: SetEntry[] = deltas.flatMap((d) => d.setDels);
      return applier.applyDelta(adds, dels);
    },
    cleanup: (): Promise<ApplyResult> => applier.cleanup(),
  };
}

/** iptables: restore per family (skipped on partial syncs when the payload is unchanged). */
export function iptablesStage(applier: IptablesApplier): Stage {
  return {
    subsystem: 'iptables',
    full: (state: DesiredState): Promise<ApplyResult> => applier.apply(state.families, { full: true }),
    partial: (deltas: readonly FamilyDelta[]): Promise<ApplyResult> =>
      applier.apply(deltas.map((d) => ({ family: d.family, iptables: d.iptables, jumpRules })), { full: false }),
    cleanup: (): Promise<ApplyResult> => applier.cleanup(),
  };
}

/** kube-ipvs0 addresses and kernel settings. */
export function netifStage(applier: NetifApplier, strictARP: boolean): Stage {
  return {
    subsystem: 'netif',
    full: (state: DesiredState): Promise<ApplyResult> => {
      const addresses: Partial<Record<'IPv4' | 'IPv6', readonly string[]>> = {};
      for (const f of state.families) addresses[f.family] = f.addresses;
      const desired: DesiredAddresses = addresses;
      return applier.applyFull({ addresses: desired, strictARP });
    },
    partial: (deltas: readonly FamilyDelta[]): Promise<ApplyResult> =>
      applier.applyDelta(deltas.flatMap((d) => d.addressAdds), deltas.flatMap((d) => d.addressDels)),
    cleanup: (): Promise<ApplyResult> => applier.cleanup(),
  };
}
