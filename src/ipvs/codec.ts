import { isIPv4, isIPv6 } from 'node:net';
import { formatIp } from '../model/ip.ts';
import { AttrCursor, type Attr, be16, decodeAttrs, encodeAttrs, readBe16, readStr, readU16, readU32, str, u16, u32, u64At, u8 } from '../netlink/attributes.ts';
import { encodeGenl, genlHeaderLength } from '../netlink/message.ts';
import {
  AF_INET, AF_INET6, Cmd, CmdAttr, DestAttr, FWD_MASK, IPVS_GENL_VERSION, InfoAttr, StatsAttr, SVC_F_PERSISTENT,
  SvcAttr, tunnelTypes,
} from './constants.ts';
import {
  type Family, type ForwardMethod, type IpvsInfo, type Protocol, type RealServer, type RealServerConnections, type RealServerId, type RealServerStatus,
  type Stats, type Timeouts, type VirtualServer, type VirtualServerId, type VirtualServerStatus,
  forwardNumbers, protocolNumbers, vsFlagMask, zeroStats,
} from './types.ts';

// Pure encoding and decoding of IPVS generic-netlink payloads (genlmsghdr +
// attributes). Byte order: ports (and tunnel ports) are network order, the
// IPv4 persistence netmask is a network-order mask, everything else is host order.

/** Thrown when a kernel answer cannot be decoded (missing or malformed attributes). */
export class DecodeError extends Error {
  readonly code = 'EBADMSG';
}

const familyNumber = (f: Family): number => (f === 'inet6' ? AF_INET6 : AF_INET);

function familyOf(n: number | undefined): Family {
  if (n === AF_INET) return 'inet';
  if (n === AF_INET6) return 'inet6';
  throw new DecodeError(`unknown address family ${n}`);
}

/** Address bytes: 4 for IPv4, 16 for IPv6. Throws on an address that does not parse. */
export function addressBytes(family: Family, address: string): Buffer {
  if (family === 'inet') {
    if (!isIPv4(address)) throw new DecodeError(`not an IPv4 address: ${address}`);
    return Buffer.from(address.split('.').map(Number));
  }
  return ipv6Bytes(address);
}

function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address) || address.includes('%')) throw new DecodeError(`not an IPv6 address: ${address}`);
  let text = address;
  let v4: number[] = [];
  if (text.includes('.')) { // embedded IPv4 (::ffff:1.2.3.4): parse as two zero groups, patch the bytes
    const i = text.lastIndexOf(':');
    v4 = text.slice(i + 1).split('.').map(Number);
    text = `${text.slice(0, i + 1)}0:0`;
  }
  const double = text.indexOf('::');
  const head = double < 0 ? text : text.slice(0, double);
  const tail = double < 0 ? '' : text.slice(double + 2);
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = double < 0 ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...new Array<string>(zeros).fill('0'), ...t].map((g) => parseInt(g, 16));
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  v4.forEach((b, i) => { out[12 + i] = b; });
  return out;
}

/**
 * Formats the address bytes of a kernel answer (IPv4 in the first 4 of 16) with
 * the model's formatter, so kernel keys and desired keys are spelled alike.
 */
export function formatAddress(family: Family, bytes: Buffer): string {
  return formatIp(bytes.subarray(0, family === 'inet' ? 4 : 16));
}

/** Canonical text of an address (what the kernel would give back). */
export function canonicalAddress(family: Family, address: string): string {
  return formatAddress(family, addressBytes(family, address));
}

