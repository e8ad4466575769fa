// Warnings for a KubeProxyConfiguration: fields v1alpha1 does not know (kube-proxy's
// strict decoding fails on them and it falls back to lenient decoding), and
// fields that only matter to kube-proxy's other modes or platforms, when set to
// a value that would have had an effect there. Defaults written out by
// `kube-proxy --write-config-to` or kubeadm stay silent.

import { parseDuration } from './duration.ts';

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** true: a leaf; 'any': a mapping whose content we do not check; an object: a section. */
type Schema = { readonly [key: string]: true | 'any' | Schema };

/** The v1alpha1 KubeProxyConfiguration fields (staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go). */
const schema: Schema = {
  apiVersion: true, kind: true, featureGates: 'any',
  clientConnection: { kubeconfig: true, acceptContentTypes: true, contentType: true, qps: true, burst: true },
  logging: { format: true, flushFrequency: true, verbosity: true, vmodule: true, options: 'any' },
  hostnameOverride: true, bindAddress: true, healthzBindAddress: true, metricsBindAddress: true,
  bindAddressHardFail: true, enableProfiling: true, showHiddenMetricsForVersion: true, mode: true,
  iptables: { masqueradeAll: true, masqueradeBit: true, localhostNodePorts: true, syncPeriod: true, minSyncPeriod: true },
  ipvs: {
    syncPeriod: true, minSyncPeriod: true, scheduler: true, excludeCIDRs: true, strictARP: true,
    tcpTimeout: true, tcpFinTimeout: true, udpTimeout: true,
  },
  nftables: { masqueradeAll: true, masqueradeBit: true, syncPeriod: true, minSyncPeriod: true },
  winkernel: 'any', detectLocalMode: true, detectLocal: { bridgeInterface: true, interfaceNamePrefix: true },
  clusterCIDR: true, nodePortAddresses: true, oomScoreAdj: true,
  conntrack: {
    maxPerCore: true, min: true, tcpEstablishedTimeout: true, tcpCloseWaitTimeout: true, tcpBeLiberal: true,
    udpTimeout: true, udpStreamTimeout: true,
  },
  configSyncPeriod: true, portRange: true, windowsRunAsService: true,
};

function walkUnknown(o: Obj, s: Schema, prefix: string, out: string[]): void {
  for (const [key, value] of Object.entries(o)) {
    const path = `${prefix}${key}`;
    const sub = s[key];
    if (sub === undefined) out.push(`${path}: unknown field, ignored (kube-proxy decodes such a file leniently and ignores it too)`);
    else if (typeof sub === 'object' && isObj(value)) walkUnknown(value, sub, `${path}.`, out);
  }
}

/** One warning per field the v1alpha1 schema does not have, in document order. Pure. */
export function unknownFieldWarnings(doc: Obj): string[] {
  const out: string[] = [];
  walkUnknown(doc, schema, '', out);
  return out;
}

const section = (doc: Obj, key: string): Obj => (isObj(doc[key]) ? doc[key] : {});

/** Whether a duration field holds something other than unset, 0 or one of `defaults`. */
function durationSet(v: unknown, defaults: readonly number[]): boolean {
  if (typeof v !== 'string') return false;
  const ms = parseDuration(v);
  return ms !== null && ms !== 0 && !defaults.includes(ms);
}

const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== false && v !== '' && v !== 0;

function otherModeWarnings(doc: Obj): string[] {
  const out: string[] = [];
  const ipt = section(doc, 'iptables');
  if (durationSet(ipt.syncPeriod, [30_000])) out.push('iptables.syncPeriod: applies to iptables mode only; IPVS mode uses ipvs.syncPeriod');
  if (durationSet(ipt.minSyncPeriod, [1000])) out.push('iptables.minSyncPeriod: applies to iptables mode only; IPVS mode uses ipvs.minSyncPeriod');
  if (ipt.localhostNodePorts === false) out.push('iptables.localhostNodePorts: applies to iptables mode only (IPVS mode never accepts NodePorts on localhost)');
  const nft = section(doc, 'nftables');
  if (nft.masqueradeAll === true) out.push('nftables.masqueradeAll: applies to nftables mode only; IPVS mode uses iptables.masqueradeAll');
  if (typeof nft.masqueradeBit === 'number' && nft.masqueradeBit !== 14) out.push('nftables.masqueradeBit: applies to nftables mode only; IPVS mode uses iptables.masqueradeBit');
  if (durationSet(nft.syncPeriod, [30_000]) || durationSet(nft.minSyncPeriod, [1000])) out.push('nftables: sync periods apply to nftables mode only; IPVS mode uses the ipvs section');
  const win = section(doc, 'winkernel');
  if (Object.values(win).some(truthy) || doc.windowsRunAsService === true) out.push('winkernel: applies to Windows only; ignored');
  return out;
}

/** Warnings for settings that have no effect in ipvs-proxy's IPVS mode. Pure. */
export function notApplicableWarnings(doc: Obj): string[] {
  const out = otherModeWarnings(doc);
  if (truthy(doc.portRange)) out.push('portRange: has no effect (it belonged to the removed userspace proxy)');
  if (truthy(doc.showHiddenMetricsForVersion)) out.push('showHiddenMetricsForVersion: has no effect in ipvs-proxy (no hidden metrics)');
  if (doc.enableProfiling === true) out.push('enableProfiling: has no effect in ipvs-proxy (no /debug/pprof)');
  if (isObj(doc.featureGates) && Object.keys(doc.featureGates).length > 0) out.push('featureGates: Kubernetes feature gates have no effect in ipvs-proxy');
  return out;
}
