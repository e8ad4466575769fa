import { parseArgs } from 'node:util';
import type { IpvsClient } from '../ipvs/client.ts';
import { renderList, toJson } from '../ipvs/format.ts';
import { NetlinkIpvsClient } from '../ipvs/netlink-client.ts';
import { readTable } from '../ipvs/table.ts';
import { KernelError } from '../netlink/errors.ts';
import { type Command, UsageError } from './command.ts';

const usage = `Usage: ipvs-proxy ipvs list [--json] [--stats]

Prints the kernel's IPVS table: text like "ipvsadm -Ln", or with --json the
shape {"virtualServers":[...]} used wherever ipvs-proxy prints IPVS state.
--stats adds traffic counters. Needs CAP_NET_ADMIN and the ip_vs module.
`;

/** What a kernel error means to an operator running the command. */
export function explainKernelError(err: KernelError): string {
  if (err.code === 'EAFNOSUPPORT') return 'IPVS is not available in this kernel (load the ip_vs module: modprobe ip_vs)';
  if (err.code === 'EPERM' || err.code === 'EACCES') return 'permission denied: IPVS needs CAP_NET_ADMIN (run as root)';
  return err.message;
}

/** `ipvs list`, with the client factory injectable for tests. */
export function ipvsListCommand(open: () => Promise<IpvsClient> = () => NetlinkIpvsClient.open()): Command {
  return {
    name: ['ipvs', 'list'],
    summary: 'print the kernel IPVS table (like ipvsadm -Ln), or as JSON',
    usage,
    async run(args, io) {
      let values: { json?: boolean; stats?: boolean };
      try {
        ({ values } = parseArgs({ args: [...args], options: { json: { type: 'boolean' }, stats: { type: 'boolean' } } }));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      let client: IpvsClient;
      try {
        client = await open();
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        io.stderr.write(`ipvs-proxy ipvs list: ${explainKernelError(err)}\n`);
        return 1;
      }
      try {
        const table = await readTable(client);
        if (values.json) {
          io.stdout.write(`${JSON.stringify(toJson(table, { stats: values.stats ?? false }))}\n`);
        } else {
          const info = await client.info();
          io.stdout.write(renderList(table, { stats: values.stats ?? false, version: info.version, size: info.connectionTableSize }));
        }
        return 0;
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        io.stderr.write(`ipvs-proxy ipvs list: ${explainKernelError(err)}\n`);
        return 1;
      } finally {
        client.close();
      }
    },
  };
}
