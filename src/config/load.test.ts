import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { splitArgs } from './flags.ts';
import { ConfigLoadError, type LoadedConfig, loadProxyConfig } from './load.ts';
import { type ProxyConfig, defaultProxyConfig, formatConfigError } from './types.ts';

const testdata = join(import.meta.dirname, 'testdata');
const files: Record<string, string> = {
  '/etc/kube-proxy/kubeadm.yaml': readFileSync(join(testdata, 'kubeadm-ipvs.yaml'), 'utf8'),
  '/etc/kube-proxy/tuned.yaml': readFileSync(join(testdata, 'tuned-ipvs.yaml'), 'utf8'),
  '/etc/kube-proxy/bad.yaml': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs: {syncPeriod: 10s, minSyncPeriod: 1m}\n',
  '/etc/kube-proxy/iptables.yaml': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n',
  '/etc/kube-proxy/extra.yaml': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs: {masqueradeAll: true}\niptables: {syncPeriod: 5s, localhostNodePorts: false}\nudpIdleTimeout: 250ms\n',
  '/etc/kube-proxy/v6.yaml': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nbindAddress: "fd00::10"\nmetricsBindAddress: "::"\n',
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return text;
};
const load = (argv: string[]): LoadedConfig => loadProxyConfig(argv, readFile);

function loadError(argv: string[]): ConfigLoadError {
  try {
    load(argv);
  } catch (err) {
    if (err instanceof ConfigLoadError) return err;
    throw err;
  }
  throw new Error(`expected ${argv.join(' ')} to fail`);
}

/** The kube-proxy command line of a tuned IPVS node (as in a DaemonSet's args). */
const tunedArgs = [
  '--proxy-mode=ipvs', '--hostname-override', 'Node-A', '--bind-address=192.168.0.10',
  '--metrics-bind-address=0.0.0.0', '--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf',
  '--cluster-cidr=10.244.0.0/16,fd00:10:244::/56', '--nodeport-addresses', '192.168.0.0/16',
  '--masquerade-all', '--iptables-masquerade-bit=15', '--ipvs-scheduler=wrr', '--ipvs-sync-period=1m',
  '--ipvs-min-sync-period', '5s', '--ipvs-exclude-cidrs=10.1.0.0/16', '--ipvs-exclude-cidrs=10.2.0.0/16',
  '--ipvs-strict-arp=true', '--ipvs-tcp-timeout=900s', '--ipvs-tcpfin-timeout=2m', '--ipvs-udp-timeout=5m',
  '--conntrack-max-per-core=0', '--conntrack-tcp-timeout-established=12h', '--config-sync-period=10m', '--v=2',
];

const tunedConfig: ProxyConfig = {
  ...defaultProxyConfig,
  hostnameOverride: 'node-a',
  bindAddress: '192.168.0.10',
  metricsBindAddress: '0.0.0.0:10249',
  clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'],
  nodePortAddresses: ['192.168.0.0/16'],
  masqueradeAll: true,
  masqueradeBit: 15,
  ipvs: {
    scheduler: 'wrr', excludeCIDRs: ['10.1.0.0/16', '10.2.0.0/16'], strictARP: true, syncPeriodMs: 60_000, minSyncPeriodMs: 5000,
    tcpTimeoutMs: 900_000, tcpFinTimeoutMs: 120_000, udpTimeoutMs: 300_000,
  },
  conntrack: { ...defaultProxyConfig.conntrack, maxPerCore: 0, tcpEstablishedTimeoutMs: 12 * 3_600_000 },
  configSyncPeriodMs: 600_000,
  clientConnection: { ...defaultProxyConfig.clientConnection, kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
  logging: { ...defaultProxyConfig.logging, verbosity: 2 },
};

describe('loadProxyConfig: kube-proxy command lines and files accepted unchanged', () => {
  it('gives kube-proxy\'s defaults for an empty command line', () => {
    expect(load([])).toEqual({ config: defaultProxyConfig, options: expect.objectContaining({ configFile: '', cleanup: false }), warnings: [] });
  });

  it('reads a typical IPVS command line', () => {
    const r = load(tunedArgs);
    expect(r.config).toEqual(tunedConfig);
    expect(r.warnings).toEqual([]);
  });

  it('reads the equivalent KubeProxyConfiguration file into the same settings', () => {
    const r = load(['--config=/etc/kube-proxy/tuned.yaml']);
    expect(r.config).toEqual(tunedConfig);
    expect(r.warnings).toEqual([]);
  });

  it('accepts kubeadm\'s ConfigMap with mode ipvs, zero values meaning kube-proxy\'s defaults', () => {
    const r = load(['--config', '/etc/kube-proxy/kubeadm.yaml', '--hostname-override=worker-1']);
    expect(r.warnings).toEqual([]);
    expect(r.config).toEqual({
      ...defaultProxyConfig,
      hostnameOverride: 'worker-1',
      clusterCIDRs: ['10.244.0.0/16'],
      clientConnection: { ...defaultProxyConfig.clientConnection, kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
    });
  });

  it('returns a frozen configuration', () => {
    const { config } = load(tunedArgs);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ipvs.excludeCIDRs)).toBe(true);
  });
});

