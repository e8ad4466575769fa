// The proxy configuration, with kube-proxy's defaults (kubeproxy.config.k8s.io/
// v1alpha1 defaults.go, cmd/kube-proxy options). The reconciler reads the
// Kubernetes-facing fields; the agent reads the rest (listeners, sync periods,
// conntrack sysctls, API client). kube-proxy-config.ts parses a
// KubeProxyConfiguration file, kube-proxy-flags.ts the command line, load.ts
// combines them with kube-proxy's precedence.

/** How kube-proxy tells pod traffic from other traffic (--detect-local-mode). */
export type DetectLocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix';

/** Every DetectLocalMode, for validation. */
export const detectLocalModes: readonly DetectLocalMode[] = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'];

/** The `ipvs:` section. Durations are in milliseconds. */
export interface IpvsConfig {
  /** Global IPVS scheduler; kube-proxy uses `rr` when empty. */
  readonly scheduler: string;
  /** CIDRs whose virtual servers are never deleted as stale. */
  readonly excludeCIDRs: readonly string[];
  readonly strictARP: boolean;
  /** Full resync period; /healthz turns stale after twice this with a change pending. */
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  /** IPVS connection timeouts; 0 leaves the kernel's value. */
  readonly tcpTimeoutMs: number;
  readonly tcpFinTimeoutMs: number;
  readonly udpTimeoutMs: number;
}

/** The `conntrack:` section (sysctls kube-proxy sets at startup). Durations in ms; 0 leaves the kernel's value. */
export interface ConntrackConfig {
  /** nf_conntrack_max = max(maxPerCore × CPUs, min); 0 leaves the limit alone. */
  readonly maxPerCore: number;
  readonly min: number;
  readonly tcpEstablishedTimeoutMs: number;
  readonly tcpCloseWaitTimeoutMs: number;
  readonly tcpBeLiberal: boolean;
  readonly udpTimeoutMs: number;
  readonly udpStreamTimeoutMs: number;
}

/** The `clientConnection:` section: how to reach the API server. */
export interface ClientConnectionConfig {
  /** Path of a kubeconfig file; empty means in-cluster configuration. */
  readonly kubeconfig: string;
  readonly acceptContentTypes: string;
  readonly contentType: string;
  readonly qps: number;
  readonly burst: number;
}

/** The `logging:` section and the logging flags (`-v`, `--logging-format`, ...). */
export interface LoggingConfig {
  /** klog verbosity (`-v`); 0 = info, ≥ 4 debug, ≥ 6 trace in our pino mapping. */
  readonly verbosity: number;
  /** `text` or `json` (we always log JSON lines; the value is kept for compatibility). */
  readonly format: string;
  readonly flushFrequencyMs: number;
}

/** ipvs-proxy's opt-in per-Service / per-backend traffic metrics (our flags, not kube-proxy's). */
export interface TrafficMetricsConfig {
  readonly enabled: boolean;
  /** Most series exported; Services beyond it are dropped (and counted). */
  readonly maxSeries: number;
}

/** The proxy configuration (every KubeProxyConfiguration field that applies to IPVS mode, plus ours). */
export interface ProxyConfig {
  /** Always `ipvs`: the only mode ipvs-proxy implements. */
  readonly mode: 'ipvs';
  /** Node name to use instead of the host name ("" = unset). */
  readonly hostnameOverride: string;
  /** kube-proxy's bindAddress: in IPVS mode only the node's primary IP. */
  readonly bindAddress: string;
  /** host:port of /healthz and /livez; "" disables the server. */
  readonly healthzBindAddress: string;
  /** host:port of /metrics; "" disables the server. */
  readonly metricsBindAddress: string;
  /** Exit when the healthz or metrics listener cannot bind. */
  readonly bindAddressHardFail: boolean;
  /** Pod CIDRs of the cluster (at most one per family), for detectLocalMode ClusterCIDR. */
  readonly clusterCIDRs: readonly string[];
  readonly detectLocalMode: DetectLocalMode;
  readonly bridgeInterface: string;
  readonly interfaceNamePrefix: string;
  /** CIDRs NodePorts listen on, or `["primary"]`; empty means every local address. */
  readonly nodePortAddresses: readonly string[];
  /** SNAT all traffic to cluster IPs. */
  readonly masqueradeAll: boolean;
  /** Bit of the fwmark that marks packets for SNAT (0-31). */
  readonly masqueradeBit: number;
  readonly ipvs: IpvsConfig;
  readonly conntrack: ConntrackConfig;
  /** Informer resync period. */
  readonly configSyncPeriodMs: number;
  readonly clientConnection: ClientConnectionConfig;
  readonly oomScoreAdj: number;
  readonly enableProfiling: boolean;
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly logging: LoggingConfig;
  readonly trafficMetrics: TrafficMetricsConfig;
}

/** kube-proxy's ports: ports.ProxyHealthzPort and ports.ProxyStatusPort. */
export const proxyHealthzPort = 10256;
export const proxyMetricsPort = 10249;

/** kube-proxy's defaults for every field. */
export const defaultProxyConfig: ProxyConfig = Object.freeze({
  mode: 'ipvs',
  hostnameOverride: '',
  bindAddress: '0.0.0.0',
  healthzBindAddress: `0.0.0.0:${proxyHealthzPort}`,
  metricsBindAddress: `127.0.0.1:${proxyMetricsPort}`,
  bindAddressHardFail: false,
  clusterCIDRs: [],
  detectLocalMode: 'ClusterCIDR',
  bridgeInterface: '',
  interfaceNamePrefix: '',
  nodePortAddresses: [],
  masqueradeAll: false,
  masqueradeBit: 14,
  ipvs: Object.freeze({
    scheduler: 'rr',
    excludeCIDRs: [],
    strictARP: false,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 0,
    tcpTimeoutMs: 0,
    tcpFinTimeoutMs: 0,
    udpTimeoutMs: 0,
  }),
  conntrack: Object.freeze({
    maxPerCore: 32 * 1024,
    min: 128 * 1024,
    tcpEstablishedTimeoutMs: 24 * 3_600_000,
    tcpCloseWaitTimeoutMs: 3_600_000,
    tcpBeLiberal: false,
    udpTimeoutMs: 0,
    udpStreamTimeoutMs: 0,
  }),
  configSyncPeriodMs: 15 * 60_000,
  clientConnection: Object.freeze({
    kubeconfig: '',
    acceptContentTypes: '',
    contentType: 'application/vnd.kubernetes.protobuf',
    qps: 5,
    burst: 10,
  }),
  // qos.KubeProxyOOMScoreAdj
  oomScoreAdj: -999,
  enableProfiling: false,
  featureGates: Object.freeze({}),
  logging: Object.freeze({ verbosity: 0, format: 'text', flushFrequencyMs: 5000 }),
  trafficMetrics: Object.freeze({ enabled: false, maxSeries: 10_000 }),
} satisfies ProxyConfig);

/** One invalid field or flag: its path (`ipvs.syncPeriod`, `--ipvs-sync-period`) and why. */
export interface ConfigError {
  readonly field: string;
  readonly message: string;
}

/** `field: message` for humans. */
export function formatConfigError(e: ConfigError): string {
  return `${e.field}: ${e.message}`;
}
