// The text of the `conntrack` tool (conntrack-tools 1.4.x): the arguments we
// give it and the flow lines it prints. Pure. A flow line, as printed by
// `conntrack -L -o extended` (the `ipv4 2` prefix is absent without `-o
// extended`, e.g. in what `-D` prints):
//
//   ipv4     2 udp      17 59 src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.244.0.11 dst=10.0.0.1 sport=8053 dport=40000 mark=0 use=1
//
// i.e. [l3name l3num] l4name l4num timeout [TCP/SCTP state] then key=value
// fields and [FLAGS]. The first src/dst/sport/dport are the original tuple, the
// second the reply tuple. With nf_conntrack_acct=1 each tuple is followed by
// packets=N bytes=N; zones, marks, labels, secctx and ids add more key=value
// fields, which we ignore.

import { KernelError } from '../netlink/errors.ts';
import { parseIp } from '../model/ip.ts';
import { type Family, type Flow, type FlowFilter, type FlowProtocol, type TupleMatch, protocolNumbers } from './types.ts';

/** The tool's name for a family (`-f`). */
export function familyArg(family: Family): 'ipv4' | 'ipv6' {
  return family === 'inet' ? 'ipv4' : 'ipv6';
}

/** Arguments listing the flows of one family and protocol, with the family on every line. */
export function listArgs(family: Family, protocol: FlowProtocol): string[] {
  return ['-L', '-f', familyArg(family), '-p', protocol, '-o', 'extended'];
}

function matchArgs(dir: 'orig' | 'reply', m: TupleMatch | undefined): string[] {
  if (!m) return [];
  const out: string[] = [];
  if (m.src !== undefined) out.push(`--${dir}-src`, m.src);
  if (m.dst !== undefined) out.push(`--${dir}-dst`, m.dst);
  if (m.srcPort !== undefined) out.push(`--${dir}-port-src`, String(m.srcPort));
  if (m.dstPort !== undefined) out.push(`--${dir}-port-dst`, String(m.dstPort));
  return out;
}

/** Arguments of one `conntrack -D` deleting what `filter` selects (port options need `-p` first). */
export function deleteArgs(filter: FlowFilter): string[] {
  return ['-D', '-f', familyArg(filter.family), '-p', filter.protocol,
    ...matchArgs('orig', filter.original), ...matchArgs('reply', filter.reply)];
}

/**
 * The input of `conntrack -R` (one command line per line, all parsed before any
 * runs: a bad line fails the whole batch with exit 2 and deletes nothing).
 */
export function deleteBatch(filters: readonly FlowFilter[]): string {
  return filters.map((f) => `${deleteArgs(f).join(' ')}\n`).join('');
}

function isProtocol(name: string): name is FlowProtocol {
  return Object.hasOwn(protocolNumbers, name);
}

function bad(line: string, why: string): KernelError {
  return new KernelError('EBADMSG', 'parse conntrack output', line.trim().slice(0, 200), why);
}

function port(text: string, line: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw bad(line, `bad port ${text}`);
  return Number(text);
}

/**
 * Parses one flow line of `conntrack -L` / `-D` output. The family comes from
 * the `ipv4`/`ipv6` prefix when present, else from the addresses. Addresses
 * are returned canonical (RFC 5952). Throws `KernelError` `EBADMSG` for a line
 * that is not a tcp/udp/sctp flow with both tuples.
 */