describe('loadProxyConfig: pflag syntax', () => {
  it.each([
    { name: '--flag=value', argv: ['--ipvs-scheduler=lc'], pick: (c: ProxyConfig) => c.ipvs.scheduler, want: 'lc' },
    { name: '--flag value', argv: ['--ipvs-scheduler', 'lc'], pick: (c: ProxyConfig) => c.ipvs.scheduler, want: 'lc' },
    { name: 'underscores as dashes', argv: ['--ipvs_scheduler=sh'], pick: (c: ProxyConfig) => c.ipvs.scheduler, want: 'sh' },
    { name: 'bare boolean', argv: ['--masquerade-all'], pick: (c: ProxyConfig) => c.masqueradeAll, want: true },
    { name: 'boolean =false', argv: ['--masquerade-all', '--masquerade-all=false'], pick: (c: ProxyConfig) => c.masqueradeAll, want: false },
    { name: 'boolean in Go spelling', argv: ['--ipvs-strict-arp=T'], pick: (c: ProxyConfig) => c.ipvs.strictARP, want: true },
    { name: 'last scalar wins', argv: ['--ipvs-sync-period=10s', '--ipvs-sync-period=20s'], pick: (c: ProxyConfig) => c.ipvs.syncPeriodMs, want: 20_000 },
    { name: 'slices accumulate', argv: ['--ipvs-exclude-cidrs=10.0.0.0/8,172.16.0.0/12', '--ipvs-exclude-cidrs', '192.168.0.0/16'], pick: (c: ProxyConfig) => c.ipvs.excludeCIDRs, want: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
    { name: '-v N', argv: ['-v', '4'], pick: (c: ProxyConfig) => c.logging.verbosity, want: 4 },
    { name: '-v=N', argv: ['-v=5'], pick: (c: ProxyConfig) => c.logging.verbosity, want: 5 },
    { name: '-vN', argv: ['-v6'], pick: (c: ProxyConfig) => c.logging.verbosity, want: 6 },
    { name: '--v=N', argv: ['--v=3'], pick: (c: ProxyConfig) => c.logging.verbosity, want: 3 },
    { name: 'hex int', argv: ['--iptables-masquerade-bit=0x10'], pick: (c: ProxyConfig) => c.masqueradeBit, want: 16 },
    { name: 'nodeport-addresses primary', argv: ['--nodeport-addresses=primary'], pick: (c: ProxyConfig) => c.nodePortAddresses, want: ['primary'] },
    { name: 'metrics address without port gets 10249', argv: ['--metrics-bind-address=0.0.0.0'], pick: (c: ProxyConfig) => c.metricsBindAddress, want: '0.0.0.0:10249' },
    { name: 'empty metrics address disables', argv: ['--metrics-bind-address='], pick: (c: ProxyConfig) => c.metricsBindAddress, want: '' },
    { name: 'deprecated --healthz-port completes a bare IP', argv: ['--healthz-bind-address=0.0.0.0', '--healthz-port=12345'], pick: (c: ProxyConfig) => c.healthzBindAddress, want: '0.0.0.0:12345' },
    // AppendPortIfNeeded leaves an address that has a port alone, so like kube-proxy the default wins.
    { name: 'deprecated --healthz-port alone changes nothing', argv: ['--healthz-port=12345'], pick: (c: ProxyConfig) => c.healthzBindAddress, want: '0.0.0.0:10256' },
    { name: 'deprecated --metrics-port=0 disables', argv: ['--metrics-port=0'], pick: (c: ProxyConfig) => c.metricsBindAddress, want: '' },
    { name: 'traffic metrics opt-in', argv: ['--ipvs-traffic-metrics', '--ipvs-traffic-metrics-max-series=50'], pick: (c: ProxyConfig) => c.trafficMetrics, want: { enabled: true, maxSeries: 50 } },
    { name: 'feature gates merge', argv: ['--feature-gates=A=true,B=false', '--feature-gates=C=true'], pick: (c: ProxyConfig) => c.featureGates, want: { A: true, B: false, C: true } },
  ])('$name', ({ argv, pick, want }) => {
    expect(pick(load(argv).config)).toEqual(want);
  });

  it('stops at -- and reports what follows as arguments', () => {
    expect(splitArgs(['--a=1', '--', '--b'], [{ name: 'a', bool: false }, { name: 'b', bool: true }])).toEqual({
      flags: new Map([['a', ['1']]]), positional: ['--b'], errors: [],
    });
  });

  it('reads the options that are not configuration', () => {
    expect(load(['--cleanup', '--master=https://10.0.0.1:6443', '--init-only']).options).toEqual({
      configFile: '', writeConfigTo: '', cleanup: true, initOnly: true, master: 'https://10.0.0.1:6443', help: false, version: '',
    });
    expect(load(['--version']).options.version).toBe('true');
    expect(load(['-h']).options.help).toBe(true);
  });
});

describe('loadProxyConfig: precedence with --config (as kube-proxy)', () => {
  it('ignores configuration flags, with a warning naming the file field', () => {
    const r = load(['--config=/etc/kube-proxy/tuned.yaml', '--ipvs-scheduler=rr', '--kubeconfig=/other']);
    expect(r.config.ipvs.scheduler).toBe('wrr');
    expect(r.config.clientConnection.kubeconfig).toBe('/var/lib/kube-proxy/kubeconfig.conf');
    expect(r.warnings).toEqual([
      '--kubeconfig: ignored because --config is given (kube-proxy ignores it too); set clientConnection.kubeconfig in the file',
      '--ipvs-scheduler: ignored because --config is given (kube-proxy ignores it too); set ipvs.scheduler in the file',
    ]);
  });

  it('lets --hostname-override, the logging flags and our own flags win over the file', () => {
    const r = load(['--config=/etc/kube-proxy/tuned.yaml', '--hostname-override= Node-B ', '-v=6', '--ipvs-traffic-metrics']);
    expect(r.config.hostnameOverride).toBe('node-b');
    expect(r.config.logging.verbosity).toBe(6);
    expect(r.config.trafficMetrics.enabled).toBe(true);
    expect(r.warnings).toEqual([]);
  });

  it('defaults the listeners from an IPv6 bindAddress and appends the port to a bare IP', () => {
    const r = load(['--config=/etc/kube-proxy/v6.yaml']);
    expect(r.config.healthzBindAddress).toBe('[::]:10256');
    expect(r.config.metricsBindAddress).toBe('[::]:10249');
  });

  it('accepts unknown fields and settings of other modes with warnings', () => {
    const r = load(['--config=/etc/kube-proxy/extra.yaml']);
    expect(r.warnings).toEqual([
      '/etc/kube-proxy/extra.yaml: ipvs.masqueradeAll: unknown field, ignored (kube-proxy decodes such a file leniently and ignores it too)',
      '/etc/kube-proxy/extra.yaml: udpIdleTimeout: unknown field, ignored (kube-proxy decodes such a file leniently and ignores it too)',
      '/etc/kube-proxy/extra.yaml: iptables.syncPeriod: applies to iptables mode only; IPVS mode uses ipvs.syncPeriod',
      '/etc/kube-proxy/extra.yaml: iptables.localhostNodePorts: applies to iptables mode only (IPVS mode never accepts NodePorts on localhost)',
    ]);
  });
});

describe('loadProxyConfig: flags without effect in IPVS mode are accepted with a warning', () => {
  it.each([
    { name: 'iptables sync period', argv: ['--iptables-sync-period=10s'], warning: /^--iptables-sync-period: applies to iptables mode only/ },
    { name: 'localhost nodeports', argv: ['--iptables-localhost-nodeports=false'], warning: /^--iptables-localhost-nodeports: applies to iptables mode only/ },
    { name: 'feature gates', argv: ['--feature-gates=Foo=true'], warning: /^--feature-gates: Kubernetes feature gates have no effect/ },
    { name: 'vmodule', argv: ['--vmodule=proxier=4'], warning: /^--vmodule: has no effect/ },
    { name: 'deprecated port flag', argv: ['--metrics-port=10249'], warning: /^--metrics-port: deprecated; use --metrics-bind-address$/ },
  ])('$name', ({ argv, warning }) => {
    const r = load(argv);
    expect(r.config.ipvs.syncPeriodMs).toBe(30_000);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(warning);
  });
});

describe('loadProxyConfig: errors name the flag or field and the reason', () => {
  it.each([
    { name: 'unknown flag', argv: ['--no-such-flag=1'], kind: 'usage', errors: ['--no-such-flag: unknown flag: --no-such-flag'] },
    { name: 'missing value', argv: ['--ipvs-scheduler'], kind: 'usage', errors: ['--ipvs-scheduler: flag needs an argument: --ipvs-scheduler'] },
    { name: 'boolean given a separate value', argv: ['--masquerade-all', 'false'], kind: 'usage', errors: ['false: unexpected argument "false": ipvs-proxy takes flags only'] },
    { name: 'single-dash long flag', argv: ['-config=x'], kind: 'usage', errors: ["-c: unknown shorthand flag: 'c' in -config=x"] },
    { name: 'bad duration', argv: ['--ipvs-sync-period=30'], kind: 'invalid', errors: ['--ipvs-sync-period: invalid argument "30" for "--ipvs-sync-period" flag: time: invalid duration "30"'] },
    { name: 'bad boolean', argv: ['--masquerade-all=yes'], kind: 'invalid', errors: ['--masquerade-all: invalid argument "yes" for "--masquerade-all" flag: strconv.ParseBool: parsing "yes": invalid syntax'] },
    { name: 'bad bind address', argv: ['--bind-address=node-a'], kind: 'invalid', errors: ['--bind-address: invalid argument "node-a" for "--bind-address" flag: "node-a" is not a valid IP address'] },
    { name: 'bad healthz port', argv: ['--healthz-bind-address=0.0.0.0:99999'], kind: 'invalid', errors: ['--healthz-bind-address: invalid argument "0.0.0.0:99999" for "--healthz-bind-address" flag: "99999" is not a valid number'] },
    { name: 'another proxy mode', argv: ['--proxy-mode=iptables'], kind: 'invalid', errors: ['--proxy-mode: "iptables" is not supported: ipvs-proxy implements only mode "ipvs"'] },
    { name: 'another proxy mode, even with --config', argv: ['--config=/etc/kube-proxy/tuned.yaml', '--proxy-mode=nftables'], kind: 'invalid', errors: ['--proxy-mode: "nftables" is not supported: ipvs-proxy implements only mode "ipvs"'] },
    { name: 'min sync period above sync period', argv: ['--ipvs-sync-period=10s', '--ipvs-min-sync-period=1m'], kind: 'invalid', errors: ['--ipvs-min-sync-period (ipvs.minSyncPeriod): must not be greater than ipvs.syncPeriod'] },
    { name: 'negative timeout', argv: ['--ipvs-udp-timeout=-1s'], kind: 'invalid', errors: ['--ipvs-udp-timeout (ipvs.udpTimeout): -1s must be greater than or equal to 0'] },
    { name: 'masquerade bit out of range', argv: ['--iptables-masquerade-bit=32'], kind: 'invalid', errors: ['--iptables-masquerade-bit (iptables.masqueradeBit): 32 must be an integer in 0-31'] },
    { name: 'unknown scheduler', argv: ['--ipvs-scheduler=fastest'], kind: 'invalid', errors: [/^--ipvs-scheduler \(ipvs.scheduler\): "fastest" is not an IPVS scheduler/] },
    { name: 'bad exclude CIDR', argv: ['--ipvs-exclude-cidrs=10.0.0.0/8,10.0.0.0/99'], kind: 'invalid', errors: ['--ipvs-exclude-cidrs[1]: "10.0.0.0/99" is not a CIDR'] },
    { name: 'two IPv4 cluster CIDRs', argv: ['--cluster-cidr=10.0.0.0/16,10.1.0.0/16'], kind: 'invalid', errors: ['--cluster-cidr: must be one CIDR, or two of different IP families (dual-stack)'] },
    { name: 'blank hostname override', argv: ['--hostname-override=  '], kind: 'invalid', errors: ['--hostname-override: empty hostname-override is invalid'] },
    { name: 'bridge mode without bridge', argv: ['--detect-local-mode=BridgeInterface'], kind: 'invalid', errors: ['detectLocal.bridgeInterface: required when detectLocalMode is BridgeInterface'] },
    { name: 'unknown detect-local mode', argv: ['--detect-local-mode=Magic'], kind: 'invalid', errors: [/^--detect-local-mode \(detectLocalMode\): "Magic" is not one of ClusterCIDR/] },
    { name: 'oom score out of range', argv: ['--oom-score-adj=-1001'], kind: 'invalid', errors: ['--oom-score-adj (oomScoreAdj): -1001 must be within the range [-1000, 1000]'] },
    { name: 'negative conntrack min', argv: ['--conntrack-min=-1'], kind: 'invalid', errors: ['--conntrack-min (conntrack.min): -1 must be greater than or equal to 0'] },
    { name: 'zero config sync period', argv: ['--config-sync-period=0s'], kind: 'invalid', errors: ['--config-sync-period (configSyncPeriod): 0s must be greater than 0'] },
    { name: 'missing config file', argv: ['--config=/nowhere.yaml'], kind: 'invalid', errors: [/^--config: cannot read \/nowhere.yaml: ENOENT/] },
    { name: 'invalid config file', argv: ['--config=/etc/kube-proxy/bad.yaml'], kind: 'invalid', errors: ['/etc/kube-proxy/bad.yaml: ipvs.minSyncPeriod: must not be greater than ipvs.syncPeriod'] },
    { name: 'config file in another mode', argv: ['--config=/etc/kube-proxy/iptables.yaml'], kind: 'invalid', errors: ['/etc/kube-proxy/iptables.yaml: mode: "iptables" is not supported: ipvs-proxy implements only mode "ipvs"'] },
  ])('$name', ({ argv, kind, errors }) => {
    const err = loadError(argv);
    expect(err.kind).toBe(kind);
    expect(err.code).toBe('EINVALIDCONFIG');
    const messages = err.errors.map(formatConfigError);
    expect(messages).toHaveLength(errors.length);
    errors.forEach((want, i) => (typeof want === 'string' ? expect(messages[i]).toBe(want) : expect(messages[i]).toMatch(want)));
  });

  it('reports every bad flag at once', () => {
    expect(loadError(['--a', '--b=1']).errors.map((e) => e.field)).toEqual(['--a', '--b']);
  });
});
