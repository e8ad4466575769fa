import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { FakeIpvs } from '../ipvs/fake-client.ts';
import { KernelError } from '../netlink/errors.ts';
import { main } from './main.ts';
import { ipvsListCommand } from './ipvs-list.ts';

async function runList(args: string[], open: () => Promise<FakeIpvs>): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const code = await main(['ipvs', 'list', ...args], { stdout, stderr }, [ipvsListCommand(open)]);
  return { code, out, err };
}

async function table(): Promise<FakeIpvs> {
  const f = new FakeIpvs();
  const vs = { family: 'inet' as const, protocol: 'TCP' as const, address: '10.96.0.10', port: 80, fwmark: null, scheduler: 'sh', flags: 0x18, persistence: { timeout: 10800, prefixLength: 32 }, persistenceEngine: null };
  await f.addVirtualServer(vs);
  await f.addRealServer(vs, { family: 'inet', address: '10.244.0.11', port: 8080, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, tunnel: null });
  f.setConnections(vs, { family: 'inet', address: '10.244.0.11', port: 8080 }, { active: 2, inactive: 5 });
  await f.addVirtualServer({ ...vs, family: 'inet6', protocol: null, address: null, port: null, fwmark: 7, scheduler: 'rr', flags: 0, persistence: null });
  return f;
}

describe('ipvs list', () => {
  it('prints the table as ipvsadm -Ln does', async () => {
    const r = await runList([], table);
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'FWM  7 IPv6 rr',
      'TCP  10.96.0.10:80 sh (sh-fallback,sh-port) persistent 10800',
      '  -> 10.244.0.11:8080             Masq    1      2          5         ',
      '',
    ].join('\n'));
  });

  it('prints the JSON shape', async () => {
    const r = await runList(['--json'], table);
    const json = JSON.parse(r.out) as { virtualServers: unknown[] };
    expect(json.virtualServers).toEqual([
      { family: 'inet6', protocol: null, address: null, port: null, fwmark: 7, scheduler: 'rr', flags: [], persistence: null, netmask: null, realServers: [] },
      {
        family: 'inet', protocol: 'TCP', address: '10.96.0.10', port: 80, fwmark: null, scheduler: 'sh',
        flags: ['sh-fallback', 'sh-port'], persistence: 10800, netmask: 32,
        realServers: [{ address: '10.244.0.11', port: 8080, weight: 1, forward: 'masq', upperThreshold: 0, lowerThreshold: 0, activeConnections: 2, inactiveConnections: 5 }],
      },
    ]);
  });

  it('adds counters with --stats', async () => {
    const r = await runList(['--json', '--stats'], table);
    expect(r.out).toContain('"stats":{"connections":0');
  });

  it('explains a kernel without IPVS and exits 1', async () => {
    const r = await runList([], () => Promise.reject(new KernelError('EAFNOSUPPORT', 'open IPVS')));
    expect(r.code).toBe(1);
    expect(r.err).toContain('load the ip_vs module');
  });

  it('rejects unknown options with usage', async () => {
    const r = await runList(['--bogus'], table);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: ipvs-proxy ipvs list');
  });
});
