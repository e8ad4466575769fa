import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { toJson } from '../ipvs/format.ts';
import { node, service, slice } from '../model/builders.ts';
import { main } from './main.ts';
import { planCommand } from './plan.ts';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await main(['plan', ...args], { stdout, stderr }, [planCommand()]);
  return { code, out, err };
}

const web = service('default/web', {
  type: 'NodePort', clusterIP: '10.96.0.10', externalIPs: ['203.0.113.7'],
  ports: [{ name: 'http', port: 80, nodePort: 30080 }],
});
const webSlice = slice('default/web', {
  ports: [{ name: 'http', port: 8080 }],
  endpoints: [{ ip: '10.244.1.5', node: 'node-a' }, { ip: '10.244.2.5', node: 'node-b' }],
});
const dns = service('kube-system/dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
const nodeA = node('node-a', { addresses: ['192.168.1.10'] });
const nodeB = node('node-b', { addresses: ['192.168.1.11'] });

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-test-'));
  // One tree split over files: multi-document YAML, a JSON List, a nested directory.
  mkdirSync(join(dir, 'split', 'nested'), { recursive: true });
  writeFileSync(join(dir, 'split', 'services.yaml'), [web, dns].map((o) => stringify(o)).join('---\n'));
  writeFileSync(join(dir, 'split', 'nested', 'slices.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [webSlice] }));
  writeFileSync(join(dir, 'split', 'nodes.yml'), `${stringify(nodeA)}---\n${stringify(nodeB)}`);
  writeFileSync(join(dir, 'split', 'README.md'), 'not a manifest');
  // The same objects in one file, in another order.
  writeFileSync(join(dir, 'all.yaml'), [nodeB, webSlice, dns, nodeA, web].map((o) => stringify(o)).join('---\n'));
  writeFileSync(join(dir, 'bad.yaml'), `${stringify(service('default/broken', { clusterIP: '10.96.0.999', ports: [{ port: 80 }] }))}---\nkey: [unclosed\n`);
  writeFileSync(join(dir, 'config.yaml'), 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs: {scheduler: wrr}\nclusterCIDR: 10.244.0.0/16\n');
  writeFileSync(join(dir, 'bad-config.yaml'), 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\niptables: {masqueradeBit: 40}\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ipvs-proxy plan', () => {
  it('prints the JSON plan with every list sorted and virtualServers exactly as toJson', async () => {
    const r = await run(['-f', join(dir, 'split'), '--node-name', 'node-a', '-o', 'json']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const plan = JSON.parse(r.out) as Record<string, unknown> & { virtualServers: unknown[]; ipsets: { name: string; entries: string[] }[]; addresses: string[] };
    expect(Object.keys(plan)).toEqual(['virtualServers', 'ipsets', 'addresses', 'iptables', 'ip6tables', 'warnings']);
    const rs = (addr: string) => ({ family: 'inet' as const, address: addr, port: 8080, weight: 1, forward: 'masq' as const, upperThreshold: 0, lowerThreshold: 0, tunnel: null });
    const vs = (protocol: 'TCP' | 'UDP', address: string, port: number) => ({
      family: 'inet' as const, protocol, address, port, fwmark: null, scheduler: 'rr', flags: 0, persistence: null, persistenceEngine: null,
    });
    expect(plan.virtualServers).toEqual(toJson([
      { virtualServer: vs('TCP', '10.96.0.10', 80), realServers: [rs('10.244.1.5'), rs('10.244.2.5')] },
      { virtualServer: vs('TCP', '203.0.113.7', 80), realServers: [rs('10.244.1.5'), rs('10.244.2.5')] },
      { virtualServer: vs('TCP', '192.168.1.10', 30080), realServers: [rs('10.244.1.5'), rs('10.244.2.5')] },
      { virtualServer: vs('UDP', '10.96.0.53', 53), realServers: [] },
    ]).virtualServers);
    expect(plan.addresses).toEqual(['10.96.0.10', '10.96.0.53', '203.0.113.7']);
    const names = plan.ipsets.map((s) => s.name);
    expect(names).toEqual([...names].sort());
    expect(names).toHaveLength(34);
    expect(plan.ipsets.find((s) => s.name === 'KUBE-LOOP-BACK')).toEqual({ name: 'KUBE-LOOP-BACK', type: 'hash:ip,port,ip', family: 'inet', entries: ['10.244.1.5,tcp:8080,10.244.1.5'] });
    expect(plan.warnings).toEqual([]);
  });

  it('is byte-for-byte the same however the objects are split and ordered', async () => {
    for (const output of ['json', 'text']) {
      const a = await run(['-f', join(dir, 'split'), '--node-name', 'node-a', '-o', output]);
      const b = await run(['-f', join(dir, 'all.yaml'), '--hostname-override', 'NODE-A', '--output', output]);
      expect(b.out).toBe(a.out);
    }
  });

  it('prints text sections: ipvsadm -Sn, ipset save, iptables-restore, addresses', async () => {
    const r = await run(['-f', join(dir, 'all.yaml'), '--node-name', 'node-b']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('# IPVS virtual and real servers (ipvsadm -Sn)\n-A -t 10.96.0.10:80 -s rr\n-a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m -w 1\n');
    expect(r.out).toContain('-A -t 192.168.1.11:30080 -s rr\n');
    expect(r.out).toContain('create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 10.96.0.10,tcp:80\nadd KUBE-CLUSTER-IP 10.96.0.53,udp:53\n');
    expect(r.out).toContain('add KUBE-LOOP-BACK 10.244.2.5,tcp:8080,10.244.2.5\n');
    expect(r.out).toContain('# iptables-restore --noflush (IPv4)\n*nat\n');
    expect(r.out).toContain('# addresses on kube-ipvs0\n10.96.0.10\n10.96.0.53\n203.0.113.7\n');
  });

  it('takes node IPs from --node-ip instead of the Node object', async () => {
    const r = await run(['-f', join(dir, 'all.yaml'), '--node-name', 'node-a', '--node-ip', '10.0.0.1,fd00::1', '--node-ip', '10.0.0.2', '-o', 'json']);
    const plan = JSON.parse(r.out) as { virtualServers: { address: string; port: number }[] };
    expect(plan.virtualServers.filter((v) => v.port === 30080).map((v) => v.address)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('uses the configuration file', async () => {
    const r = await run(['-f', join(dir, 'all.yaml'), '--node-name', 'node-a', '--config', join(dir, 'config.yaml')]);
    expect(r.out).toContain('-A -t 10.96.0.10:80 -s wrr\n');
    expect(r.out).toContain('--match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ\n');
  });

  it('reports bad objects and bad documents as warnings and still plans the rest', async () => {
    const r = await run(['-f', join(dir, 'all.yaml'), '-f', join(dir, 'bad.yaml'), '--node-name', 'node-a', '-o', 'json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as { warnings: string[]; addresses: string[] };
    expect(plan.addresses).toEqual(['10.96.0.10', '10.96.0.53', '203.0.113.7']);
    expect(plan.warnings).toEqual([
      `${join(dir, 'bad.yaml')} document 2: (document): not valid YAML: ${plan.warnings[0]?.split('not valid YAML: ')[1] ?? ''}`,
      'Service default/broken: spec.clusterIP: "10.96.0.999" is not a valid IP address; skipping the Service in that family',
    ]);
  });

  it('warns when it cannot tell which node to plan for', async () => {
    const r = await run(['-f', join(dir, 'all.yaml'), '-o', 'json']);
    expect((JSON.parse(r.out) as { warnings: string[] }).warnings).toContain('plan: --node-name: several Node objects; pass --node-name to choose one; no endpoint is local');
  });

  it.each([
    { name: 'no -f', args: [], code: 2, err: /at least one -f/ },
    { name: 'bad --output', args: ['-f', 'x', '-o', 'yaml'], code: 2, err: /--output must be text or json/ },
    { name: 'bad --node-ip', args: ['-f', 'x', '--node-ip', '1.2.3'], code: 2, err: /--node-ip "1.2.3" is not an IP address/ },
    { name: 'unknown option', args: ['-f', 'x', '--kubeconfig', 'y'], code: 2, err: /Unknown option/ },
    { name: 'missing file', args: ['-f', '/nonexistent/plan.yaml'], code: 1, err: /ipvs-proxy plan: \/nonexistent\/plan.yaml: ENOENT/ },
  ])('exits $code on $name', async (c) => {
    const r = await run(c.args);
    expect(r.code).toBe(c.code);
    expect(r.err).toMatch(c.err);
  });

  it('exits 1 naming the field of an invalid configuration', async () => {
    const r = await run(['-f', join(dir, 'all.yaml'), '--config', join(dir, 'bad-config.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ipvs-proxy plan: --config ${join(dir, 'bad-config.yaml')}: iptables.masqueradeBit: 40 must be an integer in 0-31\n`);
  });
});
