import { describe, expect, it } from '@jest/globals';
import { type EndpointSpec, service, slice } from '../model/builders.ts';
import { buildSnapshot } from '../model/snapshot.ts';
import { localReadyEndpoints } from './local-endpoints.ts';

const ep = (ip: string, node: string, ready: boolean, terminating = false): EndpointSpec => ({ ip, node, ready, serving: ready || terminating, terminating });

const web = service('default/web', { type: 'LoadBalancer', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }], etp: 'Local', healthCheckNodePort: 30000 });
const dual = service('default/dual', { clusterIPs: ['10.96.0.11', 'fd00::11'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ port: 80 }] });

describe('localReadyEndpoints (kube-proxy LocalReadyEndpoints)', () => {
  it.each([
    {
      name: 'counts ready endpoints on this node only',
      endpoints: [ep('10.0.1.1', 'node-a', true), ep('10.0.1.2', 'node-a', true), ep('10.0.1.3', 'node-b', true)],
      want: [['default/web', 2]],
    },
    {
      name: 'terminating and not-ready local endpoints do not count',
      endpoints: [ep('10.0.1.1', 'node-a', false, true), ep('10.0.1.2', 'node-a', false)],
      want: [],
    },
    {
      name: 'endpoints without a node are not local',
      endpoints: [{ ip: '10.0.1.1', ready: true }],
      want: [],
    },
  ])('$name', ({ endpoints, want }) => {
    const { snapshot } = buildSnapshot([web], [slice('default/web', { ports: [{ name: 'http', port: 8080 }], endpoints })]);
    expect([...localReadyEndpoints(snapshot, 'node-a')]).toEqual(want);
  });

  it('counts an IP that serves several ports once', () => {
    const { snapshot } = buildSnapshot([web], [slice('default/web', {
      ports: [{ name: 'http', port: 8080 }, { name: 'https', port: 8443 }], endpoints: [ep('10.0.1.1', 'node-a', true)],
    })]);
    expect(localReadyEndpoints(snapshot, 'node-a')).toEqual(new Map([['default/web', 1]]));
  });

  it('counts the families asked for', () => {
    const { snapshot } = buildSnapshot([dual], [
      slice('default/dual', { ports: [{ port: 80 }], endpoints: [ep('10.0.1.1', 'node-a', true)] }),
      slice('default/dual', { ports: [{ port: 80 }], endpoints: [ep('fd00::1:1', 'node-a', true)] }),
    ]);
    expect(localReadyEndpoints(snapshot, 'node-a')).toEqual(new Map([['default/dual', 2]]));
    expect(localReadyEndpoints(snapshot, 'node-a', ['IPv6'])).toEqual(new Map([['default/dual', 1]]));
  });
});
