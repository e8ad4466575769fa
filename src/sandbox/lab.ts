import { fileURLToPath } from 'node:url';
import { ipBatch, run, startDaemon, type Daemon } from './exec.ts';
import { sendRequests, type RequestResult, type RequestSpec } from './requests.ts';

// A "lab" builds a tiny node inside the sandbox kernel: a bridge with pods
// (network namespaces joined by veth pairs, each running the whoami server) and
// optional "external" hosts on their own veth links to the root namespace.
// Every address lives inside the sandbox guest; nothing leaves it.

const serverScript = fileURLToPath(new URL('./whoami-server.ts', import.meta.url));
const clientScript = fileURLToPath(new URL('./whoami-client.ts', import.meta.url));

/** A pod: a network namespace on the lab bridge running the whoami server. */
export interface Pod {
  readonly name: string;
  readonly netns: string;
  readonly ip: string;
  /** TCP and UDP port the whoami server listens on. */
  readonly port: number;
}

/** An "external" client: a namespace on a point-to-point veth to the node. */
export interface ExternalHost {
  readonly name: string;
  readonly netns: string;
  readonly ip: string;
  /** The node's address on the link to this host (a node IP for NodePort tests). */
  readonly nodeIp: string;
}

export interface LabOptions {
  /** Prefix of namespace and link names; keep it short (links names are at most 15 bytes). */
  readonly prefix?: string;
  /** Bridge name (default `cbr0`). */
  readonly bridge?: string;
  /** First three octets of the pod /24 (default `10.244.0`); the bridge takes .1. */
  readonly podNet?: string;
}

/** Where a request starts: the node (root namespace), a pod, or an external host. */
export type From = { node: true } | { pod: Pod } | { external: ExternalHost };

/**
 * Test lab in the sandbox. Create with `Lab.create()`, always `close()` it
 * (idempotent; also removes what a half-finished `addPod` left behind).
 */
export class Lab {
  readonly bridge: string;
  readonly gateway: string;
  private readonly prefix: string;
  private readonly podNet: string;
  private readonly daemons: Daemon[] = [];
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private nextPod = 11;
  private nextExternal = 0;
  private closed = false;

  private constructor(opts: LabOptions) {
    this.prefix = opts.prefix ?? 'lab';
    this.bridge = opts.bridge ?? 'cbr0';
    this.podNet = opts.podNet ?? '10.244.0';
    this.gateway = `${this.podNet}.1`;
  }

  /** Creates the bridge. Fails with `CommandError` if `ip` fails (e.g. outside the sandbox). */
  static async create(opts: LabOptions = {}): Promise<Lab> {
    const lab = new Lab(opts);
    lab.links.push(lab.bridge);
    await ipBatch([
      `link add ${lab.bridge} type bridge`,
      `addr add ${lab.gateway}/24 dev ${lab.bridge}`,
      `link set ${lab.bridge} up`,
    ]);
    return lab;
  }

  /** Adds a pod with the next free address and starts its whoami server on `port`. */
  async addPod(name: string, port = 8080): Promise<Pod> {
    const ip = `${this.podNet}.${this.nextPod++}`;
    const netns = `${this.prefix}-${name}`;
    const hostIf = `v${this.prefix}${this.nextPod}`.slice(0, 15);
    this.namespaces.push(netns);
    this.links.push(hostIf);
    await run('ip', ['netns', 'add', netns]);
    await ipBatch([
      `link add ${hostIf} type veth peer name eth0 netns ${netns}`,
      `link set ${hostIf} master ${this.bridge}`,
      // As a CNI bridge plugin does (hairpinMode): a pod reaching itself through a
      // Service gets its own packets back out of the port they came in on.
      `link set ${hostIf} type bridge_slave hairpin on`,
      `link set ${hostIf} up`,
    ]);
    await ipBatch([
      'link set lo up',
      `addr add ${ip}/24 dev eth0`,
      'link set eth0 up',
      `route add default via ${this.gateway}`,
    ], netns);
    this.daemons.push(await startDaemon('ip', ['netns', 'exec', netns, process.execPath, serverScript,
      '--name', name, '--port', String(port)]));
    return { name, netns, ip, port };
  }

  /** Adds an external host on its own /30-like link (198.51.100.x/31) to the node. */
  async addExternal(name: string): Promise<ExternalHost> {
    const n = this.nextExternal++;
    const nodeIp = `198.51.100.${n * 2}`;
    const ip = `198.51.100.${n * 2 + 1}`;
    const netns = `${this.prefix}-${name}`;
    const hostIf = `x${this.prefix}${n}`.slice(0, 15);
    this.namespaces.push(netns);
    this.links.push(hostIf);
    await run('ip', ['netns', 'add', netns]);
    await ipBatch([
      `link add ${hostIf} type veth peer name eth0 netns ${netns}`,
      `addr add ${nodeIp}/31 dev ${hostIf}`,
      `link set ${hostIf} up`,
    ]);
    await ipBatch(['link set lo up', `addr add ${ip}/31 dev eth0`, 'link set eth0 up',
      `route add default via ${nodeIp}`], netns);
    return { name, netns, ip, nodeIp };
  }

  /**
   * Sends a bounded series of requests from `from`. From the node they run in this
   * process; from a namespace they run in a client process inside it.
   */
  async request(from: From, spec: RequestSpec): Promise<RequestResult[]> {
    if ('node' in from) return sendRequests(spec);
    const netns = 'pod' in from ? from.pod.netns : from.external.netns;
    const out = await run('ip', ['netns', 'exec', netns, process.execPath, clientScript,
      '--proto', spec.proto, '--host', spec.host, '--port', String(spec.port), '--count', String(spec.count),
      '--timeout-ms', String(spec.timeoutMs), '--interval-ms', String(spec.intervalMs ?? 0),
      '--message', spec.message ?? 'hello'], { timeoutMs: spec.count * (spec.timeoutMs + (spec.intervalMs ?? 0)) + 30_000 });
    return JSON.parse(out) as RequestResult[];
  }

  /** Stops every server and deletes every namespace and link this lab made. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.daemons.map((d) => d.stop().catch(() => undefined)));
    for (const ns of this.namespaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    for (const link of this.links.reverse()) await run('ip', ['link', 'del', link]).catch(() => undefined);
  }
}
