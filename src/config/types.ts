// The proxy configuration the reconciler reads, with kube-proxy's defaults
// (kubeproxy.config.k8s.io/v1alpha1 defaults.go and cmd/kube-proxy). A later
// issue fills it from command-line flags too; the YAML parser lives in
// kube-proxy-config.ts.

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
  readonly syncPeriodMs: number;
  readonly minSyncPeriodMs: number;
  /** IPVS connection timeouts; 0 leaves the kernel's value. */
  readonly tcpTimeoutMs: number;
  readonly tcpFinTimeoutMs: number;
  readonly udpTimeoutMs: number;
}

/** The proxy configuration (the fields of KubeProxyConfiguration we use). */
export interface ProxyConfig {
  /** Node name to use instead of the host name ("" = unset). */
  readonly hostnameOverride: string;
  /** kube-proxy's bindAddress: in IPVS mode only the node's primary IP. */
  readonly bindAddress: string;
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
}

/** kube-proxy's defaults for every field. */
export const defaultProxyConfig: ProxyConfig = Object.freeze({
  hostnameOverride: '',
  bindAddress: '0.0.0.0',
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
} satisfies ProxyConfig);
