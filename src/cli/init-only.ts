import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ProxyConfig } from '../config/types.ts';
import { NetlinkIpvsClient } from '../ipvs/netlink-client.ts';
import { NetifApplier } from '../netif/applier.ts';
import { RtNetlinkClient } from '../netif/rtnetlink-client.ts';
import { ProcSysctl } from '../netif/sysctl.ts';
import { createLogger } from '../observability/logger.ts';
import type { CliIo } from './command.ts';

const exec = promisify(execFile);

/** Modules IPVS mode needs; kube-proxy expects them loaded (or built in). */
const modules = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'];

/**
 * `run --init-only` (kube-proxy's flag): the setup that needs full privileges,
 * then exit. Loads the IPVS modules (best effort: they may be built in, or
 * /lib/modules absent), writes kube-proxy's IPVS sysctls and creates
 * kube-ipvs0, so the long-running container needs only NET_ADMIN and NET_RAW.
 * Resolves to the exit code: 1 when a sysctl or the link could not be written.
 */
export async function initOnly(config: ProxyConfig, io: CliIo): Promise<number> {
  const logger = createLogger({ destination: io.stderr, level: process.env.LOG_LEVEL ?? 'info' });
  for (const m of modules) {
    await exec('modprobe', [m], { timeout: 10_000 }).catch((err: Error) => logger.warn({ module: m, err }, 'modprobe failed (the module may be built in)'));
  }
  // Opening the IPVS family also makes the kernel load ip_vs on demand, so
  // net/ipv4/vs/* exists before the sysctls are written.
  await NetlinkIpvsClient.open().then((c) => c.close(), (err: Error) => logger.warn({ err }, 'IPVS is not available yet'));
  const client = RtNetlinkClient.open();
  try {
    const applier = new NetifApplier({ client, sysctl: new ProcSysctl(), logger });
    const r = await applier.applyFull({ addresses: {}, strictARP: config.ipvs.strictARP });
    for (const e of r.errors) io.stderr.write(`ipvs-proxy run --init-only: ${e.message}\n`);
    io.stdout.write(`${JSON.stringify({ initOnly: true, writes: r.writes, ok: r.errors.length === 0 })}\n`);
    return r.errors.length === 0 ? 0 : 1;
  } catch (err) {
    io.stderr.write(`ipvs-proxy run --init-only: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}
