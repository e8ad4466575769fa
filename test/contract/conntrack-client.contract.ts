// One contract for every ConntrackClient: FakeConntrack on the host and the
// `conntrack` tool against the real kernel in the sandbox. The kernel's table
// is shared with whatever else ran in the sandbox, so every flow here comes
// from clients in 10.213.0.0/16 or fd00:213::/64 and every assertion looks
// only at those.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ConntrackClient } from '../../src/conntrack/client.ts';
import type { Family, Flow, FlowFilter, FlowProtocol } from '../../src/conntrack/types.ts';
import { codeOf } from './kernel-code.ts';

export interface ConntrackContractTarget {
  /** The client under test. */
  client(): Promise<ConntrackClient>;
  /** Adds flows to the table as traffic would (rejects with KernelError EEXIST for a tracked tuple). */
  insert(flows: readonly Flow[]): Promise<void>;
}

const client4 = (n: number): string => `10.213.0.${n}`;
const client6 = (n: number): string => `fd00:213::${n}`;

/** Is this one of our flows (original source in our client ranges)? */
export function isContractFlow(f: Flow): boolean {
  return f.original.src.startsWith('10.213.') || f.original.src.startsWith('fd00:213:');
}

let nextPort = 41000;

/** A flow from client `n` to `dst:dport`, answered by `backend:bport`. */
export function ctFlow(n: number, dst: string, dport: number, backend: string, bport: number, protocol: FlowProtocol = 'udp'): Flow {
  const family: Family = dst.includes(':') ? 'inet6' : 'inet';
  const src = family === 'inet' ? client4(n) : client6(n);
  const sport = nextPort++;
  return {
    family, protocol, timeout: 120,
    original: { src, dst, srcPort: sport, dstPort: dport },
    reply: { src: backend, dst: src, srcPort: bport, dstPort: sport },
  };
}

/** Tuples only, sorted: what the two tables must agree on (timeouts tick). */
function tuples(flows: readonly Flow[]): string[] {
  return flows.filter(isContractFlow)
    .map((f) => `${f.family} ${f.protocol} ${f.original.src}:${f.original.srcPort}>${f.original.dst}:${f.original.dstPort} ${f.reply.src}:${f.reply.srcPort}>${f.reply.dst}:${f.reply.dstPort}`)
    .sort();
}

/** Filters deleting every flow of ours (by original source, clients 1–5), for cleanup. */
export function contractCleanupFilters(): FlowFilter[] {
  const out: FlowFilter[] = [];
  for (const protocol of ['udp', 'tcp'] as const) {
    for (let n = 1; n <= 5; n++) {
      out.push({ family: 'inet', protocol, original: { src: client4(n) } }, { family: 'inet6', protocol, original: { src: client6(n) } });
    }
  }
  return out;
}

