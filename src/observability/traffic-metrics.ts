// Opt-in per-Service and per-backend IPVS traffic metrics, from the kernel's
// IPVS counters (what kube-router and Seesaw export and kube-proxy does not).
// A Service port has several virtual servers (cluster IP, external and
// load-balancer IPs, one per node IP for a NodePort); their counters are summed
// per Service port, and per backend across them. Labels are bounded by a series
// cap: Service ports beyond it (in key order) are dropped whole and counted.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { TableEntry } from '../ipvs/format.ts';
import { type RealServerStatus, type VirtualServerStatus, realServerKey, virtualServerKey } from '../ipvs/types.ts';

/** The Service port a virtual server belongs to. */
export interface ServicePortRef {
  readonly namespace: string;
  readonly name: string;
  /** "" for an unnamed port. */
  readonly portName: string;
}

/** What one update exported. */
export interface TrafficUpdate {
  /** Label sets written (Service ports plus backends). */
  readonly series: number;
  /** Label sets left out because of the cap. */
  readonly dropped: number;
}

type SvcLabels = 'namespace' | 'service' | 'port_name';
type BackendLabels = SvcLabels | 'backend';

interface Totals {
  connections: number; packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number; active: number; inactive: number;
}

const zero = (): Totals => ({ connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, active: 0, inactive: 0 });

interface PortTotals {
  readonly ref: ServicePortRef;
  readonly total: Totals;
  readonly backends: Map<string, Totals>;
}

function addRealServer(t: Totals, rs: RealServerStatus): void {
  t.connections += rs.stats.connections;
  t.packetsIn += rs.stats.packetsIn;
  t.packetsOut += rs.stats.packetsOut;
  t.bytesIn += rs.stats.bytesIn;
  t.bytesOut += rs.stats.bytesOut;
  t.active += rs.activeConnections;
  t.inactive += rs.inactiveConnections;
}

const refKey = (r: ServicePortRef): string => `${r.namespace}/${r.name}:${r.portName}`;

