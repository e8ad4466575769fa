// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { kubeProxySysctls, parseKernelVersion } from './sysctl-settings.ts';

const paths = (release: string, strictARP = false): string[] =>
  kubeProxySysctls({ kernelRelease: release, strictARP }).settings.map((s) => `${s.path}=${s.value}`);

describe('kubeProxySysctls', () => {
  it('sets what kube-proxy sets on a current kernel, leaving conn_reuse_mode alone (fixed in 5.9)', () => {
    const plan = kubeProxySysctls({ kernelRelease: '6.1.176', strictARP: false });
    expect(plan.settings.map((s) => `${s.path}=${s.value}`)).toEqual([
      'net/ipv4/vs/conntrack=1',
      'net/ipv4/vs/expire_nodest_conn=1',
      'net/ipv4/vs/expire_quiescent_template=1',
      'net/ipv4/ip_forward=1',
    ]);
    expect(plan.notes).toEqual(['net/ipv4/vs/conn_reuse_mode left as is: kernel 6.1 has the fix from 5.9']);
    expect(plan.settings.every((s) => s.reason.length > 0)).toBe(true);
  });

  it.each([
    { name: '4.0 (too old: not set)', release: '4.0.9', reuse: false },
    { name: '4.1 (set to 0)', release: '4.1.0', reuse: true },
    { name: '4.19 distro release (set to 0)', release: '4.19.0-25-amd64', reuse: true },
    { name: '5.8 (set to 0)', release: '5.8.18+', reuse: true },
    { name: '5.9 (fixed: left alone)', release: '5.9.0', reuse: false },
    { name: '5.10 (fixed: left alone)', release: '5.10.0-generic', reuse: false },
    { name: 'unparseable (left alone)', release: 'weird', reuse: false },
  ])('conn_reuse_mode on kernel $name', ({ release, reuse }) => {
    expect(paths(release).includes('net/ipv4/vs/conn_reuse_mode=0')).toBe(reuse);
    expect(paths(release)[0]).toBe('net/ipv4/vs/conntrack=1');
  });

  it('with strictARP also sets arp_ignore=1 and arp_announce=2, last', () => {
    expect(paths('6.1.0', true).slice(-2)).toEqual(['net/ipv4/conf/all/arp_ignore=1', 'net/ipv4/conf/all/arp_announce=2']);
    expect(paths('6.1.0', false).some((p) => p.includes('arp_'))).toBe(false);
  });

  it('only checks bridge-nf-call-iptables, never writes it', () => {
    const plan = kubeProxySysctls({ kernelRelease: '6.1.0', strictARP: true });
    expect(plan.checks.map((c) => `${c.path}=${c.expected}`)).toEqual(['net/bridge/bridge-nf-call-iptables=1']);
    expect(plan.settings.some((s) => s.path.startsWith('net/bridge/'))).toBe(false);
  });
});

describe('parseKernelVersion', () => {
  it.each([
    { name: 'plain', release: '6.1.176', want: { major: 6, minor: 1, patch: 176 } },
    { name: 'distro suffix', release: '5.4.0-150-generic', want: { major: 5, minor: 4, patch: 0 } },
    { name: 'two parts', release: '4.19', want: { major: 4, minor: 19, patch: 0 } },
    { name: 'not a version', release: 'linux', want: null },
  ])('$name', ({ release, want }) => {
    expect(parseKernelVersion(release)).toEqual(want);
  });
});