export function describeConntrackContract(name: string, target: ConntrackContractTarget): void {
  describe(`ConntrackClient contract: ${name}`, () => {
    let c: ConntrackClient;
    beforeEach(async () => {
      c = await target.client();
    });
    afterEach(async () => {
      await c.delete(contractCleanupFilters());
    });

    const all = async (): Promise<string[]> => [
      ...tuples(await c.list('inet', 'udp')), ...tuples(await c.list('inet6', 'udp')),
      ...tuples(await c.list('inet', 'tcp')), ...tuples(await c.list('inet6', 'tcp')),
    ].sort();

    it('lists UDP flows of one family with both tuples, addresses canonical', async () => {
      const v4 = ctFlow(1, '10.96.0.10', 53, '10.244.0.11', 5353);
      const v6 = ctFlow(1, 'fd00:96::10', 53, 'fd00:244::11', 5353);
      // The kernel stores bytes: a long IPv6 spelling comes back in RFC 5952 form.
      await target.insert([v4, { ...v6, original: { ...v6.original, dst: 'FD00:96:0:0:0:0:0:10' } }]);
      const listed4 = (await c.list('inet', 'udp')).filter(isContractFlow);
      expect(listed4).toEqual([expect.objectContaining({ family: 'inet', protocol: 'udp', original: v4.original, reply: v4.reply })]);
      expect(listed4[0]!.timeout).toBeGreaterThan(0);
      expect(listed4[0]!.timeout).toBeLessThanOrEqual(120);
      const listed6 = (await c.list('inet6', 'udp')).filter(isContractFlow);
      expect(listed6).toEqual([expect.objectContaining({ family: 'inet6', protocol: 'udp', original: v6.original, reply: v6.reply })]);
    });

    it('lists only the asked protocol', async () => {
      const udp = ctFlow(1, '10.96.0.10', 53, '10.244.0.11', 5353);
      const tcp = ctFlow(1, '10.96.0.10', 53, '10.244.0.11', 5353, 'tcp');
      await target.insert([udp, tcp]);
      expect(tuples(await c.list('inet', 'udp'))).toEqual(tuples([udp]));
      expect(tuples(await c.list('inet', 'tcp'))).toEqual(tuples([tcp]));
    });

    it('refuses a second flow with a tracked original or reply tuple (EEXIST)', async () => {
      const f = ctFlow(1, '10.96.0.10', 53, '10.244.0.11', 5353);
      await target.insert([f]);
      expect(await codeOf(target.insert([{ ...f, reply: { ...f.reply, src: '10.244.0.12' } }]))).toBe('EEXIST');
      expect(await codeOf(target.insert([{ ...f, original: { ...f.original, dst: '10.96.0.11' } }]))).toBe('EEXIST');
      expect(tuples(await c.list('inet', 'udp'))).toEqual(tuples([f]));
    });

    it('deletes by original destination ip:port and reply source ip:port, from every client', async () => {
      const stale = [1, 2, 3].map((n) => ctFlow(n, '10.96.0.10', 53, '10.244.0.99', 5353));
      const keep = [
        ctFlow(4, '10.96.0.10', 53, '10.244.0.11', 5353), // another backend
        ctFlow(4, '10.96.0.10', 53, '10.244.0.99', 5300), // same backend IP, other port
        ctFlow(4, '10.96.0.10', 54, '10.244.0.99', 5353), // other Service port
        ctFlow(4, '10.96.0.11', 53, '10.244.0.99', 5353), // other Service IP
        ctFlow(5, '10.96.0.10', 53, '10.244.0.99', 5353, 'tcp'), // TCP
      ];
      await target.insert([...stale, ...keep]);
      const n = await c.delete([{ family: 'inet', protocol: 'udp', original: { dst: '10.96.0.10', dstPort: 53 }, reply: { src: '10.244.0.99', srcPort: 5353 } }]);
      expect(n).toBe(3);
      expect(await all()).toEqual(tuples(keep));
    });

    it('deletes by original destination port alone (NodePort form), whatever the address', async () => {
      const stale = [ctFlow(1, '10.0.0.10', 30053, '10.244.0.99', 5353), ctFlow(2, '127.0.0.1', 30053, '10.244.0.99', 5353)];
      const keep = [ctFlow(3, '10.0.0.10', 30053, '10.244.0.11', 5353), ctFlow(3, '10.0.0.10', 30054, '10.244.0.99', 5353)];
      await target.insert([...stale, ...keep]);
      expect(await c.delete([{ family: 'inet', protocol: 'udp', original: { dstPort: 30053 }, reply: { src: '10.244.0.99', srcPort: 5353 } }])).toBe(2);
      expect(await all()).toEqual(tuples(keep));
    });

    it('deletes IPv6 flows, and never those of the other family', async () => {
      const stale6 = ctFlow(1, 'fd00:96::10', 53, 'fd00:244::99', 5353);
      const keep6 = ctFlow(2, 'fd00:96::10', 53, 'fd00:244::11', 5353);
      const v4 = ctFlow(3, '10.96.0.10', 53, '10.244.0.99', 5353);
      await target.insert([stale6, keep6, v4]);
      expect(await c.delete([{ family: 'inet6', protocol: 'udp', original: { dst: 'fd00:96::10', dstPort: 53 }, reply: { src: 'fd00:244::99', srcPort: 5353 } }])).toBe(1);
      expect(await c.delete([{ family: 'inet6', protocol: 'udp', original: { dstPort: 53 } }])).toBe(1);
      expect(await all()).toEqual(tuples([v4]));
    });

    it('counts a flow selected by two filters once, and 0 when nothing matches', async () => {
      const f = ctFlow(1, '10.96.0.20', 30053, '10.244.0.99', 5353);
      await target.insert([f]);
      expect(await c.delete([])).toBe(0);
      expect(await c.delete([{ family: 'inet', protocol: 'udp', original: { dstPort: 9 } }])).toBe(0);
      expect(await c.delete([
        { family: 'inet', protocol: 'udp', original: { dst: '10.96.0.20', dstPort: 30053 }, reply: { src: '10.244.0.99', srcPort: 5353 } },
        { family: 'inet', protocol: 'udp', original: { dstPort: 30053 }, reply: { src: '10.244.0.99', srcPort: 5353 } },
      ])).toBe(1);
      expect(await all()).toEqual([]);
    });

    it.each([
      { name: 'an invalid IPv4 address', bad: { family: 'inet', protocol: 'udp', original: { dst: '300.1.1.1' } } },
      { name: 'an IPv6 address in an IPv4 filter', bad: { family: 'inet', protocol: 'udp', reply: { src: 'fd00:244::99' } } },
    ] satisfies { name: string; bad: FlowFilter }[])('refuses a batch with $name (EINVAL) and deletes nothing', async ({ bad }) => {
      const f = ctFlow(1, '10.96.0.10', 53, '10.244.0.99', 5353);
      await target.insert([f]);
      const good: FlowFilter = { family: 'inet', protocol: 'udp', original: { dst: '10.96.0.10' } };
      expect(await codeOf(c.delete([good, bad]))).toBe('EINVAL');
      expect(tuples(await c.list('inet', 'udp'))).toEqual(tuples([f]));
    });
  });
}
