// Opens every kernel client and builds the appliers and stages, in the order a
// sync runs them. Shared by `apply`, `run`, `cleanup` and the demo.

import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/types.ts';
import { IpsetApplier } from '../ipset/applier.ts';
import type { IpsetClient } from '../ipset/client.ts';
import { RestoreIpsetClient } from '../ipset/restore-client.ts';
import { IptablesApplier } from '../iptables/applier.ts';
import { detectBackend, type BackendChoice } from '../iptables/backend.ts';
import { ExecIptables } from '../iptables/exec-client.ts';
import type { Backend } from '../iptables/types.ts';
import { IpvsApplier } from '../ipvs/applier.ts';
import type { IpvsClient } from '../ipvs/client.ts';
import { NetlinkIpvsClient } from '../ipvs/netlink-client.ts';
import type { IpFamily } from '../model/types.ts';
import { NetifApplier } from '../netif/applier.ts';
import type { NetifClient } from '../netif/client.ts';
import { RtNetlinkClient } from '../netif/rtnetlink-client.ts';
import { ProcSysctl } from '../netif/sysctl.ts';
import { parseCidr } from '../model/ip.ts';
import type { Stage } from './engine.ts';
import { ipvsStage } from './ipvs-stage.ts';
import { ipsetStage, iptablesStage, netifStage } from './stages.ts';

/** Everything that touches the kernel, ready for a SyncEngine. */
export interface Kernel {
  readonly families: readonly IpFamily[];
  readonly stages: readonly Stage[];
  readonly ipvsClient: IpvsClient;
  readonly ipvs: IpvsApplier;
  readonly ipsetClient: IpsetClient;
  readonly netifClient: NetifClient;
  readonly iptablesBackend: BackendChoice;
  /** Releases sockets; kernel state is left as it is. */
  close(): void;
}

/** The IP families this host can proxy: IPv4, and IPv6 when the kernel has it (kube-proxy's dual-stack check). */
export function hostFamilies(): IpFamily[] {
  return existsSync('/proc/sys/net/ipv6') ? ['IPv4', 'IPv6'] : ['IPv4'];
}

/**
 * Opens the IPVS, ipset, iptables (backend detected as kube-proxy's image does)
 * and rtnetlink clients, sets the IPVS timeouts from the configuration, and
 * returns the stages: ipsets, iptables, kube-ipvs0 and sysctls, IPVS. Rejects
 * with a `KernelError` (e.g. `EAFNOSUPPORT` without IPVS) when a capability is
 * missing; nothing is written to the kernel then.
 */
export async function openKernel(opts: { config: ProxyConfig; families: readonly IpFamily[]; logger: Logger; iptablesBackend?: Backend }): Promise<Kernel> {
  const { config, families, logger } = opts;
  const ipvsClient = await NetlinkIpvsClient.open();
  let netifClient: RtNetlinkClient | undefined;
  try {
    const t = config.ipvs;
    if (t.tcpTimeoutMs || t.tcpFinTimeoutMs || t.udpTimeoutMs) {
      await ipvsClient.setTimeouts({ tcp: Math.round(t.tcpTimeoutMs / 1000), tcpFin: Math.round(t.tcpFinTimeoutMs / 1000), udp: Math.round(t.udpTimeoutMs / 1000) });
    }
    const backend = await detectBackend(opts.iptablesBackend ? { override: opts.iptablesBackend } : {});
    logger.info({ backend: backend.backend, reason: backend.reason }, 'iptables backend');
    const ipvs = new IpvsApplier(ipvsClient, logger);
    netifClient = RtNetlinkClient.open();
    const ipsetClient = new RestoreIpsetClient();
    const stages: Stage[] = [
      ipsetStage(new IpsetApplier(ipsetClient, logger)),
      iptablesStage(new IptablesApplier(families.map((family) => new ExecIptables({ family, backend: backend.backend })), logger)),
      netifStage(new NetifApplier({ client: netifClient, sysctl: new ProcSysctl(), logger }), config.ipvs.strictARP),
      ipvsStage(ipvs, () => families.map((f) => ({
        family: f === 'IPv4' ? 'inet' : 'inet6',
        excludeCIDRs: config.ipvs.excludeCIDRs.filter((c) => parseCidr(c)?.family === f),
      }))),
    ];
    const netif = netifClient;
    return {
      families, stages, ipvsClient, ipvs, ipsetClient, netifClient: netif, iptablesBackend: backend,
      close: () => { ipvsClient.close(); netif.close(); },
    };
  } catch (err) {
    ipvsClient.close();
    netifClient?.close();
    throw err;
  }
}
