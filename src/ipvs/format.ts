import { flagNames, schedulerFlagNames } from './flags.ts';
import {
  type ForwardMethod, type RealServer, type RealServerStatus, type Stats, type VirtualServer, type VirtualServerStatus,
  realServerKey, virtualServerKey,
} from './types.ts';

// Renders IPVS tables the way operators know them: the JSON shape used wherever
// we print IPVS state, ipvsadm -Ln text and ipvsadm -Sn (save) text.

/** One virtual server with its real servers, as printed. */
export interface TableEntry<V extends VirtualServer = VirtualServer, R extends RealServer = RealServer> {
  readonly virtualServer: V;
  readonly realServers: readonly R[];
}

export interface RealServerJson {
  address: string;
  port: number;
  weight: number;
  forward: ForwardMethod;
  upperThreshold: number;
  lowerThreshold: number;
  activeConnections: number;
  inactiveConnections: number;
  tunnel?: { type: string; port: number; flags: number };
  stats?: Stats;
}

export interface VirtualServerJson {
  family: 'inet' | 'inet6';
  protocol: 'TCP' | 'UDP' | 'SCTP' | null;
  address: string | null;
  port: number | null;
  fwmark: number | null;
  scheduler: string;
  flags: string[];
  persistence: number | null;
  netmask: number | null;
  realServers: RealServerJson[];
  stats?: Stats;
}

function isStatus(rs: RealServer): rs is RealServerStatus {
  return 'activeConnections' in rs;
}

function hasStats(vs: VirtualServer): vs is VirtualServerStatus {
  return 'stats' in vs;
}

/** Orders entries by key so output is reproducible whatever order the kernel dumps in. */
export function sortTable<V extends VirtualServer, R extends RealServer>(table: readonly TableEntry<V, R>[]): TableEntry<V, R>[] {
  const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...table]
    .map((e) => ({ virtualServer: e.virtualServer, realServers: [...e.realServers].sort((a, b) => byKey(realServerKey(a), realServerKey(b))) }))
    .sort((a, b) => byKey(virtualServerKey(a.virtualServer), virtualServerKey(b.virtualServer)));
}

/** The JSON shape of a table (sorted); `stats` adds counters where they were read. */
export function toJson(table: readonly TableEntry[], opts: { stats?: boolean } = {}): { virtualServers: VirtualServerJson[] } {
  return {
    virtualServers: sortTable(table).map(({ virtualServer: vs, realServers }) => {
      const out: VirtualServerJson = {
        family: vs.family,
        protocol: vs.protocol,
        address: vs.address,
        port: vs.port,
        fwmark: vs.fwmark,
        scheduler: vs.scheduler,
        flags: flagNames(vs.scheduler, vs.flags),
        persistence: vs.persistence ? vs.persistence.timeout : null,
        netmask: vs.persistence ? vs.persistence.prefixLength : null,
        realServers: realServers.map((rs) => {
          const r: RealServerJson = {
            address: rs.address,
            port: rs.port,
            weight: rs.weight,
            forward: rs.forward,
            upperThreshold: rs.upperThreshold,
            lowerThreshold: rs.lowerThreshold,
            activeConnections: isStatus(rs) ? rs.activeConnections : 0,
            inactiveConnections: isStatus(rs) ? rs.inactiveConnections : 0,
          };
          if (rs.tunnel) r.tunnel = { ...rs.tunnel };
          if (opts.stats && isStatus(rs)) r.stats = rs.stats;
          return r;
        }),
      };
      if (opts.stats && hasStats(vs)) out.stats = vs.stats;
      return out;
    }),
  };
}

