import { KernelError } from '../netlink/errors.ts';
import { parseIp } from '../model/ip.ts';
import type { ConntrackClient } from './client.ts';
import { PartialListError } from './errors.ts';
import {
  type Family, type Flow, type FlowFilter, type FlowProtocol, type Tuple, type TupleMatch,
  filterKey, filterMatches, flowKey, formatFlow,
} from './types.ts';

// An in-memory conntrack table with the kernel's rules (nf_conntrack_core.c,
// nf_conntrack_netlink.c) and the tool's batch semantics, for unit tests of
// everything above the ConntrackClient. The contract suite runs it and the real
// kernel through the same cases.

/** One write the fake accepted, in order (see `writes`). */
export interface FakeConntrackWrite {
  readonly op: 'insert' | 'delete';
  /** `formatFlow` of the inserted flow, or `filterKey` of a delete filter. */
  readonly object: string;
  /** Flows this write deleted (0 for inserts). */
  readonly deleted: number;
}

function canonicalAddress(family: Family, text: string, op: string, object: string): string {
  const ip = parseIp(text);
  if (!ip || (ip.family === 'IPv4') !== (family === 'inet')) throw new KernelError('EINVAL', op, object, `bad ${family} address ${text}`);
  return ip.text;
}

function checkPort(p: number, op: string, object: string): number {
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new KernelError('EINVAL', op, object, `bad port ${p}`);
  return p;
}

function canonicalTuple(family: Family, t: Tuple, op: string, object: string): Tuple {
  return {
    src: canonicalAddress(family, t.src, op, object), dst: canonicalAddress(family, t.dst, op, object),
    srcPort: checkPort(t.srcPort, op, object), dstPort: checkPort(t.dstPort, op, object),
  };
}

function canonicalMatch(family: Family, m: TupleMatch | undefined, op: string, object: string): TupleMatch | undefined {
  if (!m) return undefined;
  return {
    ...(m.src !== undefined ? { src: canonicalAddress(family, m.src, op, object) } : {}),
    ...(m.dst !== undefined ? { dst: canonicalAddress(family, m.dst, op, object) } : {}),
    ...(m.srcPort !== undefined ? { srcPort: checkPort(m.srcPort, op, object) } : {}),
    ...(m.dstPort !== undefined ? { dstPort: checkPort(m.dstPort, op, object) } : {}),
  };
}

/**
 * In-memory kernel model of the conntrack table. `insert` refuses (EEXIST) a
 * flow whose original or reply tuple is already tracked, as the kernel's
 * hash-check insert does; bad addresses or ports are EINVAL. `delete` checks
 * every filter before deleting anything (the tool parses a whole batch first),
 * then applies them in order, so a flow selected by two filters is deleted and
 * counted once. Listing is in insertion order.
 */
export class FakeConntrack implements ConntrackClient {
  private readonly table = new Map<string, Flow>();
  private readonly log: FakeConntrackWrite[] = [];
  /** When set, every call rejects with this error (to test failure handling). */
  failWith: KernelError | null = null;
  /** When set, the next list stops after this many flows with a PartialListError (EINTR), then clears. */
  interruptNextListAfter: number | null = null;

  /** Every accepted write; `writes.slice(mark)` gives those since `mark = writes.length`. */
  get writes(): readonly FakeConntrackWrite[] {
    return this.log;
  }

  /** Every flow of every family and protocol, in insertion order. */
  flows(): Flow[] {
    return [...this.table.values()];
  }

  /**
   * Adds a flow, as traffic (or `conntrack -I`) would. Rejects with EEXIST if
   * its original or reply tuple is tracked already, EINVAL for bad values.
   */
  insert(flow: Flow): Promise<void> {
    try {
      this.check();
      const object = formatFlow(flow);
      const f: Flow = {
        ...flow,
        original: canonicalTuple(flow.family, flow.original, 'insert', object),
        reply: canonicalTuple(flow.family, flow.reply, 'insert', object),
      };
      const replyKey = flowKey({ protocol: f.protocol, original: f.reply });
      for (const other of this.table.values()) {
        if (other.family !== f.family || other.protocol !== f.protocol) continue;
        const keys = [flowKey(other), flowKey({ protocol: other.protocol, original: other.reply })];
        if (keys.includes(flowKey(f)) || keys.includes(replyKey)) throw new KernelError('EEXIST', 'insert', object);
      }
      this.table.set(`${f.family} ${flowKey(f)}`, f);
      this.log.push({ op: 'insert', object, deleted: 0 });
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  list(family: Family, protocol: FlowProtocol): Promise<Flow[]> {
    try {
      this.check();
      const flows = this.flows().filter((f) => f.family === family && f.protocol === protocol);
      const cut = this.interruptNextListAfter;
      if (cut !== null) {
        this.interruptNextListAfter = null;
        if (cut < flows.length) throw new PartialListError('list', `${family}/${protocol}`, flows.slice(0, cut));
      }
      return Promise.resolve(flows);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  delete(filters: readonly FlowFilter[]): Promise<number> {
    try {
      this.check();
      const checked = filters.map((f) => {
        const object = filterKey(f);
        return {
          ...f,
          original: canonicalMatch(f.family, f.original, 'delete', object),
          reply: canonicalMatch(f.family, f.reply, 'delete', object),
        };
      });
      let total = 0;
      for (const f of checked) {
        let n = 0;
        for (const [key, flow] of this.table) {
          if (!filterMatches(f, flow)) continue;
          this.table.delete(key);
          n++;
        }
        this.log.push({ op: 'delete', object: filterKey(f), deleted: n });
        total += n;
      }
      return Promise.resolve(total);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private check(): void {
    if (this.failWith) throw this.failWith;
  }
}