export function parseFlowLine(line: string): Flow {
  const tokens = line.trim().split(/\s+/);
  let i = 0;
  let family: Family | null = null;
  if (tokens[0] === 'ipv4' || tokens[0] === 'ipv6') {
    family = tokens[0] === 'ipv4' ? 'inet' : 'inet6';
    i = 2;
  }
  const protocol = tokens[i] ?? '';
  if (!isProtocol(protocol)) throw bad(line, 'not a tcp, udp or sctp flow');
  if (tokens[i + 1] !== String(protocolNumbers[protocol])) throw bad(line, 'protocol number does not match its name');
  const timeoutText = tokens[i + 2] ?? '';
  if (!/^[0-9]+$/.test(timeoutText)) throw bad(line, 'no timeout');
  const fields: Record<'src' | 'dst' | 'sport' | 'dport', string[]> = { src: [], dst: [], sport: [], dport: [] };
  for (const tok of tokens.slice(i + 3)) {
    const eq = tok.indexOf('=');
    if (eq < 0) continue; // a TCP/SCTP state word or a [FLAG]
    const key = tok.slice(0, eq);
    if (key === 'src' || key === 'dst' || key === 'sport' || key === 'dport') fields[key].push(tok.slice(eq + 1));
  }
  for (const [key, values] of Object.entries(fields)) {
    if (values.length !== 2) throw bad(line, `expected ${key}= in both tuples, found ${values.length}`);
  }
  const addr = (text: string): string => {
    const ip = parseIp(text);
    if (!ip) throw bad(line, `bad address ${text}`);
    const f: Family = ip.family === 'IPv4' ? 'inet' : 'inet6';
    family ??= f;
    if (f !== family) throw bad(line, `address ${text} is not ${family}`);
    return ip.text;
  };
  const tuple = (n: 0 | 1) => ({
    src: addr(fields.src[n]!), dst: addr(fields.dst[n]!),
    srcPort: port(fields.sport[n]!, line), dstPort: port(fields.dport[n]!, line),
  });
  const original = tuple(0);
  const reply = tuple(1);
  return { family: family!, protocol, original, reply, timeout: Number(timeoutText) };
}

/** Parses every non-empty line of the tool's stdout as a flow (see parseFlowLine). */
export function parseFlowLines(stdout: string): Flow[] {
  return stdout.split('\n').filter((l) => l.trim() !== '').map(parseFlowLine);
}

/**
 * The count in the tool's summary on stderr (`... 3 flow entries have been
 * shown.` / `deleted.`), or null when there is none (batch mode prints none).
 */
export function summaryCount(stderr: string, verb: 'shown' | 'deleted'): number | null {
  const m = new RegExp(`(\\d+) flow entries have been ${verb}`).exec(stderr);
  return m ? Number(m[1]) : null;
}

// glibc strerror() texts the tool prints after "Operation failed: ", by errno name.
const strerrors: readonly (readonly [string, string])[] = [
  ['EPERM', 'Operation not permitted'],
  ['ENOENT', 'No such file or directory'],
  ['EINTR', 'Interrupted system call'],
  ['EAGAIN', 'Resource temporarily unavailable'],
  ['ENOMEM', 'Cannot allocate memory'],
  ['EBUSY', 'Device or resource busy'],
  ['EEXIST', 'File exists'],
  ['EINVAL', 'Invalid argument'],
  ['ENOBUFS', 'No buffer space available'],
  ['EOPNOTSUPP', 'Operation not supported'],
  ['EPROTONOSUPPORT', 'Protocol not supported'],
  ['EAFNOSUPPORT', 'Address family not supported by protocol'],
  ['ECONNREFUSED', 'Connection refused'],
];

/**
 * The errno name behind a failed run of the tool, read from its stderr: the
 * kernel's error text after "Operation failed:", a refused argument (exit 2:
 * EINVAL), or "Such conntrack exists" (EEXIST). Null when nothing is recognised.
 */
export function classifyStderr(stderr: string, exitCode: number | null): string | null {
  if (/Such conntrack exists/.test(stderr)) return 'EEXIST';
  if (/Can't open handler|can't open handler/i.test(stderr)) return 'EOPNOTSUPP';
  const failed = /Operation failed: (.*)/.exec(stderr)?.[1] ?? stderr;
  for (const [code, text] of strerrors) if (failed.includes(text)) return code;
  if (exitCode === 2) return 'EINVAL';
  return null;
}