/** IPv4 prefix length → network-order mask value. */
function maskOf(prefix: number): number {
  return prefix <= 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function prefixOfMask(mask: number): number {
  let n = 0;
  for (let bit = 31; bit >= 0 && (mask & (1 << bit)) !== 0; bit--) n++;
  return n;
}

function serviceIdAttrs(vs: VirtualServerId): Attr[] {
  const attrs: Attr[] = [{ type: SvcAttr.Af, value: u16(familyNumber(vs.family)) }];
  if (vs.fwmark !== null) {
    attrs.push({ type: SvcAttr.Fwmark, value: u32(vs.fwmark) });
  } else {
    attrs.push(
      { type: SvcAttr.Protocol, value: u16(protocolNumbers[vs.protocol ?? 'TCP']) },
      { type: SvcAttr.Addr, value: addressBytes(vs.family, vs.address ?? '') },
      { type: SvcAttr.Port, value: be16(vs.port ?? 0) },
    );
  }
  return attrs;
}

function netmaskBytes(vs: VirtualServer): Buffer {
  if (vs.family === 'inet6') return u32(vs.persistence?.prefixLength ?? 128);
  // The kernel keeps the IPv4 netmask as a __be32 mask (nla_get_be32).
  const b = Buffer.alloc(4);
  b.writeUInt32BE(maskOf(vs.persistence?.prefixLength ?? 32));
  return b;
}

function serviceAttrs(vs: VirtualServer): Attr[] {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(((vs.flags & vsFlagMask) | (vs.persistence ? SVC_F_PERSISTENT : 0)) >>> 0, 0);
  flags.writeUInt32LE(0xffffffff, 4); // mask: every bit is ours to set
  const attrs = [
    ...serviceIdAttrs(vs),
    { type: SvcAttr.SchedName, value: str(vs.scheduler) },
    { type: SvcAttr.Flags, value: flags },
    { type: SvcAttr.Timeout, value: u32(vs.persistence?.timeout ?? 0) },
    { type: SvcAttr.Netmask, value: netmaskBytes(vs) },
  ];
  if (vs.persistenceEngine) attrs.push({ type: SvcAttr.PeName, value: str(vs.persistenceEngine) });
  return attrs;
}

function destIdAttrs(rs: RealServerId): Attr[] {
  return [
    { type: DestAttr.Addr, value: addressBytes(rs.family, rs.address) },
    { type: DestAttr.Port, value: be16(rs.port) },
    { type: DestAttr.AddrFamily, value: u16(familyNumber(rs.family)) },
  ];
}

function destAttrs(rs: RealServer): Attr[] {
  const attrs = [
    ...destIdAttrs(rs),
    { type: DestAttr.FwdMethod, value: u32(forwardNumbers[rs.forward]) },
    { type: DestAttr.Weight, value: u32(rs.weight) },
    { type: DestAttr.UThresh, value: u32(rs.upperThreshold) },
    { type: DestAttr.LThresh, value: u32(rs.lowerThreshold) },
  ];
  if (rs.forward === 'tunnel' && rs.tunnel) {
    attrs.push(
      { type: DestAttr.TunType, value: u8(tunnelTypes.indexOf(rs.tunnel.type)) },
      { type: DestAttr.TunPort, value: be16(rs.tunnel.port) },
      { type: DestAttr.TunFlags, value: u16(rs.tunnel.flags) },
    );
  }
  return attrs;
}

const genl = (cmd: number, attrs: Attr[]): Buffer => encodeGenl({ cmd, version: IPVS_GENL_VERSION }, encodeAttrs(attrs));

/** Payload builders, one per kernel verb. Throw `DecodeError` on an unparseable address. */
export const encode = {
  newService: (vs: VirtualServer): Buffer => genl(Cmd.NewService, [{ type: CmdAttr.Service, value: serviceAttrs(vs) }]),
  setService: (vs: VirtualServer): Buffer => genl(Cmd.SetService, [{ type: CmdAttr.Service, value: serviceAttrs(vs) }]),
  delService: (vs: VirtualServerId): Buffer => genl(Cmd.DelService, [{ type: CmdAttr.Service, value: serviceIdAttrs(vs) }]),
  getService: (vs: VirtualServerId): Buffer => genl(Cmd.GetService, [{ type: CmdAttr.Service, value: serviceIdAttrs(vs) }]),
  dumpServices: (): Buffer => genl(Cmd.GetService, []),
  newDest: (vs: VirtualServerId, rs: RealServer): Buffer => genl(Cmd.NewDest, [
    { type: CmdAttr.Service, value: serviceIdAttrs(vs) }, { type: CmdAttr.Dest, value: destAttrs(rs) }]),
  setDest: (vs: VirtualServerId, rs: RealServer): Buffer => genl(Cmd.SetDest, [
    { type: CmdAttr.Service, value: serviceIdAttrs(vs) }, { type: CmdAttr.Dest, value: destAttrs(rs) }]),
  delDest: (vs: VirtualServerId, rs: RealServerId): Buffer => genl(Cmd.DelDest, [
    { type: CmdAttr.Service, value: serviceIdAttrs(vs) }, { type: CmdAttr.Dest, value: destIdAttrs(rs) }]),
  dumpDests: (vs: VirtualServerId): Buffer => genl(Cmd.GetDest, [{ type: CmdAttr.Service, value: serviceIdAttrs(vs) }]),
  flush: (): Buffer => genl(Cmd.Flush, []),
  zero: (vs?: VirtualServerId): Buffer => genl(Cmd.Zero, vs ? [{ type: CmdAttr.Service, value: serviceIdAttrs(vs) }] : []),
  getInfo: (): Buffer => genl(Cmd.GetInfo, []),
  getConfig: (): Buffer => genl(Cmd.GetConfig, []),
  setConfig: (t: Partial<Timeouts>): Buffer => genl(Cmd.SetConfig, [
    { type: CmdAttr.TimeoutTcp, value: u32(t.tcp ?? 0) },
    { type: CmdAttr.TimeoutTcpFin, value: u32(t.tcpFin ?? 0) },
    { type: CmdAttr.TimeoutUdp, value: u32(t.udp ?? 0) },
  ]),
};

/** Checks that a kernel answer is a generic-netlink message of `expectCmd`. Throws `DecodeError`. */
function checkCommand(payload: Buffer, expectCmd: number): void {
  if (payload.length < genlHeaderLength) throw new DecodeError(`generic netlink payload of ${payload.length} bytes`);
  if (payload[0] !== expectCmd) throw new DecodeError(`expected IPVS command ${expectCmd}, got ${payload[0]}`);
}

function topAttrs(payload: Buffer, expectCmd: number): Map<number, Buffer> {
  checkCommand(payload, expectCmd);
  return decodeAttrs(payload.subarray(genlHeaderLength));
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new DecodeError(`missing ${what}`);
  return v;
}

/**
 * Stats from the STATS64 nest when present (kernels since 4.0: every counter
 * u64), else from the 32-bit STATS nest (bytes u64, the rest u32). Read in
 * place: a full sync decodes one per virtual server.
 */
function decodeStats(s64: Buffer | undefined, s32: Buffer | undefined): Stats {
  const nest = s64 ?? s32;
  if (!nest) return zeroStats;
  // Indexed by IPVS_STATS_ATTR_* (1-10); a missing counter reads 0.
  const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const c = new AttrCursor(nest);
  while (c.next()) {
    if (c.type < 1 || c.type > 10) continue;
    const wide = s64 !== undefined || c.type === StatsAttr.InBytes || c.type === StatsAttr.OutBytes;
    if (c.length < (wide ? 8 : 4)) throw new DecodeError(`stats counter ${c.type} is ${c.length} bytes`);
    v[c.type] = wide ? u64At(nest, c.offset) : nest.readUInt32LE(c.offset);
  }
  return {
    connections: v[StatsAttr.Conns]!, packetsIn: v[StatsAttr.InPkts]!, packetsOut: v[StatsAttr.OutPkts]!,
    bytesIn: v[StatsAttr.InBytes]!, bytesOut: v[StatsAttr.OutBytes]!, cps: v[StatsAttr.Cps]!,
    ppsIn: v[StatsAttr.InPps]!, ppsOut: v[StatsAttr.OutPps]!, bpsIn: v[StatsAttr.InBps]!, bpsOut: v[StatsAttr.OutBps]!,
  };
}

const protocolByNumber = new Map<number, Protocol>(Object.entries(protocolNumbers).map(([k, v]) => [v, k as Protocol]));

/**
 * Decodes the nested service attributes of a kernel answer, with the stats
 * nests only when asked: a full sync reads every virtual server and compares
 * only its settings. Throws `DecodeError`.
 */
function readService(svc: Buffer, withStats: false): VirtualServer;
function readService(svc: Buffer, withStats: true): VirtualServerStatus;
function readService(svc: Buffer, withStats: boolean): VirtualServer | VirtualServerStatus {
  const m = decodeAttrs(svc);
  const family = familyOf(readU16(m, SvcAttr.Af));
  const fwmark = readU32(m, SvcAttr.Fwmark) ?? 0;
  const flagsBuf = need(m.get(SvcAttr.Flags), 'service flags');
  const kernelFlags = flagsBuf.readUInt32LE(0);
  const persistent = (kernelFlags & SVC_F_PERSISTENT) !== 0;
  const netmaskBuf = m.get(SvcAttr.Netmask);
  const prefixLength = netmaskBuf === undefined ? (family === 'inet6' ? 128 : 32)
    : family === 'inet6' ? netmaskBuf.readUInt32LE(0) : prefixOfMask(netmaskBuf.readUInt32BE(0));
  let protocol: Protocol | null = null;
  let address: string | null = null;
  let port: number | null = null;
  if (fwmark === 0) {
    const p = need(readU16(m, SvcAttr.Protocol), 'service protocol');
    protocol = protocolByNumber.get(p) ?? null;
    if (protocol === null) throw new DecodeError(`unknown protocol ${p}`);
    address = formatAddress(family, need(m.get(SvcAttr.Addr), 'service address'));
    port = need(readBe16(m, SvcAttr.Port), 'service port');
  }
  const vs: VirtualServer = {
    family, protocol, address, port, fwmark: fwmark === 0 ? null : fwmark,
    scheduler: readStr(m, SvcAttr.SchedName) ?? '',
    flags: kernelFlags & vsFlagMask,
    persistence: persistent ? { timeout: readU32(m, SvcAttr.Timeout) ?? 0, prefixLength } : null,
    persistenceEngine: readStr(m, SvcAttr.PeName) || null,
  };
  return withStats ? { ...vs, stats: decodeStats(m.get(SvcAttr.Stats64), m.get(SvcAttr.Stats)) } : vs;
}

const forwardByNumber = new Map<number, ForwardMethod>(Object.entries(forwardNumbers).map(([k, v]) => [v, k as ForwardMethod]));

/** Reads a u32 (host order) attribute value in place. */
function u32At(buf: Buffer, offset: number, length: number, what: string): number {
  if (length < 4) throw new DecodeError(`${what} is ${length} bytes`);
  return buf.readUInt32LE(offset);
}

/**
 * Decodes the nested destination attributes; `vsFamily` is used when
 * ADDR_FAMILY is absent. Without `withStats` the two stats nests (two thirds of
 * the message) are skipped: the applier only needs connection counts, and it
 * reads them for every real server of a virtual server that loses one. Walks
 * the attributes in place, so a destination costs its object, its address
 * string and a cursor.
 * Throws `DecodeError`.
 */
function readDest(dest: Buffer, vsFamily: Family, withStats: false): RealServerConnections;
function readDest(dest: Buffer, vsFamily: Family, withStats: true): RealServerStatus;
function readDest(dest: Buffer, vsFamily: Family, withStats: boolean): RealServerConnections | RealServerStatus {
  let addrAt = -1, addrLength = 0, port = -1, af = -1, fwdNumber = 0, weight = 0, upper = 0, lower = 0;
  let tunType = 0, tunPort = 0, tunFlags = 0, active = 0, inactive = 0, persistent = 0;
  let s32: Buffer | undefined;
  let s64: Buffer | undefined;
  const c = new AttrCursor(dest);
  try {
    while (c.next()) {
      const at = c.offset;
      const length = c.length;
      switch (c.type) {
        case DestAttr.Addr: addrAt = at; addrLength = length; break;
        case DestAttr.Port: if (length < 2) throw new DecodeError('destination port is short'); port = dest.readUInt16BE(at); break;
        case DestAttr.AddrFamily: if (length < 2) throw new DecodeError('destination family is short'); af = dest.readUInt16LE(at); break;
        case DestAttr.FwdMethod: fwdNumber = u32At(dest, at, length, 'forwarding method'); break;
        case DestAttr.Weight: weight = u32At(dest, at, length, 'weight'); break;
        case DestAttr.UThresh: upper = u32At(dest, at, length, 'upper threshold'); break;
        case DestAttr.LThresh: lower = u32At(dest, at, length, 'lower threshold'); break;
        case DestAttr.ActiveConns: active = u32At(dest, at, length, 'active connections'); break;
        case DestAttr.InactConns: inactive = u32At(dest, at, length, 'inactive connections'); break;
        case DestAttr.PersistConns: persistent = u32At(dest, at, length, 'persistent connections'); break;
        case DestAttr.TunType: if (length >= 1) tunType = dest[at]!; break;
        case DestAttr.TunPort: if (length >= 2) tunPort = dest.readUInt16BE(at); break;
        case DestAttr.TunFlags: if (length >= 2) tunFlags = dest.readUInt16LE(at); break;
        case DestAttr.Stats: if (withStats) s32 = dest.subarray(at, at + length); break;
        case DestAttr.Stats64: if (withStats) s64 = dest.subarray(at, at + length); break;
        default: break;
      }
    }
  } catch (err) {
    throw err instanceof DecodeError ? err : new DecodeError((err as Error).message);
  }
  const family = af === -1 ? vsFamily : familyOf(af);
  if (addrAt < 0) throw new DecodeError('missing destination address');
  if (port < 0) throw new DecodeError('missing destination port');
  if (addrLength < (family === 'inet' ? 4 : 16)) throw new DecodeError(`destination address is ${addrLength} bytes`);
  const forward = forwardByNumber.get(fwdNumber & FWD_MASK) ?? 'masq';
  const address = formatIp(dest.subarray(addrAt, addrAt + (family === 'inet' ? 4 : 16)));
  const tunnel = forward === 'tunnel' ? { type: tunnelTypes[tunType] ?? 'ipip', port: tunPort, flags: tunFlags } : null;
  const rs: RealServerConnections = {
    family, address, port, weight, forward, upperThreshold: upper, lowerThreshold: lower, tunnel,
    activeConnections: active, inactiveConnections: inactive, persistentConnections: persistent,
  };
  return withStats ? { ...rs, stats: decodeStats(s64, s32) } : rs;
}

/** Decodes one service message (cmd NEW_SERVICE) of a dump or lookup. Throws `DecodeError`. */
export function decodeService(payload: Buffer): VirtualServerStatus {
  return readService(need(topAttrs(payload, Cmd.NewService).get(CmdAttr.Service), 'service attribute'), true);
}

/** Decodes one service message (cmd NEW_SERVICE) without its stats. Throws `DecodeError`. */
export function decodeServiceSettings(payload: Buffer): VirtualServer {
  return readService(need(topAttrs(payload, Cmd.NewService).get(CmdAttr.Service), 'service attribute'), false);
}

/** The destination nest of one destination message (cmd NEW_DEST) of a dump. */
function destNest(payload: Buffer): Buffer {
  // Found in place, without topAttrs' map: a full sync decodes one per real server.
  checkCommand(payload, Cmd.NewDest);
  let nest: Buffer | undefined;
  const c = new AttrCursor(payload, genlHeaderLength);
  // The last one wins, as in decodeAttrs.
  while (c.next()) if (c.type === CmdAttr.Dest) nest = payload.subarray(c.offset, c.offset + c.length);
  return need(nest, 'destination attribute');
}

/** Decodes one destination message (cmd NEW_DEST) of a dump. Throws `DecodeError`. */
export function decodeDest(payload: Buffer, vsFamily: Family): RealServerStatus {
  return readDest(destNest(payload), vsFamily, true);
}

/** Decodes one destination message (cmd NEW_DEST) of a dump without its stats. Throws `DecodeError`. */
export function decodeDestConnections(payload: Buffer, vsFamily: Family): RealServerConnections {
  return readDest(destNest(payload), vsFamily, false);
}

/** Decodes the GET_INFO answer (cmd SET_INFO). */
export function decodeInfo(payload: Buffer): IpvsInfo {
  const m = topAttrs(payload, Cmd.SetInfo);
  const v = need(readU32(m, InfoAttr.Version), 'version');
  return { version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`, connectionTableSize: readU32(m, InfoAttr.ConnTabSize) ?? 0 };
}

/** Decodes the GET_CONFIG answer (cmd SET_CONFIG). */
export function decodeTimeouts(payload: Buffer): Timeouts {
  const m = topAttrs(payload, Cmd.SetConfig);
  return {
    tcp: readU32(m, CmdAttr.TimeoutTcp) ?? 0,
    tcpFin: readU32(m, CmdAttr.TimeoutTcpFin) ?? 0,
    udp: readU32(m, CmdAttr.TimeoutUdp) ?? 0,
  };
}