/** IPv4 prefix length as a dotted mask (24 → 255.255.255.0). */
export function prefixToMask(prefix: number): string {
  const bits = prefix <= 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

function hostPort(family: string, address: string, port: number): string {
  return family === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

const forwardText: Readonly<Record<ForwardMethod, string>> = {
  masq: 'Masq', local: 'Local', tunnel: 'Tunnel', droute: 'Route', bypass: 'Bypass',
};

function serviceText(vs: VirtualServer): string {
  if (vs.fwmark !== null) return `FWM  ${vs.fwmark} ${vs.family === 'inet6' ? 'IPv6 ' : ''}`;
  return `${(vs.protocol ?? '').padEnd(4)} ${hostPort(vs.family, vs.address ?? '', vs.port ?? 0)} `;
}

function persistenceText(vs: VirtualServer): string {
  if (!vs.persistence) return '';
  let s = ` persistent ${vs.persistence.timeout}`;
  const full = vs.family === 'inet6' ? 128 : 32;
  if (vs.persistence.prefixLength !== full) {
    s += ` mask ${vs.family === 'inet6' ? vs.persistence.prefixLength : prefixToMask(vs.persistence.prefixLength)}`;
  }
  if (vs.persistenceEngine) s += ` pe ${vs.persistenceEngine}`;
  return s;
}

/** Text like `ipvsadm -Ln` (or `ipvsadm -Ln --stats` with `stats`), sorted by key. */
export function renderList(table: readonly TableEntry[], opts: { stats?: boolean; version?: string; size?: number } = {}): string {
  const lines = [`IP Virtual Server version ${opts.version ?? '1.2.1'} (size=${opts.size ?? 4096})`];
  if (opts.stats) {
    lines.push('Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes', '  -> RemoteAddress:Port');
  } else {
    lines.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  }
  const statCols = (s: Stats | undefined): string => {
    const v = s ?? { connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0 };
    return [v.connections, v.packetsIn, v.packetsOut, v.bytesIn, v.bytesOut].map((n) => String(n).padStart(8)).join(' ');
  };
  for (const { virtualServer: vs, realServers } of sortTable(table)) {
    if (opts.stats) {
      lines.push(`${serviceText(vs).trimEnd().padEnd(33)} ${statCols(hasStats(vs) ? vs.stats : undefined)}`);
      for (const rs of realServers) {
        lines.push(`  -> ${hostPort(rs.family, rs.address, rs.port).padEnd(28)} ${statCols(isStatus(rs) ? rs.stats : undefined)}`);
      }
      continue;
    }
    const sched = schedulerFlagNames(vs.scheduler, vs.flags);
    let line = `${serviceText(vs)}${vs.scheduler}${sched.length ? ` (${sched.join(',')})` : ''}${persistenceText(vs)}`;
    if (vs.flags & 0x0004) line += ' ops';
    lines.push(line);
    for (const rs of realServers) {
      const active = isStatus(rs) ? rs.activeConnections : 0;
      const inactive = isStatus(rs) ? rs.inactiveConnections : 0;
      lines.push(`  -> ${hostPort(rs.family, rs.address, rs.port).padEnd(28)} ${forwardText[rs.forward].padEnd(7)} ` +
        `${String(rs.weight).padEnd(6)} ${String(active).padEnd(10)} ${String(inactive).padEnd(10)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function saveService(vs: VirtualServer): string {
  if (vs.fwmark !== null) return `-f ${vs.fwmark}${vs.family === 'inet6' ? ' -6' : ''}`;
  const flag = vs.protocol === 'UDP' ? '-u' : vs.protocol === 'SCTP' ? '--sctp-service' : '-t';
  return `${flag} ${hostPort(vs.family, vs.address ?? '', vs.port ?? 0)}`;
}

const forwardSave: Readonly<Record<ForwardMethod, string>> = { masq: '-m', local: '-m', tunnel: '-i', droute: '-g', bypass: '-m' };

/** Text like `ipvsadm -Sn` (restorable with `ipvsadm -R`), sorted by key. */
export function renderSave(table: readonly TableEntry[]): string {
  const lines: string[] = [];
  for (const { virtualServer: vs, realServers } of sortTable(table)) {
    const svc = saveService(vs);
    let line = `-A ${svc} -s ${vs.scheduler}`;
    if (vs.persistence) {
      line += ` -p ${vs.persistence.timeout}`;
      const full = vs.family === 'inet6' ? 128 : 32;
      if (vs.persistence.prefixLength !== full) {
        line += ` -M ${vs.family === 'inet6' ? vs.persistence.prefixLength : prefixToMask(vs.persistence.prefixLength)}`;
      }
      if (vs.persistenceEngine) line += ` --pe ${vs.persistenceEngine}`;
    }
    // ipvsadm's order: -o before -b.
    if (vs.flags & 0x0004) line += ' -o';
    const sched = schedulerFlagNames(vs.scheduler, vs.flags);
    if (sched.length) line += ` -b ${sched.join(',')}`;
    lines.push(line);
    for (const rs of realServers) {
      let r = `-a ${svc} -r ${hostPort(rs.family, rs.address, rs.port)} ${forwardSave[rs.forward]} -w ${rs.weight}`;
      if (rs.tunnel) {
        r += ` --tun-type ${rs.tunnel.type}`;
        if (rs.tunnel.type === 'gue') r += ` --tun-port ${rs.tunnel.port}`;
        if (rs.tunnel.type !== 'ipip') r += tunnelCsumText(rs.tunnel.flags);
      }
      lines.push(r);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** IP_VS_TUNNEL_ENCAP_FLAG_{NOCSUM=0,CSUM=1,REMCSUM=2} as ipvsadm's options. */
function tunnelCsumText(flags: number): string {
  if (flags & 0x2) return ' --tun-remcsum';
  if (flags & 0x1) return ' --tun-csum';
  return ' --tun-nocsum';
}
