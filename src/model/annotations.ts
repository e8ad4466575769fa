// Our per-Service IPVS settings. kube-proxy has none (every virtual server gets
// the global --ipvs-scheduler, and real servers are always masq), so these live
// under our own prefix. Invalid values become warnings and the global default.

import { schedulers } from '../ipvs/types.ts';
import type { ForwardChoice, IpvsOverrides, Warning } from './types.ts';

/** The prefix of every annotation we read. */
export const annotationPrefix = 'ipvs-proxy.io/';

/** IPVS scheduler for every virtual server of the Service (`rr`, `wrr`, `lc`, `sh`, `mh`, ...). */
export const schedulerAnnotation = `${annotationPrefix}scheduler`;
/** Comma-separated scheduler flags in ipvsadm's names (`sh-port,sh-fallback`, `mh-port`, `flag-1`, `onepacket`). */
export const schedulerFlagsAnnotation = `${annotationPrefix}scheduler-flags`;
/** Forwarding method to real servers behind externalIPs and LoadBalancer IPs: `masq`, `droute` or `tunnel`. */
export const forwardMethodAnnotation = `${annotationPrefix}forward-method`;

/** Every flag name the scheduler-flags annotation accepts (which ones apply depends on the scheduler). */
export const knownFlagNames: readonly string[] = [
  'sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3', 'onepacket',
];

const forwardChoices: readonly ForwardChoice[] = ['masq', 'droute', 'tunnel'];

/** No overrides: every setting from the global configuration. */
export const noOverrides: IpvsOverrides = { scheduler: null, schedulerFlags: null, forward: null };

/**
 * Reads our annotations from a Service's annotations. Never throws: an invalid
 * value is reported in `warnings` (naming `object` and the annotation) and
 * yields null for that setting, i.e. the global default.
 */
export function parseIpvsAnnotations(
  annotations: Readonly<Record<string, unknown>> | undefined,
  object: string,
  warnings: Warning[],
): IpvsOverrides {
  if (!annotations) return noOverrides;
  const field = (key: string): string => `metadata.annotations[${key}]`;
  const warn = (key: string, message: string): void => { warnings.push({ object, field: field(key), message }); };

  let scheduler: string | null = null;
  const rawSched = annotations[schedulerAnnotation];
  if (rawSched !== undefined) {
    const s = typeof rawSched === 'string' ? rawSched.trim() : '';
    if ((schedulers as readonly string[]).includes(s)) scheduler = s;
    else warn(schedulerAnnotation, `${JSON.stringify(rawSched)} is not an IPVS scheduler (one of ${schedulers.join(', ')}); using the global scheduler`);
  }

  let schedulerFlags: string[] | null = null;
  const rawFlags = annotations[schedulerFlagsAnnotation];
  if (rawFlags !== undefined) {
    const names = typeof rawFlags === 'string' ? rawFlags.split(',').map((n) => n.trim()).filter((n) => n !== '') : null;
    const unknown = names ? names.filter((n) => !knownFlagNames.includes(n)) : [];
    if (names && unknown.length === 0) schedulerFlags = [...new Set(names)];
    else warn(schedulerFlagsAnnotation, `${JSON.stringify(rawFlags)} is not a comma-separated list of ${knownFlagNames.join(', ')}; using the default flags`);
  }

  let forward: ForwardChoice | null = null;
  const rawFwd = annotations[forwardMethodAnnotation];
  if (rawFwd !== undefined) {
    const f = typeof rawFwd === 'string' ? rawFwd.trim() : '';
    if ((forwardChoices as readonly string[]).includes(f)) forward = f as ForwardChoice;
    else warn(forwardMethodAnnotation, `${JSON.stringify(rawFwd)} is not one of ${forwardChoices.join(', ')}; using masq`);
  }

  if (scheduler === null && schedulerFlags === null && forward === null) return noOverrides;
  return { scheduler, schedulerFlags, forward };
}
