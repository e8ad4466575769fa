// Benchmark: programming and listing a large IPVS table with our netlink client
// versus ipvsadm, in the same sandbox boot. Run: npm run bench -- ipvs [services] [realServersPerService]
//
// Prints the figures, then as the last line one JSON object:
// {"ours_s":..,"ipvsadm_s":..,"ratio":ours/ipvsadm,"list_ours_s":..,"list_ipvsadm_s":..,"list_ratio":..,...}
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { IpvsOp } from '../src/ipvs/client.ts';
import { renderSave, type TableEntry } from '../src/ipvs/format.ts';
import { NetlinkIpvsClient } from '../src/ipvs/netlink-client.ts';
import { readTable } from '../src/ipvs/table.ts';
import type { RealServer, VirtualServer } from '../src/ipvs/types.ts';

const exec = promisify(execFile);
const services = Number(process.argv[2] ?? 10_000);
const perService = Number(process.argv[3] ?? 10);

function buildTable(): TableEntry[] {
  const table: TableEntry[] = [];
  for (let i = 0; i < services; i++) {
    const virtualServer: VirtualServer = {
      family: 'inet', protocol: 'TCP', address: `10.96.${(i >> 8) & 0xff}.${i & 0xff}`, port: 80, fwmark: null,
      scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null,
    };
    const realServers: RealServer[] = [];
    for (let j = 0; j < perService; j++) {
      const n = i * perService + j;
      realServers.push({
        family: 'inet', address: `10.${128 + ((n >> 16) & 0x7f)}.${(n >> 8) & 0xff}.${n & 0xff}`, port: 8080,
        weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null,
      });
    }
    table.push({ virtualServer, realServers });
  }
  return table;
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

function ipvsadmRestore(input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ipvsadm', ['-R'], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ipvsadm -R exited ${code}`))));
    child.stdin.end(input);
  });
}

const table = buildTable();
const ops: IpvsOp[] = table.flatMap(({ virtualServer, realServers }) => [
  { op: 'add-virtual-server' as const, virtualServer },
  ...realServers.map((realServer) => ({ op: 'add-real-server' as const, virtualServer, realServer })),
]);
const client = await NetlinkIpvsClient.open({ timeoutMs: 30_000 });
await client.flush();
process.stdout.write(`table: ${services} virtual servers x ${perService} real servers = ${ops.length} kernel objects\n`);

let t = process.hrtime.bigint();
const results = await client.apply(ops);
const ours = seconds(t);
const failed = results.filter((r) => r.error).length;
process.stdout.write(`ours: program ${ours.toFixed(2)} s (${failed} failed ops)\n`);

t = process.hrtime.bigint();
const listed = await readTable(client);
const listOurs = seconds(t);
const listedReal = listed.reduce((n, e) => n + e.realServers.length, 0);
process.stdout.write(`ours: list ${listOurs.toFixed(2)} s (${listed.length} virtual, ${listedReal} real servers)\n`);

t = process.hrtime.bigint();
await client.flush();
process.stdout.write(`flush ${seconds(t).toFixed(2)} s\n`);

const restore = renderSave(table);
t = process.hrtime.bigint();
await ipvsadmRestore(restore);
const ipvsadm = seconds(t);
process.stdout.write(`ipvsadm -R: program ${ipvsadm.toFixed(2)} s\n`);

t = process.hrtime.bigint();
const { stdout } = await exec('ipvsadm', ['-Sn'], { maxBuffer: 512 * 1024 * 1024 });
const listIpvsadm = seconds(t);
process.stdout.write(`ipvsadm -Sn: list ${listIpvsadm.toFixed(2)} s (${stdout.split('\n').filter((l) => l.startsWith('-a')).length} real servers)\n`);

await client.flush();
client.close();
const round = (n: number): number => Math.round(n * 1000) / 1000;
process.stdout.write(`${JSON.stringify({
  services, realServersPerService: perService, objects: ops.length, failed_ops: failed,
  ours_s: round(ours), ipvsadm_s: round(ipvsadm), ratio: round(ours / ipvsadm),
  list_ours_s: round(listOurs), list_ipvsadm_s: round(listIpvsadm), list_ratio: round(listOurs / listIpvsadm),
})}\n`);
