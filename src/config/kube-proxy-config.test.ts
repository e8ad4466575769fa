import { describe, expect, it } from '@jest/globals';
import { parseDuration } from './duration.ts';
import { formatConfigError, parseKubeProxyConfig } from './kube-proxy-config.ts';
import { defaultProxyConfig } from './types.ts';

const header = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

describe('parseDuration', () => {
  it.each([
    { name: 'seconds', text: '30s', ms: 30_000 },
    { name: 'Go String() form', text: '1m0s', ms: 60_000 },
    { name: 'compound', text: '1h2m3.5s', ms: 3_723_500 },
    { name: 'milliseconds', text: '500ms', ms: 500 },
    { name: 'zero', text: '0', ms: 0 },
    { name: 'microseconds', text: '1500us', ms: 1.5 },
  ])('$name', ({ text, ms }) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['30', '1x', '', 's', '1.s2'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('parseKubeProxyConfig', () => {
  it('gives kube-proxy\'s defaults for an empty configuration', () => {
    expect(parseKubeProxyConfig(header)).toEqual({
      ok: true, config: defaultProxyConfig,
      warnings: ['mode: empty; kube-proxy would run its iptables mode (and use iptables.syncPeriod), ipvs-proxy runs IPVS with ipvs.syncPeriod'],
    });
  });

  it('reads every field it knows and ignores the others', () => {
    const r = parseKubeProxyConfig(`${header}
mode: ipvs
hostnameOverride: " Node-A "
bindAddress: 192.168.0.10
clusterCIDR: 10.244.0.0/16,fd00:244::/56
detectLocalMode: BridgeInterface
detectLocal: {bridgeInterface: cbr0}
nodePortAddresses: [192.168.0.0/16]
iptables: {masqueradeAll: true, masqueradeBit: 15, syncPeriod: 10s}
ipvs:
  scheduler: mh
  excludeCIDRs: [10.1.0.0/16]
  strictARP: true
  syncPeriod: 1m0s
  minSyncPeriod: 1s
  tcpTimeout: 900s
  tcpFinTimeout: 120s
  udpTimeout: 300s
conntrack: {maxPerCore: 32768}
featureGates: {SomeGate: true}
`);
    expect(r).toEqual({
      ok: true,
      warnings: [
        'iptables.syncPeriod: applies to iptables mode only; IPVS mode uses ipvs.syncPeriod',
        'featureGates: Kubernetes feature gates have no effect in ipvs-proxy',
      ],
      config: {
        ...defaultProxyConfig,
        featureGates: { SomeGate: true },
        hostnameOverride: 'node-a',
        bindAddress: '192.168.0.10',
        healthzBindAddress: '0.0.0.0:10256',
        metricsBindAddress: '127.0.0.1:10249',
        clusterCIDRs: ['10.244.0.0/16', 'fd00:244::/56'],
        detectLocalMode: 'BridgeInterface',
        bridgeInterface: 'cbr0',
        interfaceNamePrefix: '',
        nodePortAddresses: ['192.168.0.0/16'],
        masqueradeAll: true,
        masqueradeBit: 15,
        ipvs: {
          scheduler: 'mh', excludeCIDRs: ['10.1.0.0/16'], strictARP: true,
          syncPeriodMs: 60_000, minSyncPeriodMs: 1000, tcpTimeoutMs: 900_000, tcpFinTimeoutMs: 120_000, udpTimeoutMs: 300_000,
        },
      },
    });
  });

  it('treats syncPeriod 0 and an empty scheduler as unset', () => {
    const r = parseKubeProxyConfig(`${header}ipvs: {syncPeriod: "0", scheduler: ""}\n`);
    expect(r.ok && r.config.ipvs).toMatchObject({ syncPeriodMs: 30_000, scheduler: 'rr' });
  });

  it('accepts nodePortAddresses: [primary]', () => {
    const r = parseKubeProxyConfig(`${header}nodePortAddresses: [primary]\n`);
    expect(r.ok && r.config.nodePortAddresses).toEqual(['primary']);
  });

  it.each([
    { name: 'not YAML', text: 'a: [', errors: [/^\(file\): not valid YAML/] },
    { name: 'wrong kind', text: 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n', errors: [/^kind: must be KubeProxyConfiguration, not "KubeletConfiguration"$/] },
    { name: 'wrong apiVersion', text: 'apiVersion: v1\nkind: KubeProxyConfiguration\n', errors: [/^apiVersion: must be kubeproxy.config.k8s.io\/v1alpha1/] },
    { name: 'unknown scheduler', text: `${header}ipvs: {scheduler: fastest}\n`, errors: [/^ipvs.scheduler: "fastest" is not an IPVS scheduler/] },
    { name: 'masquerade bit out of range', text: `${header}iptables: {masqueradeBit: 32}\n`, errors: [/^iptables.masqueradeBit: 32 must be an integer in 0-31$/] },
    { name: 'bad duration', text: `${header}ipvs: {syncPeriod: 30}\n`, errors: [/^ipvs.syncPeriod: 30 is not a duration/] },
    { name: 'minSyncPeriod above syncPeriod', text: `${header}ipvs: {syncPeriod: 10s, minSyncPeriod: 1m}\n`, errors: [/^ipvs.minSyncPeriod: must not be greater than ipvs.syncPeriod$/] },
    { name: 'bad exclude CIDR', text: `${header}ipvs: {excludeCIDRs: [10.0.0.0/99]}\n`, errors: [/^ipvs.excludeCIDRs\[0\]: "10.0.0.0\/99" is not a CIDR$/] },
    { name: 'two IPv4 cluster CIDRs', text: `${header}clusterCIDR: 10.0.0.0/16,10.1.0.0/16\n`, errors: [/^clusterCIDR: must be one CIDR, or two of different IP families/] },
    { name: 'primary with CIDRs', text: `${header}nodePortAddresses: [primary, 10.0.0.0/8]\n`, errors: [/^nodePortAddresses: "primary" must be the only value$/] },
    { name: 'unknown detectLocalMode', text: `${header}detectLocalMode: Magic\n`, errors: [/^detectLocalMode: "Magic" is not one of/] },
    { name: 'BridgeInterface without a bridge', text: `${header}detectLocalMode: BridgeInterface\n`, errors: [/^detectLocal.bridgeInterface: required/] },
    { name: 'wrong types', text: `${header}iptables: {masqueradeAll: "yes"}\nbindAddress: nowhere\n`, errors: [/^bindAddress: "nowhere" is not an IP address$/, /^iptables.masqueradeAll: must be true or false/] },
  ])('rejects $name, naming the field', ({ text, errors }) => {
    const r = parseKubeProxyConfig(text);
    expect(r.ok).toBe(false);
    const messages = r.ok ? [] : r.errors.map(formatConfigError);
    expect(messages).toHaveLength(errors.length);
    errors.forEach((re, i) => expect(messages[i]).toMatch(re));
  });
});

describe('parseKubeProxyConfig: every general field that applies', () => {
  it('reads listeners, conntrack, client connection, logging and sync periods', () => {
    const r = parseKubeProxyConfig(`${header}mode: ipvs
healthzBindAddress: 127.0.0.1
metricsBindAddress: "[::1]:9999"
bindAddressHardFail: true
configSyncPeriod: 5m
oomScoreAdj: -500
clientConnection: {kubeconfig: /k.conf, qps: 50, burst: 100, contentType: application/json}
conntrack: {maxPerCore: 0, min: 1000, tcpEstablishedTimeout: 1h, tcpCloseWaitTimeout: 0s, tcpBeLiberal: true, udpTimeout: 30s, udpStreamTimeout: 2m}
logging: {verbosity: 4, format: json, flushFrequency: 1s}
`);
    expect(r.ok && r.config).toEqual({
      ...defaultProxyConfig,
      healthzBindAddress: '127.0.0.1:10256',
      metricsBindAddress: '[::1]:9999',
      bindAddressHardFail: true,
      configSyncPeriodMs: 300_000,
      oomScoreAdj: -500,
      clientConnection: { kubeconfig: '/k.conf', acceptContentTypes: '', contentType: 'application/json', qps: 50, burst: 100 },
      conntrack: { maxPerCore: 0, min: 1000, tcpEstablishedTimeoutMs: 3_600_000, tcpCloseWaitTimeoutMs: 0, tcpBeLiberal: true, udpTimeoutMs: 30_000, udpStreamTimeoutMs: 120_000 },
      logging: { verbosity: 4, format: 'json', flushFrequencyMs: 1000 },
    });
    expect(r.warnings).toEqual([]);
  });

  it.each([
    { name: 'bad metrics address', text: 'metricsBindAddress: "1.2.3.4:http"\n', error: 'metricsBindAddress: "http" must be a valid port' },
    { name: 'negative conntrack timeout', text: 'conntrack: {udpTimeout: -5s}\n', error: 'conntrack.udpTimeout: -5s must be greater than or equal to 0' },
    { name: 'burst not an integer', text: 'clientConnection: {burst: 1.5}\n', error: 'clientConnection.burst: must be an integer, not 1.5' },
    { name: 'unknown logging format', text: 'logging: {format: xml}\n', error: 'logging.format: "xml" is not one of text, json' },
    { name: 'nftables mode', text: 'mode: nftables\n', error: 'mode: "nftables" is not supported: ipvs-proxy implements only mode "ipvs"' },
  ])('rejects $name', ({ text, error }) => {
    const r = parseKubeProxyConfig(`${header}${text.startsWith('mode:') ? '' : 'mode: ipvs\n'}${text}`);
    expect(r.ok ? [] : r.errors.map(formatConfigError)).toEqual([error]);
  });

  it.each([
    { name: 'winkernel settings', text: 'winkernel: {enableDSR: true}\n', warning: 'winkernel: applies to Windows only; ignored' },
    { name: 'nftables masquerade', text: 'nftables: {masqueradeAll: true}\n', warning: 'nftables.masqueradeAll: applies to nftables mode only; IPVS mode uses iptables.masqueradeAll' },
    { name: 'portRange', text: 'portRange: 30000-32767\n', warning: 'portRange: has no effect (it belonged to the removed userspace proxy)' },
    { name: 'removed conntrack.max', text: 'conntrack: {max: 0}\n', warning: 'conntrack.max: unknown field, ignored (kube-proxy decodes such a file leniently and ignores it too)' },
  ])('accepts $name with a warning', ({ text, warning }) => {
    const r = parseKubeProxyConfig(`${header}mode: ipvs\n${text}`);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([warning]);
  });
});
