// Semantic validation of a resolved ProxyConfig, after kube-proxy's
// pkg/proxy/apis/config/validation: ranges, durations, listener addresses and
// the fields a detect-local mode needs. Type errors (a string where a number
// belongs, an invalid CIDR) are reported earlier, by the file and flag readers.

import { schedulers } from '../ipvs/types.ts';
import { hostPortProblem } from './addresses.ts';
import { type ConfigError, type ProxyConfig, detectLocalModes } from './types.ts';

const dur = (ms: number): string => `${ms / 1000}s`;

function checkDurations(c: ProxyConfig, errors: ConfigError[]): void {
  const nonNegative: [string, number][] = [
    ['ipvs.minSyncPeriod', c.ipvs.minSyncPeriodMs],
    ['ipvs.tcpTimeout', c.ipvs.tcpTimeoutMs],
    ['ipvs.tcpFinTimeout', c.ipvs.tcpFinTimeoutMs],
    ['ipvs.udpTimeout', c.ipvs.udpTimeoutMs],
    ['conntrack.tcpEstablishedTimeout', c.conntrack.tcpEstablishedTimeoutMs],
    ['conntrack.tcpCloseWaitTimeout', c.conntrack.tcpCloseWaitTimeoutMs],
    ['conntrack.udpTimeout', c.conntrack.udpTimeoutMs],
    ['conntrack.udpStreamTimeout', c.conntrack.udpStreamTimeoutMs],
    ['logging.flushFrequency', c.logging.flushFrequencyMs],
  ];
  for (const [field, ms] of nonNegative) {
    if (ms < 0) errors.push({ field, message: `${dur(ms)} must be greater than or equal to 0` });
  }
  if (c.ipvs.syncPeriodMs <= 0) errors.push({ field: 'ipvs.syncPeriod', message: `${dur(c.ipvs.syncPeriodMs)} must be greater than 0` });
  else if (c.ipvs.minSyncPeriodMs > c.ipvs.syncPeriodMs) {
    errors.push({ field: 'ipvs.minSyncPeriod', message: 'must not be greater than ipvs.syncPeriod' });
  }
  if (c.configSyncPeriodMs <= 0) errors.push({ field: 'configSyncPeriod', message: `${dur(c.configSyncPeriodMs)} must be greater than 0` });
}

function checkNumbers(c: ProxyConfig, errors: ConfigError[]): void {
  if (!Number.isInteger(c.masqueradeBit) || c.masqueradeBit < 0 || c.masqueradeBit > 31) {
    errors.push({ field: 'iptables.masqueradeBit', message: `${c.masqueradeBit} must be an integer in 0-31` });
  }
  if (c.oomScoreAdj < -1000 || c.oomScoreAdj > 1000) errors.push({ field: 'oomScoreAdj', message: `${c.oomScoreAdj} must be within the range [-1000, 1000]` });
  if (c.conntrack.maxPerCore < 0) errors.push({ field: 'conntrack.maxPerCore', message: `${c.conntrack.maxPerCore} must be greater than or equal to 0` });
  if (c.conntrack.min < 0) errors.push({ field: 'conntrack.min', message: `${c.conntrack.min} must be greater than or equal to 0` });
  if (c.clientConnection.burst < 0) errors.push({ field: 'clientConnection.burst', message: `${c.clientConnection.burst} must be greater than or equal to 0` });
  if (c.logging.verbosity < 0) errors.push({ field: 'logging.verbosity', message: `${c.logging.verbosity} must be greater than or equal to 0` });
  if (!Number.isInteger(c.trafficMetrics.maxSeries) || c.trafficMetrics.maxSeries < 0) {
    errors.push({ field: 'trafficMetrics.maxSeries', message: `${c.trafficMetrics.maxSeries} must be a non-negative integer` });
  }
}

function checkChoices(c: ProxyConfig, errors: ConfigError[]): void {
  if (!(schedulers as readonly string[]).includes(c.ipvs.scheduler)) {
    errors.push({ field: 'ipvs.scheduler', message: `${JSON.stringify(c.ipvs.scheduler)} is not an IPVS scheduler (one of ${schedulers.join(', ')})` });
  }
  if (!(detectLocalModes as readonly string[]).includes(c.detectLocalMode)) {
    errors.push({ field: 'detectLocalMode', message: `${JSON.stringify(c.detectLocalMode)} is not one of ${detectLocalModes.join(', ')}` });
  } else if (c.detectLocalMode === 'BridgeInterface' && c.bridgeInterface === '') {
    errors.push({ field: 'detectLocal.bridgeInterface', message: 'required when detectLocalMode is BridgeInterface' });
  } else if (c.detectLocalMode === 'InterfaceNamePrefix' && c.interfaceNamePrefix === '') {
    errors.push({ field: 'detectLocal.interfaceNamePrefix', message: 'required when detectLocalMode is InterfaceNamePrefix' });
  }
  if (!['text', 'json'].includes(c.logging.format)) {
    errors.push({ field: 'logging.format', message: `${JSON.stringify(c.logging.format)} is not one of text, json` });
  }
}

function checkListeners(c: ProxyConfig, errors: ConfigError[]): void {
  // An empty address disables that server (kube-proxy: "Set empty to disable").
  for (const [field, value] of [['healthzBindAddress', c.healthzBindAddress], ['metricsBindAddress', c.metricsBindAddress]] as const) {
    const problem = value === '' ? null : hostPortProblem(value);
    if (problem) errors.push({ field, message: problem });
  }
}

/**
 * Every semantic problem of a resolved configuration, each naming its field by
 * its KubeProxyConfiguration path (`ipvs.syncPeriod`) and the reason, in a
 * stable order. Pure; never throws. An empty list means the configuration can run.
 */
export function validateProxyConfig(c: ProxyConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  checkDurations(c, errors);
  checkNumbers(c, errors);
  checkChoices(c, errors);
  checkListeners(c, errors);
  return errors;
}
