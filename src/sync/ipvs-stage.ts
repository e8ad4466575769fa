import type { IpvsApplier, IpvsScope } from '../ipvs/applier.ts';
import type { VirtualServerEntry } from '../ipvs/diff.ts';
import type { FamilyDelta } from '../reconciler/incremental.ts';
import type { DesiredState } from '../reconciler/types.ts';
import type { ApplyResult } from './apply-result.ts';
import type { Stage } from './engine.ts';

/** The IPVS scopes of a desired state (one per family it runs). */
export function ipvsScopes(state: DesiredState): IpvsScope[] {
  return state.families.map((f) => ({
    family: f.family === 'IPv4' ? 'inet' : 'inet6',
    virtualServers: f.virtualServers,
    excludeCIDRs: f.excludeCIDRs,
  }));
}

/** Drives an IpvsApplier as a sync stage. */
export function ipvsStage(applier: IpvsApplier, cleanupScopes: () => Pick<IpvsScope, 'family' | 'excludeCIDRs'>[]): Stage {
  return {
    subsystem: 'ipvs',
    full: (state: DesiredState): Promise<ApplyResult> => applier.applyFull(ipvsScopes(state)),
    partial: (deltas: readonly FamilyDelta[]): Promise<ApplyResult> => {
      const changes = new Map<string, VirtualServerEntry | null>();
      for (const d of deltas) for (const [k, v] of d.virtualServers) changes.set(k, v);
      return applier.applyDelta(changes);
    },
    cleanup: (): Promise<ApplyResult> => applier.cleanup(cleanupScopes()),
  };
}
