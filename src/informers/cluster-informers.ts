// The agent's view of the cluster: Services and EndpointSlices filtered by
// kube-proxy's label selector, and the own Node by name. Every change reaches
// the consumer as (old, new) so it can tell which Service ports changed, `old`
// being the small record the informer keeps (retain.ts), not the whole object;
// `onSynced` fires once, when Services AND EndpointSlices have both been listed
// (nothing may be applied before: an empty list would delete everything).

import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import { Reflector, type ReflectorStats } from './reflector.ts';
import { type Retained, type RetainedService, retainService } from './retain.ts';
import { KUBE_PROXY_LABEL_SELECTOR, nodeFieldSelector } from './selectors.ts';
import { endpointSliceSource, nodeSource, serviceSource } from './sources.ts';
import { triggerTimeOf } from './trigger-time.ts';

/** What the sync loop implements. Handlers must not throw (a throw is logged and ignored). */
export interface ClusterChangeHandler {
  /**
   * A Service was added (old null), changed, or deleted (cur null). `old` is
   * what the informer kept of the previous version: id, resourceVersion and
   * health-check node port.
   */
  onServiceChange(old: RetainedService | null, cur: k8s.V1Service | null): void;
  /**
   * An EndpointSlice was added, changed or deleted; `old` is the previous
   * version's id and resourceVersion. `triggerTimeMs` is the new
   * slice's `endpoints.kubernetes.io/last-change-trigger-time` (ms since the
   * epoch), the start of network-programming latency; null when absent or deleted.
   */
  onEndpointSliceChange(old: Retained | null, cur: k8s.V1EndpointSlice | null, triggerTimeMs: number | null): void;
  /** The own Node appeared or changed (null: deleted or not present at list time). */
  onNodeChange(node: k8s.V1Node | null): void;
  /** Services and EndpointSlices have both been listed; called once. */
  onSynced(): void;
}

/** How to build the informers. */
export interface ClusterInformerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly nodeName: string;
  readonly handler: ClusterChangeHandler;
  readonly logger: Logger;
  /** Label selector for Services and EndpointSlices (default: kube-proxy's). */
  readonly labelSelector?: string;
  /** Backoff per resource (default 1 s doubling to 30 s). */
  readonly backoff?: () => Backoff;
  readonly watchTimeoutSeconds?: () => number;
}

/** Services, EndpointSlices and the own Node, listed and watched with retries. */
export class ClusterInformers {
  readonly services: Reflector<k8s.V1Service, RetainedService>;
  readonly endpointSlices: Reflector<k8s.V1EndpointSlice>;
  readonly node: Reflector<k8s.V1Node>;
  private servicesListed = false;
  private slicesListed = false;
  private syncedValue = false;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly handler: ClusterChangeHandler;
  private readonly log: Logger;

  constructor(opts: ClusterInformerOptions) {
    const kc = opts.kubeConfig;
    const selector = opts.labelSelector ?? KUBE_PROXY_LABEL_SELECTOR;
    const h = opts.handler;
    this.handler = h;
    this.log = opts.logger;
    const common = {
      logger: opts.logger,
      ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
    };
    const backoff = (): Backoff => opts.backoff?.() ?? new Backoff();
    this.services = new Reflector<k8s.V1Service, RetainedService>({
      ...common, ...serviceSource(kc, selector), name: 'services', backoff: backoff(), retain: retainService,
      handler: { onChange: (o, c) => h.onServiceChange(o, c), onListed: () => { this.servicesListed = true; this.checkSynced(); } },
    });
    this.endpointSlices = new Reflector<k8s.V1EndpointSlice>({
      ...common, ...endpointSliceSource(kc, selector), name: 'endpointslices', backoff: backoff(),
      handler: {
        onChange: (o, c) => h.onEndpointSliceChange(o, c, c ? triggerTimeOf(c) : null),
        onListed: () => { this.slicesListed = true; this.checkSynced(); },
      },
    });
    this.node = new Reflector<k8s.V1Node>({
      ...common, ...nodeSource(kc, nodeFieldSelector(opts.nodeName)), name: 'node', backoff: backoff(),
      handler: { onChange: (_o, c) => h.onNodeChange(c), onListed: () => {} },
    });
  }

  private checkSynced(): void {
    if (this.syncedValue || !this.servicesListed || !this.slicesListed) return;
    this.syncedValue = true;
    this.log.info({}, 'informers synced');
    try {
      this.handler.onSynced();
    } catch (err) {
      this.log.error({ err }, 'synced handler threw');
    }
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Whether Services and EndpointSlices have both been listed. */
  get synced(): boolean {
    return this.syncedValue;
  }

  /** Resolves true once synced, or false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.syncedValue) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.syncWaiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  /** Starts all three loops. Never throws. */
  start(): void {
    this.services.start();
    this.endpointSlices.start();
    this.node.start();
  }

  /** Stops all loops and open watches; resolves when they have ended. */
  async stop(): Promise<void> {
    await Promise.all([this.services.stop(), this.endpointSlices.stop(), this.node.stop()]);
  }

  /** Counters per resource. */
  stats(): Record<'services' | 'endpointSlices' | 'node', ReflectorStats> {
    return { services: this.services.stats, endpointSlices: this.endpointSlices.stats, node: this.node.stats };
  }
}
