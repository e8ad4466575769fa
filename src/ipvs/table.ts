import type { IpvsClient } from './client.ts';
import type { TableEntry } from './format.ts';
import type { RealServerStatus, VirtualServerStatus } from './types.ts';

/**
 * Reads the whole IPVS table: every virtual server with its real servers.
 * One dump for the virtual servers, then one per virtual server. Rejects with
 * the client's `KernelError`.
 */
export async function readTable(client: IpvsClient): Promise<TableEntry<VirtualServerStatus, RealServerStatus>[]> {
  const virtualServers = await client.listVirtualServers();
  const table: TableEntry<VirtualServerStatus, RealServerStatus>[] = [];
  for (const virtualServer of virtualServers) {
    table.push({ virtualServer, realServers: await client.listRealServers(virtualServer) });
  }
  return table;
}
