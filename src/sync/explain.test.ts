import { describe, expect, it } from '@jest/globals';
import { defaultProxyConfig } from '../config/types.ts';
import { service, slice } from '../model/builders.ts';
import { buildLocalNode } from '../model/node.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import { buildDesiredState } from '../reconciler/build.ts';
import { desiredView, diffViews, keyOfService, renderExplanation } from './explain.ts';

const node = buildLocalNode({ name: 'n1', localAddresses: ['192.168.1.10'], ipFamilies: ['IPv4'] });
const { snapshot } = buildSnapshot(
  [service('ns/web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
    service('ns/webber', { clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80 }] })],
  [slice('ns/web', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.0.5', node: 'n1', ready: true }] })],
);
const state = buildDesiredState(snapshot, node, defaultProxyConfig);

describe('explain', () => {
  it('matches keys of exactly one Service', () => {
    expect(keyOfService('ns/web:http/TCP', 'ns/web')).toBe(true);
    expect(keyOfService('ns/web/TCP', 'ns/web')).toBe(true);
    expect(keyOfService('ns/webber:http/TCP', 'ns/web')).toBe(false);
  });

  it("collects a Service's virtual servers, set entries and addresses", () => {
    const { ports, vsKeys, view } = desiredView(state, 'ns/web');
    expect(ports).toEqual(['ns/web:http/TCP']);
    expect(vsKeys.sort()).toEqual(['TCP/10.96.0.10:80', 'TCP/192.168.1.10:30080']);
    expect(view.addresses).toEqual(['10.96.0.10']);
    expect(view.setEntries).toEqual(expect.arrayContaining([{ set: 'KUBE-CLUSTER-IP', entry: '10.96.0.10,tcp:80' }, { set: 'KUBE-NODE-PORT-TCP', entry: '30080' }]));
  });

  it('reports nothing when the kernel matches, and each kind of difference when not', () => {
    const { view } = desiredView(state, 'ns/web');
    expect(diffViews(view, view)).toEqual([]);
    const [vs0, vs1] = view.virtualServers;
    const actual = {
      virtualServers: [{ ...vs0!, scheduler: 'wlc', realServers: [{ ...vs0!.realServers[0]!, weight: 0 }, { ...vs0!.realServers[0]!, address: '10.244.9.9', weight: 0 }] }],
      setEntries: view.setEntries.slice(1),
      addresses: [],
    };
    const diff = diffViews(view, actual);
    expect(diff).toEqual([
      'virtual server TCP 10.96.0.10:80: scheduler is wlc, want rr',
      'virtual server TCP 10.96.0.10:80: real server 10.244.0.5:8080 has weight 0 masq, want 1 masq',
      'virtual server TCP 10.96.0.10:80: real server 10.244.9.9:8080 not desired (weight 0: draining until its connections end)',
      `virtual server TCP ${vs1!.address}:30080: missing from the kernel`,
      `ipset ${view.setEntries[0]!.set}: entry ${view.setEntries[0]!.entry} missing`,
      'kube-ipvs0: address 10.96.0.10 not bound',
    ]);
    const text = renderExplanation({ service: 'ns/web', servicePorts: ['ns/web:http/TCP'], desired: view, actual, differences: diff });
    expect(text).toContain('  differences:\n    virtual server TCP 10.96.0.10:80: scheduler is wlc, want rr');
  });

  it('says when the agent does not know the Service', () => {
    const empty = { virtualServers: [], setEntries: [], addresses: [] };
    expect(renderExplanation({ service: 'ns/gone', servicePorts: [], desired: empty, actual: empty, differences: [] })).toMatch(/not known/);
  });
});
