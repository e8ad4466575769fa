// Scheduler, scheduler flags and forwarding method of one Service port's
// virtual servers: the global configuration, overridden by our annotations.

import type { ProxyConfig } from '../config/types.ts';
import { parseFlagNames } from '../ipvs/flags.ts';
import { type ForwardMethod, type Tunnel, VsFlag } from '../ipvs/types.ts';
import { schedulerFlagsAnnotation } from '../model/annotations.ts';
import type { ServicePort, Warning } from '../model/types.ts';

/** The IPVS settings of one Service port. */
export interface PortIpvsSettings {
  readonly scheduler: string;
  readonly flags: number;
  /** Forwarding method for externalIP and LoadBalancer real servers (cluster IP and NodePort are always masq). */
  readonly externalForward: ForwardMethod;
  readonly externalTunnel: Tunnel | null;
}

/** IPIP encapsulation, the kernel's default tunnel type. */
const ipip: Tunnel = { type: 'ipip', port: 0, flags: 0 };

/**
 * Resolves a port's settings. kube-proxy sets mh's source-hash flag (mh-port)
 * whenever the scheduler is mh; a scheduler-flags annotation replaces that
 * default. Flags that do not belong to the scheduler, or onepacket on a non-UDP
 * port (the kernel rejects it), give a warning and the default flags.
 */
export function resolveIpvsSettings(sp: ServicePort, config: ProxyConfig, warnings: Warning[]): PortIpvsSettings {
  const scheduler = sp.ipvs.scheduler ?? config.ipvs.scheduler;
  const defaultFlags = scheduler === 'mh' ? VsFlag.Sched2 : 0;
  let flags = defaultFlags;
  if (sp.ipvs.schedulerFlags) {
    const parsed = parseFlagNames(scheduler, sp.ipvs.schedulerFlags);
    const object = `Service ${sp.namespace}/${sp.name}`;
    const field = `metadata.annotations[${schedulerFlagsAnnotation}]`;
    if (parsed.unknown.length > 0) {
      warnings.push({ object, field, message: `${parsed.unknown.join(', ')} not valid for scheduler ${scheduler}; using the default flags` });
    } else if ((parsed.flags & VsFlag.OnePacket) !== 0 && sp.protocol !== 'UDP') {
      warnings.push({ object, field, message: `onepacket applies to UDP only; using the default flags for ${sp.protocol} port ${sp.port}` });
    } else {
      flags = parsed.flags;
    }
  }
  const externalForward: ForwardMethod = sp.ipvs.forward ?? 'masq';
  return { scheduler, flags, externalForward, externalTunnel: externalForward === 'tunnel' ? ipip : null };
}
