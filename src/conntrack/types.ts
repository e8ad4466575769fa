// Kernel vocabulary for connection tracking (nf_conntrack): a flow is one
// conntrack entry with its two tuples. The original tuple is the packet as the
// client sent it (client → Service IP:port); the reply tuple is what the kernel
// expects back after NAT (endpoint → client), so for a flow that IPVS or DNAT
// sent to a backend, `reply.src`/`reply.srcPort` name that backend.

/** Address family of a flow (the kernel's AF_INET / AF_INET6). */
export type Family = 'inet' | 'inet6';

/** Transport protocols whose flows we read, in conntrack's spelling. */
export type FlowProtocol = 'tcp' | 'udp' | 'sctp';

/** IP protocol numbers of each protocol (IPPROTO_*). */
export const protocolNumbers: Readonly<Record<FlowProtocol, number>> = { tcp: 6, udp: 17, sctp: 132 };

/** One direction of a flow: addresses in canonical text (RFC 5952 for IPv6), ports 0–65535. */
export interface Tuple {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
}

/** One conntrack entry. */
export interface Flow {
  readonly family: Family;
  readonly protocol: FlowProtocol;
  readonly original: Tuple;
  readonly reply: Tuple;
  /** Seconds until the kernel expires the entry (as listed; informative only). */
  readonly timeout: number;
}

/** Part of a tuple to match; an absent field matches anything. */
export interface TupleMatch {
  readonly src?: string;
  readonly dst?: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
}

/**
 * Which flows to delete: those of `family` and `protocol` whose original and
 * reply tuples equal every field given (kube-proxy's conntrackFilter; absent
 * fields are wildcards). A filter with no tuple fields matches every flow of
 * its family and protocol.
 */
export interface FlowFilter {
  readonly family: Family;
  readonly protocol: FlowProtocol;
  readonly original?: TupleMatch;
  readonly reply?: TupleMatch;
}

function tupleMatches(t: Tuple, m: TupleMatch | undefined): boolean {
  if (!m) return true;
  return (m.src === undefined || m.src === t.src) && (m.dst === undefined || m.dst === t.dst)
    && (m.srcPort === undefined || m.srcPort === t.srcPort) && (m.dstPort === undefined || m.dstPort === t.dstPort);
}

/** True when `flow` is one of the flows `filter` selects. Pure. */
export function filterMatches(filter: FlowFilter, flow: Flow): boolean {
  return filter.family === flow.family && filter.protocol === flow.protocol
    && tupleMatches(flow.original, filter.original) && tupleMatches(flow.reply, filter.reply);
}

function tupleText(t: Tuple): string {
  const host = (a: string): string => (a.includes(':') ? `[${a}]` : a);
  return `${host(t.src)}:${t.srcPort}->${host(t.dst)}:${t.dstPort}`;
}

/**
 * The one key of a flow: protocol plus original tuple, e.g.
 * `udp 10.0.0.1:40000->10.96.0.10:53` (the kernel allows one entry per original tuple and zone).
 */
export function flowKey(flow: Pick<Flow, 'protocol' | 'original'>): string {
  return `${flow.protocol} ${tupleText(flow.original)}`;
}

/** A flow for logs: `udp 10.0.0.1:40000->10.96.0.10:53 reply 10.244.0.11:8053->10.0.0.1:40000`. */
export function formatFlow(flow: Flow): string {
  return `${flowKey(flow)} reply ${tupleText(flow.reply)}`;
}

function matchText(name: string, m: TupleMatch | undefined): string[] {
  if (!m) return [];
  const out: string[] = [];
  if (m.src !== undefined) out.push(`${name}-src=${m.src}`);
  if (m.srcPort !== undefined) out.push(`${name}-port-src=${m.srcPort}`);
  if (m.dst !== undefined) out.push(`${name}-dst=${m.dst}`);
  if (m.dstPort !== undefined) out.push(`${name}-port-dst=${m.dstPort}`);
  return out;
}

/**
 * The one key of a filter, also its text for logs, e.g.
 * `inet udp orig-dst=10.96.0.10 orig-port-dst=53 reply-src=10.244.0.11 reply-port-src=8053`.
 */
export function filterKey(f: FlowFilter): string {
  return [f.family, f.protocol, ...matchText('orig', f.original), ...matchText('reply', f.reply)].join(' ');
}
