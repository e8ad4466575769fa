// SPDX-License-Identifier: Apache-2.0
// The kernel settings kube-proxy's IPVS mode ensures at startup (NewProxier),
// with the reasons. Pure: the kernel version comes in as text.

/** A setting to ensure: written only when the kernel's value differs. */
export interface SysctlSetting {
  readonly path: string;
  readonly value: string;
  readonly reason: string;
}

/** A setting only checked: a different value is reported, never written. */
export interface SysctlCheck {
  readonly path: string;
  readonly expected: string;
  readonly reason: string;
}

/** What to ensure, what to check, and notes on what was left alone and why. */
export interface SysctlPlan {
  readonly settings: readonly SysctlSetting[];
  readonly checks: readonly SysctlCheck[];
  readonly notes: readonly string[];
}

/** A kernel release's numeric part. */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/**
 * Parses a kernel release (`6.1.176`, `5.4.0-150-generic`, `4.19.0+`) as
 * kube-proxy's utilkernel does: the leading `major.minor[.patch]`. Returns null
 * when there is none; never throws.
 */
export function parseKernelVersion(release: string): KernelVersion | null {
  const m = /^\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

function atLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * kube-proxy's IPVS-mode settings, in its order:
 * - `net/ipv4/vs/conntrack` = 1: IPVS keeps conntrack entries, so iptables
 *   masquerade (KUBE-POSTROUTING) and conntrack matches see IPVS traffic.
 * - `net/ipv4/vs/conn_reuse_mode` = 0 on kernels 4.1 to 5.8 only: mode 1 there
 *   drops the first packet of a reused source port to a removed real server
 *   (1 s connection delays); 5.9 fixed it, so kube-proxy
 *   leaves it as is (kubernetes#93297); before 4.1 it does not exist.
 * - `net/ipv4/vs/expire_nodest_conn` = 1: a connection whose real server is
 *   gone is dropped at its next packet instead of black-holing until timeout.
 * - `net/ipv4/vs/expire_quiescent_template` = 1: persistence (sessionAffinity)
 *   templates of a real server at weight 0 expire, so new clients move away
 *   from a draining endpoint.
 * - `net/ipv4/ip_forward` = 1: the node forwards to pods.
 * - with `strictARP`: `net/ipv4/conf/all/arp_ignore` = 1 and `arp_announce` =
 *   2, so the node does not answer ARP for the service addresses on kube-ipvs0
 *   (needed by MetalLB-style L2 load balancers).
 *
 * Checked, not written (kube-proxy once logged it; current versions do nothing):
 * `net/bridge/bridge-nf-call-iptables` = 1, without which pod-to-pod traffic
 * through a Service on the same bridge bypasses iptables and breaks.
 *
 * `kernelRelease` is `/proc/sys/kernel/osrelease`; when it cannot be parsed,
 * conn_reuse_mode is left alone (noted). kube-proxy fails at startup if any
 * setting cannot be written.
 */
export function kubeProxySysctls(opts: { kernelRelease: string; strictARP: boolean }): SysctlPlan {
  const settings: SysctlSetting[] = [
    { path: 'net/ipv4/vs/conntrack', value: '1', reason: 'IPVS traffic must go through conntrack for masquerade rules' },
  ];
  const notes: string[] = [];
  const v = parseKernelVersion(opts.kernelRelease);
  if (!v) {
    notes.push(`net/ipv4/vs/conn_reuse_mode left as is: kernel release ${JSON.stringify(opts.kernelRelease)} not understood`);
  } else if (!atLeast(v, 4, 1)) {
    notes.push(`net/ipv4/vs/conn_reuse_mode not set: kernel ${v.major}.${v.minor} is older than 4.1`);
  } else if (atLeast(v, 5, 9)) {
    notes.push(`net/ipv4/vs/conn_reuse_mode left as is: kernel ${v.major}.${v.minor} has the fix from 5.9`);
  } else {
    settings.push({ path: 'net/ipv4/vs/conn_reuse_mode', value: '0', reason: 'kernels 4.1-5.8 delay reused connections by 1 s in mode 1' });
  }
  settings.push(
    { path: 'net/ipv4/vs/expire_nodest_conn', value: '1', reason: 'drop connections to removed real servers at once' },
    { path: 'net/ipv4/vs/expire_quiescent_template', value: '1', reason: 'expire persistence templates of real servers at weight 0' },
    { path: 'net/ipv4/ip_forward', value: '1', reason: 'forward service traffic to pods' },
  );
  if (opts.strictARP) {
    settings.push(
      { path: 'net/ipv4/conf/all/arp_ignore', value: '1', reason: 'strictARP: answer ARP only for addresses of the receiving interface' },
      { path: 'net/ipv4/conf/all/arp_announce', value: '2', reason: 'strictARP: never announce kube-ipvs0 addresses' },
    );
  }
  const checks: SysctlCheck[] = [
    { path: 'net/bridge/bridge-nf-call-iptables', expected: '1', reason: 'bridged pod traffic must pass iptables for Service rules' },
  ];
  return { settings, checks, notes };
}
