// The desired virtual servers as the index keeps them between syncs. The real
// servers of one virtual server differ only in address and port (the family,
// weight, forwarding method, thresholds and tunnel are the same for all), so
// they are kept as two arrays and made into RealServer objects only when read.
// At 100,000 real servers that is ~1 MB instead of ~9 MB of RealServer objects;
// readers (the IPVS diff, plan, explain) read one virtual server at a time.

import type { Family, ForwardMethod, RealServer, Tunnel, VirtualServer } from '../ipvs/types.ts';
import type { Endpoint } from '../model/types.ts';
import type { DesiredVirtualServer } from './types.ts';

const noAddresses: readonly string[] = Object.freeze([]);
const noPorts: readonly number[] = Object.freeze([]);

/**
 * The real servers chosen for one selection of endpoints, shared by the
 * virtual servers of a port that use the same selection and forwarding.
 * Plain values only (no derived state), so two lists are equal exactly when
 * their fields are.
 */
export class RealServerList {
  readonly family: Family;
  readonly forward: ForwardMethod;
  readonly tunnel: Tunnel | null;
  /** Addresses in realServerKey order; `ports[i]` is the port of `addresses[i]`. */
  readonly addresses: readonly string[];
  readonly ports: readonly number[];

  constructor(family: Family, forward: ForwardMethod, tunnel: Tunnel | null, endpoints: readonly Endpoint[]) {
    this.family = family;
    this.forward = forward;
    this.tunnel = tunnel;
    this.addresses = endpoints.length === 0 ? noAddresses : endpoints.map((ep) => ep.address);
    this.ports = endpoints.length === 0 ? noPorts : endpoints.map((ep) => ep.port);
  }

  get length(): number {
    return this.addresses.length;
  }

  /** The real servers, as new objects (weight 1, no thresholds). */
  toRealServers(): RealServer[] {
    const out: RealServer[] = new Array<RealServer>(this.addresses.length);
    for (let i = 0; i < this.addresses.length; i++) {
      out[i] = {
        family: this.family, address: this.addresses[i]!, port: this.ports[i]!, weight: 1, forward: this.forward,
        upperThreshold: 0, lowerThreshold: 0, tunnel: this.tunnel,
      };
    }
    return out;
  }
}

/** Whether two lists make the same real servers. Pure. */
export function sameRealServerList(a: RealServerList, b: RealServerList): boolean {
  if (a === b) return true;
  if (a.family !== b.family || a.forward !== b.forward || a.length !== b.length) return false;
  if (a.tunnel !== b.tunnel && (!a.tunnel || !b.tunnel || a.tunnel.type !== b.tunnel.type
    || a.tunnel.port !== b.tunnel.port || a.tunnel.flags !== b.tunnel.flags)) return false;
  for (let i = 0; i < a.length; i++) if (a.addresses[i] !== b.addresses[i] || a.ports[i] !== b.ports[i]) return false;
  return true;
}

/**
 * A desired virtual server whose `realServers` are made from a RealServerList
 * on each read (a new array of new objects each time: read it once per use).
 * Its own fields are its whole value, so structural comparisons of two of
 * them (tests' toEqual, JSON) compare what the kernel would get.
 */
export class PackedVirtualServer implements DesiredVirtualServer {
  readonly virtualServer: VirtualServer;
  readonly targets: RealServerList;

  constructor(virtualServer: VirtualServer, targets: RealServerList) {
    this.virtualServer = virtualServer;
    this.targets = targets;
  }

  get realServers(): readonly RealServer[] {
    return this.targets.toRealServers();
  }
}

/** Whether two desired virtual servers are the same value. Pure. */
export function samePackedVirtualServer(a: PackedVirtualServer | undefined, b: PackedVirtualServer | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return sameRealServerList(a.targets, b.targets) && JSON.stringify(a.virtualServer) === JSON.stringify(b.virtualServer);
}
