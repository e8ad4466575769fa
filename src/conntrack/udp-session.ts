// A UDP "session" for kernel tests: one socket bound to a fixed source port,
// so every datagram belongs to the same conntrack/IPVS flow, as a long-lived
// UDP client (a DNS resolver, a syslog or statsd agent) keeps one. Each `ask`
// sends one datagram to the whoami server behind a virtual server and waits
// for the answer. Only for addresses inside the sandbox.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** One datagram's fate: the server's answer, or null when none came in time. */
export type Answer = string | null;

/** A socket bound to `sourcePort`, talking to `host:port`. */
export class UdpSession {
  private readonly sock: Socket;
  private readonly host: string;
  private readonly port: number;
  private waiter: ((msg: string) => void) | null = null;

  private constructor(sock: Socket, host: string, port: number) {
    this.sock = sock;
    this.host = host;
    this.port = port;
    // Only answers from the address asked count: an answer from the backend's own
    // address would mean the reply escaped the virtual server's reverse NAT.
    sock.on('message', (msg, from) => {
      if (from.address === host && from.port === port) this.waiter?.(msg.toString('utf8').trim());
    });
  }

  /** Binds the source port (on every address). Rejects if it is taken. */
  static open(host: string, port: number, sourcePort: number): Promise<UdpSession> {
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(sourcePort, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined); // ICMP errors on an unconnected socket: the answer is just missing
        resolve(new UdpSession(sock, host, port));
      });
    });
  }

  /** Sends one datagram and resolves to the first answer within `timeoutMs`, or null. Never rejects. */
  ask(message = 'hello', timeoutMs = 1500): Promise<Answer> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiter = null; resolve(null); }, timeoutMs);
      this.waiter = (msg) => { clearTimeout(timer); this.waiter = null; resolve(msg); };
      this.sock.send(`${message}\n`, this.port, this.host, (err) => {
        if (err) { clearTimeout(timer); this.waiter = null; resolve(null); }
      });
    });
  }

  /** Sends `count` datagrams one after another and collects the answers. */
  async askMany(count: number, timeoutMs = 1500): Promise<Answer[]> {
    const out: Answer[] = [];
    for (let i = 0; i < Math.min(count, 100); i++) out.push(await this.ask('hello', timeoutMs));
    return out;
  }

  close(): void {
    this.sock.close();
  }
}

const clientScript = fileURLToPath(new URL('./udp-session-client.ts', import.meta.url));

/** The same session run by a client process inside a network namespace (a pod). */
export class NetnsUdpSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (l) => { this.lines.push(l); this.waiter?.(); });
  }

  /** Starts the client in `netns`; rejects if it is not bound within 20 s. */
  static async open(netns: string, host: string, port: number, sourcePort: number): Promise<NetnsUdpSession> {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, clientScript,
      '--host', host, '--port', String(port), '--source-port', String(sourcePort)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const s = new NetnsUdpSession(child);
    const line = await s.next(20_000);
    if (line !== 'ready') {
      child.kill('SIGKILL');
      throw new Error(`udp session client in ${netns} did not start: ${stderr.trim()}`);
    }
    return s;
  }

  /** Sends one datagram; resolves to the answer or null. */
  async ask(timeoutMs = 1500): Promise<Answer> {
    this.child.stdin.write(`${timeoutMs}\n`);
    const line = await this.next(timeoutMs + 10_000);
    return line === null ? null : JSON.parse(line) as Answer;
  }

  async askMany(count: number, timeoutMs = 1500): Promise<Answer[]> {
    const out: Answer[] = [];
    for (let i = 0; i < Math.min(count, 100); i++) out.push(await this.ask(timeoutMs));
    return out;
  }

  /** Ends the client (closing stdin) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  }

  private async next(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0 && Date.now() < deadline && this.child.exitCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(200, deadline - Date.now()));
        this.waiter = () => { clearTimeout(t); r(); };
      });
      this.waiter = null;
    }
    return this.lines.shift() ?? null;
  }
}
