// The long-running agent: informers feed the cluster state, the sync loop
// drives the kernel stages, metrics and health follow every sync. Wiring only;
// each piece is tested on its own. Stopping never touches kernel state, so a
// restart does not disturb traffic.

import type { KubeConfig, V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { splitHostPort } from '../config/addresses.ts';
import type { ProxyConfig } from '../config/types.ts';
import { ServiceHealthServer } from '../healthcheck/service-health.ts';
import { ConntrackCleaner } from '../conntrack/cleaner.ts';
import { ExecConntrack } from '../conntrack/exec-client.ts';
import { conntrackCleanupRequired } from '../conntrack/plan.ts';
import { ClusterInformers } from '../informers/cluster-informers.ts';
import type { Retained, RetainedService } from '../informers/retain.ts';
import type { Backend } from '../iptables/types.ts';
import { type TableEntry, toJson } from '../ipvs/format.ts';
import { readTable } from '../ipvs/table.ts';
import type { RealServerStatus, VirtualServerStatus } from '../ipvs/types.ts';
import { isNotFound } from '../netlink/errors.ts';
import { ClusterState, objectId } from '../model/cluster-state.ts';
import { buildLocalNode, fromNode, type LocalNode } from '../model/node.ts';
import { type Warning, formatWarning } from '../model/types.ts';
import { readHostAddresses } from '../netif/host-addresses.ts';
import { startHealthServer } from '../observability/health-server.ts';
import type { Listening } from '../observability/http-listen.ts';
import { startMetricsServer } from '../observability/metrics-server.ts';
import { type ProxyMetrics, createProxyMetrics, ownersFromDesiredState } from '../observability/metrics.ts';
import { type NodeStatus, ProxyHealth } from '../observability/proxy-health.ts';
import { localReadyEndpoints } from '../reconciler/local-endpoints.ts';
import { PackedVirtualServer } from '../reconciler/packed-virtual-server.ts';
import type { DesiredState } from '../reconciler/types.ts';
import { type SyncReport, SyncEngine } from './engine.ts';
import { type Kernel, hostFamilies, openKernel } from './kernel.ts';
import { type Explanation, type ServiceView, desiredView, diffViews } from './explain.ts';
import { SyncLoop } from './sync-loop.ts';

export interface AgentOptions {
  readonly config: ProxyConfig;
  readonly kubeConfig: KubeConfig;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly iptablesBackend?: Backend;
  /** How often drained real servers are checked (kube-proxy: 1 minute). */
  readonly drainCheckMs?: number;
}

function hostPort(addr: string, fallbackPort: number): { host: string; port: number } {
  const hp = splitHostPort(addr);
  if (!hp) return { host: addr || '0.0.0.0', port: fallbackPort };
  return { host: hp.host.replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(hp.port) || fallbackPort };
}

/** The running agent. */
export class Agent {
  readonly metrics: ProxyMetrics;
  readonly engine: SyncEngine;
  readonly state: ClusterState;
  private readonly o: AgentOptions;
  private readonly log: Logger;
  private readonly kernel: Kernel;
  private readonly loop: SyncLoop;
  private readonly informers: ClusterInformers;
  private readonly health: ProxyHealth;
  private readonly serviceHealth: ServiceHealthServer;
  private readonly servers: Listening[] = [];
  private nodeObject: V1Node | null = null;
  private hostAddresses: string[];
  private node: LocalNode;
  /** Trigger times (ms) of EndpointSlice changes not yet programmed. */
  private triggers: number[] = [];
  private readonly warned = new Set<string>();
  private trafficTimer: ReturnType<typeof setInterval> | null = null;
  private healthCheckPorts = 0;
  private healthPortsChanged = false;
  /** A UDP Service port changed since the last cleanup of stale UDP conntrack flows. */
  private udpChanged = false;
  /** A conntrack cleanup is running (they never overlap; a change meanwhile waits for the next sync). */
  private cleaning = false;
  private readonly conntrack: ConntrackCleaner;
  private syncs = 0;

  private constructor(o: AgentOptions, kernel: Kernel, hostAddresses: string[]) {
    this.o = o;
    this.log = o.logger.child({ component: 'agent' });
    this.kernel = kernel;
    this.hostAddresses = hostAddresses;
    this.node = this.buildNode();
    this.state = new ClusterState();
    this.metrics = createProxyMetrics({ defaultMetrics: true, traffic: o.config.trafficMetrics });
    this.health = new ProxyHealth({
      healthTimeoutMs: 2 * o.config.ipvs.syncPeriodMs,
      now: () => Date.now(),
      node: (): NodeStatus | null => (this.nodeObject ? {
        deletionTimestamp: this.nodeObject.metadata?.deletionTimestamp ? String(this.nodeObject.metadata.deletionTimestamp) : null,
        taints: (this.nodeObject.spec?.taints ?? []).map((t) => ({ key: t.key })),
      } : null),
    });
    this.serviceHealth = new ServiceHealthServer({ bindAddresses: ['0.0.0.0'], proxyHealthy: () => this.health.health().healthy, logger: o.logger });
    this.engine = new SyncEngine({ state: this.state, node: this.node, config: o.config, stages: kernel.stages, logger: o.logger });
    this.conntrack = new ConntrackCleaner(new ExecConntrack(), o.logger, { families: kernel.families.map((f) => (f === 'IPv4' ? 'inet' : 'inet6')) });
    this.loop = new SyncLoop({
      engine: this.engine,
      logger: o.logger,
      syncPeriodMs: o.config.ipvs.syncPeriodMs,
      minSyncPeriodMs: o.config.ipvs.minSyncPeriodMs,
      drainCheckMs: o.drainCheckMs ?? 60_000,
      checkDraining: () => kernel.ipvs.checkDraining(),
      onSync: (r) => this.afterSync(r),
      onQueued: () => {
        this.metrics.syncQueued(kernel.families, Date.now() / 1000);
        for (const f of kernel.families) this.health.queuedUpdate(f);
      },
    });
    this.informers = new ClusterInformers({
      kubeConfig: o.kubeConfig,
      nodeName: o.nodeName,
      logger: o.logger,
      handler: {
        onServiceChange: (old, cur) => this.onService(old, cur),
        onEndpointSliceChange: (old, cur, t) => this.onSlice(old, cur, t),
        onNodeChange: (n) => this.onNode(n),
        onSynced: () => {
          for (const f of kernel.families) this.health.updated(f);
          this.log.info({ services: this.state.serviceCount }, 'Services and EndpointSlices listed; starting to sync');
          this.loop.start();
        },
      },
    });
  }

  /**
   * Opens the kernel (rejects with a KernelError when a capability is missing:
   * nothing is written then), starts the metrics and health servers (rejects if
   * a port cannot be bound) and the informers. The first sync runs once
   * Services and EndpointSlices have both been listed.
   */
  static async start(o: AgentOptions): Promise<Agent> {
    const kernel = await openKernel({ config: o.config, families: hostFamilies(), logger: o.logger, ...(o.iptablesBackend ? { iptablesBackend: o.iptablesBackend } : {}) });
    let agent: Agent | undefined;
    try {
      agent = new Agent(o, kernel, await readHostAddresses());
      await agent.startServers();
      agent.informers.start();
      if (o.config.trafficMetrics.enabled) agent.trafficTimer = setInterval(() => { void agent?.updateTraffic(); }, 15_000);
      return agent;
    } catch (err) {
      if (agent) await agent.stop(); else kernel.close();
      throw err;
    }
  }

  /** Waits until Services and EndpointSlices were listed and the first sync ran, or `timeoutMs` passed. */
  async waitForFirstSync(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.syncs > 0) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  /** Stops informers, timers and servers. Kernel state is left exactly as it is. */
  async stop(): Promise<void> {
    if (this.trafficTimer) clearInterval(this.trafficTimer);
    await this.informers.stop();
    await this.loop.stop();
    await this.serviceHealth.close();
    await Promise.all(this.servers.map((s) => s.close()));
    this.kernel.close();
    this.log.info({}, 'stopped; kernel state left in place');
  }

  /**
   * /debug/state: with `?service=ns/name`, that Service's desired and actual
   * kernel state and their difference (what `ipvs-proxy explain` prints);
   * otherwise a summary of the agent.
   */
  async debugState(query: URLSearchParams = new URLSearchParams()): Promise<unknown> {
    const service = query.get('service');
    const desired = this.engine.desired();
    if (service) return this.explain(desired, service);
    return {
      node: { name: this.node.name, addresses: this.node.localAddresses, families: this.kernel.families },
      syncs: this.syncs,
      pendingServicePorts: this.engine.pendingCount,
      drainingRealServers: this.kernel.ipvs.drainingCount,
      iptablesBackend: this.kernel.iptablesBackend,
      families: desired.families.map((f) => ({
        family: f.family, virtualServers: f.virtualServers.size, addresses: f.addresses.length,
        ipsetEntries: f.ipsets.reduce((n, s) => n + s.entries.length, 0),
      })),
    };
  }

  private async explain(desired: DesiredState, service: string): Promise<Explanation> {
    const { ports, vsKeys, view } = desiredView(desired, service);
    const table: TableEntry<VirtualServerStatus, RealServerStatus>[] = [];
    const wanted = new Map(desired.families.flatMap((f) => [...f.virtualServers.entries()]));
    for (const key of vsKeys) {
      const id = wanted.get(key)?.virtualServer;
      if (!id) continue;
      try {
        const vs = await this.kernel.ipvsClient.getVirtualServer(id);
        table.push({ virtualServer: vs, realServers: await this.kernel.ipvsClient.listRealServers(vs) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const sets = await this.kernel.ipsetClient.list();
    const present = new Set(sets.flatMap((s) => s.entries.map((e) => `${s.name} ${e}`)));
    const link = await this.kernel.netifClient.getLink('kube-ipvs0').catch(() => null);
    const bound = link ? new Set((await this.kernel.netifClient.listAddresses({ ifindex: link.index })).map((a) => a.address)) : new Set<string>();
    const actual: ServiceView = {
      virtualServers: toJson(table).virtualServers,
      setEntries: view.setEntries.filter((e) => present.has(`${e.set} ${e.entry}`)),
      addresses: view.addresses.filter((a) => bound.has(a)),
    };
    return { service, servicePorts: ports, desired: view, actual, differences: diffViews(view, actual) };
  }

  private async startServers(): Promise<void> {
    const c = this.o.config;
    const m = hostPort(c.metricsBindAddress, 10249);
    if (m.port !== 0) {
      this.servers.push(await startMetricsServer({
        host: m.host, port: m.port, registry: this.metrics.registry, logger: this.o.logger,
        debugState: (q) => this.debugState(q), configz: () => c,
      }));
    }
    const h = hostPort(c.healthzBindAddress, 10256);
    if (h.port !== 0) {
      this.servers.push(await startHealthServer({ host: h.host, port: h.port, health: this.health, metrics: this.metrics, logger: this.o.logger }));
    }
  }

  private buildNode(): LocalNode {
    return buildLocalNode({
      name: this.o.nodeName,
      info: this.nodeObject ? fromNode(this.nodeObject).node : null,
      localAddresses: this.hostAddresses,
      bindAddress: this.o.config.bindAddress,
      ipFamilies: this.kernel.families,
    });
  }

  private warn(key: string, warnings: readonly Warning[]): void {
    if (warnings.length === 0 || this.warned.has(key)) return;
    this.warned.add(key);
    for (const w of warnings) this.log.warn({ object: w.object, field: w.field }, formatWarning(w));
  }

  // `old` is the informer's small record of the previous version (id, resourceVersion, health-check port).
  private onService(old: RetainedService | null, cur: V1Service | null): void {
    const change = cur ? this.state.upsertService(cur) : this.state.deleteService(objectId({ metadata: old }));
    if (cur) this.warn(`${objectId(cur)}@${cur.metadata?.resourceVersion ?? ''}`, change.warnings);
    this.engine.markChanged(change.keys);
    // A health-check node port came, went or moved: open/close listeners after the sync.
    if (cur?.spec?.healthCheckNodePort || old?.healthCheckNodePort) this.healthPortsChanged = true;
    this.metrics.serviceChanged();
    this.loop.trigger();
  }

  private onSlice(old: Retained | null, cur: V1EndpointSlice | null, triggerTimeMs: number | null): void {
    const change = cur ? this.state.upsertSlice(cur) : this.state.deleteSlice(objectId({ metadata: old }));
    if (cur) this.warn(`${objectId(cur)}@${cur.metadata?.resourceVersion ?? ''}`, change.warnings);
    if (triggerTimeMs !== null) this.triggers.push(triggerTimeMs);
    this.engine.markChanged(change.keys);
    // kube-proxy cleans UDP conntrack after syncs in which a UDP port's endpoints changed.
    if (conntrackCleanupRequired(change.keys)) this.udpChanged = true;
    this.metrics.endpointsChanged();
    this.loop.trigger();
  }

  private onNode(node: V1Node | null): void {
    const before = JSON.stringify(this.nodeObject?.metadata?.labels ?? {}) + JSON.stringify(this.nodeObject?.spec?.podCIDRs ?? []);
    this.nodeObject = node;
    const after = JSON.stringify(node?.metadata?.labels ?? {}) + JSON.stringify(node?.spec?.podCIDRs ?? []);
    // Topology hints depend on the node's labels: a change re-decides every endpoint (full sync).
    if (before !== after) {
      this.node = this.buildNode();
      this.engine.setNode(this.node);
      this.loop.trigger();
    }
  }

  private afterSync(r: SyncReport): void {
    this.syncs++;
    const now = Date.now();
    const ok = this.metrics.observeSync({ mode: r.mode, families: this.kernel.families, durationSeconds: r.durationMs / 1000, results: r.results, nowSeconds: now / 1000 });
    if (r.failed) this.metrics.syncFailed(r.failed.subsystem);
    if (!ok) return;
    for (const f of this.kernel.families) this.health.updated(f);
    for (const t of this.triggers) {
      for (const f of this.kernel.families) this.metrics.observeNetworkProgramming(f, Math.max(0, now - t) / 1000);
    }
    this.triggers = [];
    this.metrics.setPending({ services: 0, endpoints: this.engine.pendingCount });
    // Health-check node ports and their local endpoint counts need the whole desired
    // state: on full syncs, and on partial ones only when such ports exist or changed.
    const desired = r.desired ?? (this.healthCheckPorts > 0 || this.healthPortsChanged ? this.engine.desired() : null);
    this.healthPortsChanged = false;
    if (desired) void this.afterDesired(desired);
    if (this.udpChanged && !this.cleaning) {
      this.udpChanged = false;
      this.cleaning = true;
      void this.cleanConntrack().finally(() => { this.cleaning = false; });
    }
  }

  /** Per-family gauges and health-check node ports from a materialized desired state. */
  private async afterDesired(desired: DesiredState): Promise<void> {
    const ports = new Map<string, number>();
    for (const f of desired.families) {
      this.metrics.setNoLocalEndpoints(f.family, f.noLocalEndpoints);
      let real = 0;
      // Count packed lists without building a RealServer object per entry.
      for (const v of f.virtualServers.values()) real += v instanceof PackedVirtualServer ? v.targets.length : v.realServers.length;
      this.metrics.setIpvsObjects(f.family, { virtualServers: f.virtualServers.size, realServers: real });
      for (const [svc, port] of f.healthCheckNodePorts) ports.set(svc, port);
    }
    this.healthCheckPorts = ports.size;
    try {
      const sync = await this.serviceHealth.sync(ports, localReadyEndpoints(this.state.snapshot(), this.o.nodeName, this.kernel.families));
      for (const f of sync.failed) this.log.warn({ service: f.service, port: f.port, err: f.error }, 'cannot serve health check node port');
    } catch (err) {
      this.log.warn({ err }, 'health check node ports failed');
    }
  }

  /** kube-proxy's CleanStaleEntries after a sync that changed UDP Service ports. Never rejects. */
  private async cleanConntrack(): Promise<void> {
    const r = await this.conntrack.cleanup(this.state.snapshot());
    for (const f of r.families) this.metrics.observeConntrackCleanup(f.family === 'inet' ? 'IPv4' : 'IPv6', f.durationMs / 1000, f.deleted);
  }

  private async updateTraffic(): Promise<void> {
    try {
      this.metrics.updateTraffic(await readTable(this.kernel.ipvsClient), ownersFromDesiredState(this.engine.desired()));
    } catch (err) {
      this.log.warn({ err }, 'reading IPVS traffic counters failed');
    }
  }
}
