import { describe, expect, it } from '@jest/globals';
import type { VirtualServer } from '../ipvs/types.ts';
import { service, slice } from '../model/builders.ts';
import { family, runScenario } from './testing.ts';

// Virtual-server settings: session affinity on every virtual server of a port,
// the global scheduler with mh's source-hash flag, and our per-Service
// annotations (scheduler, scheduler flags, forwarding method).

const lb = (extra: Partial<Parameters<typeof service>[1]> = {}) => service('svc1', {
  type: 'LoadBalancer', clusterIP: '10.20.30.41', externalIPs: ['50.60.70.81'], lbIPs: ['1.2.3.4'],
  ports: [{ name: 'p', port: 80, nodePort: 3001 }], ...extra,
});

interface Case {
  name: string;
  extra?: Partial<Parameters<typeof service>[1]>;
  scheduler?: string;
  /** Expected fields on every virtual server. */
  every: Partial<VirtualServer>;
  /** Forwarding method of real servers: cluster IP / NodePort vs externalIP / LB. */
  forward?: { internal: string; external: string };
  warnings?: RegExp[];
}

const cases: Case[] = [
  {
    name: 'defaults: rr, no flags, no persistence, masq',
    every: { scheduler: 'rr', flags: 0, persistence: null },
    forward: { internal: 'masq', external: 'masq' },
  },
  {
    name: 'sessionAffinity ClientIP: persistence with the timeout on every virtual server',
    extra: { affinity: 10 },
    every: { persistence: { timeout: 10, prefixLength: 32 } },
  },
  {
    name: 'sessionAffinity ClientIP without a config: the API default 10800 s',
    extra: { affinity: null },
    every: { persistence: { timeout: 10800, prefixLength: 32 } },
  },
  {
    name: 'global scheduler mh: source-hash flag (mh-port) on every virtual server',
    scheduler: 'mh',
    every: { scheduler: 'mh', flags: 0x10 },
  },
  {
    name: 'scheduler annotation overrides the global scheduler',
    extra: { annotations: { 'ipvs-proxy.io/scheduler': 'wlc' } },
    every: { scheduler: 'wlc', flags: 0 },
  },
  {
    name: 'scheduler annotation mh gets mh-port by default',
    extra: { annotations: { 'ipvs-proxy.io/scheduler': 'mh' } },
    every: { scheduler: 'mh', flags: 0x10 },
  },
  {
    name: 'scheduler-flags annotation replaces the default flags',
    extra: { annotations: { 'ipvs-proxy.io/scheduler': 'sh', 'ipvs-proxy.io/scheduler-flags': 'sh-port, sh-fallback' } },
    every: { scheduler: 'sh', flags: 0x18 },
  },
  {
    name: 'scheduler-flags that do not fit the scheduler: warning, default flags',
    scheduler: 'mh',
    extra: { annotations: { 'ipvs-proxy.io/scheduler-flags': 'sh-port' } },
    every: { scheduler: 'mh', flags: 0x10 },
    warnings: [/scheduler-flags\]: sh-port not valid for scheduler mh; using the default flags/],
  },
  {
    name: 'onepacket on a TCP port: warning, default flags',
    extra: { annotations: { 'ipvs-proxy.io/scheduler-flags': 'onepacket' } },
    every: { flags: 0 },
    warnings: [/onepacket applies to UDP only/],
  },
  {
    name: 'invalid scheduler annotation: warning, global scheduler',
    extra: { annotations: { 'ipvs-proxy.io/scheduler': 'fastest' } },
    every: { scheduler: 'rr' },
    warnings: [/Service ns1\/svc1: metadata.annotations\[ipvs-proxy.io\/scheduler\]: "fastest" is not an IPVS scheduler/],
  },
  {
    name: 'forward-method droute: only externalIP and LB real servers; cluster IP and NodePort stay masq',
    extra: { annotations: { 'ipvs-proxy.io/forward-method': 'droute' } },
    every: {},
    forward: { internal: 'masq', external: 'droute' },
  },
  {
    name: 'forward-method tunnel (ipip)',
    extra: { annotations: { 'ipvs-proxy.io/forward-method': 'tunnel' } },
    every: {},
    forward: { internal: 'masq', external: 'tunnel' },
  },
  {
    name: 'invalid forward-method: warning, masq',
    extra: { annotations: { 'ipvs-proxy.io/forward-method': 'local' } },
    every: {},
    forward: { internal: 'masq', external: 'masq' },
    warnings: [/forward-method\]: "local" is not one of masq, droute, tunnel; using masq/],
  },
];

describe('virtual server settings', () => {
  it.each(cases)('$name', (c) => {
    const { state, warnings } = runScenario({
      services: [lb(c.extra)],
      slices: [slice('svc1', { ports: [{ name: 'p', port: 8080 }], endpoints: [{ ip: '10.180.0.1' }] })],
      nodeIPs: ['100.101.102.103'],
      config: { ipvs: { scheduler: c.scheduler ?? 'rr' } },
    });
    const vss = [...family(state).virtualServers.values()];
    expect(vss.map((v) => v.virtualServer.address).sort()).toEqual(['1.2.3.4', '10.20.30.41', '100.101.102.103', '50.60.70.81']);
    for (const { virtualServer } of vss) expect(virtualServer).toMatchObject(c.every);
    if (c.forward) {
      const fwd = (addr: string): string | undefined => vss.find((v) => v.virtualServer.address === addr)?.realServers[0]?.forward;
      expect({ clusterIP: fwd('10.20.30.41'), nodePort: fwd('100.101.102.103'), externalIP: fwd('50.60.70.81'), lb: fwd('1.2.3.4') })
        .toEqual({ clusterIP: c.forward.internal, nodePort: c.forward.internal, externalIP: c.forward.external, lb: c.forward.external });
    }
    if (c.forward?.external === 'tunnel') {
      expect(vss.find((v) => v.virtualServer.address === '1.2.3.4')?.realServers[0]?.tunnel).toEqual({ type: 'ipip', port: 0, flags: 0 });
    }
    expect(warnings).toHaveLength(c.warnings?.length ?? 0);
    for (const re of c.warnings ?? []) expect(warnings.some((w) => re.test(w))).toBe(true);
  });

  it('IPv6 persistence uses prefix length 128', () => {
    const { state } = runScenario({ services: [service('svc1', { clusterIP: 'fd00::1', ports: [{ name: 'p', port: 80 }], affinity: 60 })] });
    expect([...family(state, 'IPv6').virtualServers.values()][0]?.virtualServer.persistence).toEqual({ timeout: 60, prefixLength: 128 });
  });

  it('onepacket is accepted on a UDP port', () => {
    const { state, warnings } = runScenario({
      services: [service('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }], annotations: { 'ipvs-proxy.io/scheduler-flags': 'onepacket' } })],
    });
    expect(warnings).toEqual([]);
    expect(family(state).virtualServers.get('UDP/10.96.0.10:53')?.virtualServer.flags).toBe(0x4);
  });
});