/** Sums the kernel table per Service port; virtual servers without an owner are skipped. */
export function sumTraffic(
  table: readonly TableEntry<VirtualServerStatus, RealServerStatus>[], owners: ReadonlyMap<string, ServicePortRef>,
): PortTotals[] {
  const ports = new Map<string, PortTotals>();
  for (const { virtualServer, realServers } of table) {
    const ref = owners.get(virtualServerKey(virtualServer));
    if (!ref) continue;
    const k = refKey(ref);
    let p = ports.get(k);
    if (!p) ports.set(k, (p = { ref, total: zero(), backends: new Map() }));
    // Service totals come from the virtual server's own counters; active/inactive only exist per real server.
    p.total.connections += virtualServer.stats.connections;
    p.total.packetsIn += virtualServer.stats.packetsIn;
    p.total.packetsOut += virtualServer.stats.packetsOut;
    p.total.bytesIn += virtualServer.stats.bytesIn;
    p.total.bytesOut += virtualServer.stats.bytesOut;
    for (const rs of realServers) {
      p.total.active += rs.activeConnections;
      p.total.inactive += rs.inactiveConnections;
      const bk = realServerKey(rs);
      let b = p.backends.get(bk);
      if (!b) p.backends.set(bk, (b = zero()));
      addRealServer(b, rs);
    }
  }
  return [...ports.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

/** The traffic metric family, registered on one registry. */
export class TrafficMetrics {
  readonly #maxSeries: number;
  readonly #svc: { connections: Counter<SvcLabels>; packets: Counter<SvcLabels | 'direction'>; bytes: Counter<SvcLabels | 'direction'>; active: Gauge<SvcLabels>; inactive: Gauge<SvcLabels> };
  readonly #be: { connections: Counter<BackendLabels>; packets: Counter<BackendLabels | 'direction'>; bytes: Counter<BackendLabels | 'direction'>; active: Gauge<BackendLabels>; inactive: Gauge<BackendLabels> };
  readonly #dropped: Gauge;

  /** Registers the metrics on `registry`; throws if their names are taken there. */
  constructor(registry: Registry, maxSeries: number) {
    this.#maxSeries = maxSeries;
    const registers = [registry];
    const s = ['namespace', 'service', 'port_name'] as const;
    const b = [...s, 'backend'] as const;
    this.#svc = {
      connections: new Counter({ name: 'ipvsproxy_service_connections_total', help: 'Connections scheduled by IPVS for a Service port (all its virtual servers)', labelNames: s, registers }),
      packets: new Counter({ name: 'ipvsproxy_service_packets_total', help: 'Packets through the IPVS virtual servers of a Service port', labelNames: [...s, 'direction'] as const, registers }),
      bytes: new Counter({ name: 'ipvsproxy_service_bytes_total', help: 'Bytes through the IPVS virtual servers of a Service port', labelNames: [...s, 'direction'] as const, registers }),
      active: new Gauge({ name: 'ipvsproxy_service_active_connections', help: 'Active IPVS connections of a Service port', labelNames: s, registers }),
      inactive: new Gauge({ name: 'ipvsproxy_service_inactive_connections', help: 'Inactive IPVS connections of a Service port', labelNames: s, registers }),
    };
    this.#be = {
      connections: new Counter({ name: 'ipvsproxy_backend_connections_total', help: 'Connections IPVS scheduled to a backend of a Service port', labelNames: b, registers }),
      packets: new Counter({ name: 'ipvsproxy_backend_packets_total', help: 'Packets IPVS forwarded to and from a backend of a Service port', labelNames: [...b, 'direction'] as const, registers }),
      bytes: new Counter({ name: 'ipvsproxy_backend_bytes_total', help: 'Bytes IPVS forwarded to and from a backend of a Service port', labelNames: [...b, 'direction'] as const, registers }),
      active: new Gauge({ name: 'ipvsproxy_backend_active_connections', help: 'Active IPVS connections to a backend of a Service port', labelNames: b, registers }),
      inactive: new Gauge({ name: 'ipvsproxy_backend_inactive_connections', help: 'Inactive IPVS connections to a backend of a Service port', labelNames: b, registers }),
    };
    this.#dropped = new Gauge({ name: 'ipvsproxy_traffic_series_dropped', help: 'Service port and backend series left out of the traffic metrics by the series cap at the last update', registers });
  }

  /**
   * Replaces every traffic series with the kernel's current counters. Service
   * ports are taken in key order while their series (one for the port, one per
   * backend) fit under the cap; the rest are dropped and counted. Never throws.
   */
  update(table: readonly TableEntry<VirtualServerStatus, RealServerStatus>[], owners: ReadonlyMap<string, ServicePortRef>): TrafficUpdate {
    for (const m of [...Object.values(this.#svc), ...Object.values(this.#be)]) m.reset();
    let series = 0;
    let dropped = 0;
    for (const p of sumTraffic(table, owners)) {
      const need = 1 + p.backends.size;
      if (series + need > this.#maxSeries) {
        dropped += need;
        continue;
      }
      series += need;
      const l = { namespace: p.ref.namespace, service: p.ref.name, port_name: p.ref.portName };
      set(this.#svc, l, p.total);
      for (const [backend, t] of p.backends) set(this.#be, { ...l, backend }, t);
    }
    this.#dropped.set(dropped);
    return { series, dropped };
  }
}

interface Family<L extends string> {
  connections: Counter<L>; packets: Counter<L | 'direction'>; bytes: Counter<L | 'direction'>; active: Gauge<L>; inactive: Gauge<L>;
}

function set<L extends string>(f: Family<L>, labels: Record<L, string>, t: Totals): void {
  // Kernel counters are monotonic; after reset() an inc by the current value re-exports them as counters.
  f.connections.inc(labels, t.connections);
  f.packets.inc({ ...labels, direction: 'in' }, t.packetsIn);
  f.packets.inc({ ...labels, direction: 'out' }, t.packetsOut);
  f.bytes.inc({ ...labels, direction: 'in' }, t.bytesIn);
  f.bytes.inc({ ...labels, direction: 'out' }, t.bytesOut);
  f.active.set(labels, t.active);
  f.inactive.set(labels, t.inactive);
}
