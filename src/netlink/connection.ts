import { RawNetlinkSocket } from 'netlink';
import { KernelError, errnoName } from './errors.ts';
import { NlmF, NlmsgType, decodeMessages, encodeMessage, errorCode, type Message } from './message.ts';

// A netlink socket with request/answer matching. One transaction is in flight at
// a time (the kernel answers a second dump on the same socket with EBUSY, and
// the replies of two requests would interleave); every transaction has a
// timeout. The native socket comes from the npm `netlink` package.
//
// Timeouts are counted by one interval timer per connection that ticks while
// transactions come and go, not by a timer per transaction: arming a timer
// reads the clock, and where reading the clock is a system call (user-mode
// Linux, some VMs) that was a fifth of a one-endpoint change.

/** A request to send: message type, extra flags, payload. */
export interface Request {
  readonly type: number;
  readonly flags?: number;
  readonly payload: Buffer;
}

/** Outcome of one request in a batch: `null` when it succeeded, else the errno name. */
export type BatchOutcome = string | null;

interface Transaction {
  /** Called for each message whose seq belongs to this transaction; returns true when done. */
  readonly onMessage: (m: Message) => boolean;
  readonly seqs: ReadonlySet<number>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** The transaction in flight, with its timeout in ticks. */
interface Current extends Transaction {
  /** Ticks seen since the transaction started; it times out on reaching `limit`. */
  ticks: number;
  readonly limit: number;
  readonly timeoutError: () => KernelError;
}

/** Period of the timeout ticker, ms: a transaction times out no sooner than its timeout and at most two ticks later. */
const tickMs = 100;
/** Idle ticks after which the ticker stops (it restarts with the next transaction). */
const idleTicksToStop = 20;

/** Largest datagram we build for a batch; bounded so answers cannot overflow the receive buffer. */
const maxBatchBytes = 64 * 1024;

export interface ConnectionOptions {
  /** Default timeout per transaction, ms (default 5000). */
  readonly timeoutMs?: number;
  /** SO_RCVBUF bytes (default 4 MiB). */
  readonly recvBufferSize?: number;
  /** Sees every datagram sent and received (for tracing and for recording test fixtures). */
  readonly tap?: (direction: 'send' | 'receive', datagram: Buffer) => void;
  /** Port id of the peer (default 0, the kernel); tests point it at a userspace peer. */
  readonly peerPort?: number;
}

/** Ends the transaction chain without holding on to a transaction's answer or error. */
const settled = (): void => undefined;

/**
 * A netlink socket to the kernel. Methods reject with `KernelError`
 * (`ETIMEDOUT` after the timeout, the errno name for kernel refusals and
 * socket errors). Not usable after `close()`.
 */
export class NetlinkConnection {
  private readonly socket: RawNetlinkSocket;
  private readonly timeoutMs: number;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private current: Current | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private idleTicks = 0;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly tap: ConnectionOptions['tap'];
  private readonly peerPort: number;
  /** The netlink port id the kernel addresses answers to. */
  readonly port: number;

  /** Opens a socket for `protocol` (e.g. 16 for generic netlink). Throws the socket error if it cannot. */
  constructor(protocol: number, opts: ConnectionOptions = {}) {
    const size = opts.recvBufferSize ?? 4 * 1024 * 1024;
    this.socket = new RawNetlinkSocket(protocol, { recvBufferSize: size, sendBufferSize: 1024 * 1024 });
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.tap = opts.tap;
    this.peerPort = opts.peerPort ?? 0;
    this.port = this.socket.address().port;
    this.socket.on('message', (buf) => this.receive(buf));
    this.socket.on('error', (err) => this.fail(new KernelError(err.code || 'EIO', 'netlink receive', '', err.message)));
    this.socket.unref();
  }

  /**
   * Sends one request with NLM_F_ACK and resolves to the data messages the kernel
   * answered before its acknowledgement. Rejects with the kernel's errno as a
   * `KernelError` (`op` and `object` are for the message).
   */
  request(req: Request, op: string, object = '', timeoutMs = this.timeoutMs): Promise<Message[]> {
    return this.enqueue(() => new Promise<Message[]>((resolve, reject) => {
      const seq = this.nextSeq();
      const data: Message[] = [];
      this.start({
        seqs: new Set([seq]),
        onMessage: (m) => {
          if (m.type === NlmsgType.Error) {
            const errno = errorCode(m.data);
            if (errno !== 0) throw new KernelError(errnoName(errno), op, object);
            return true;
          }
          data.push(m);
          return false;
        },
        resolve: () => resolve(data),
        reject,
      }, [this.frame(req, seq, NlmF.Request | NlmF.Ack)], timeoutMs, op, object);
    }));
  }

  /**
   * Sends a dump request (NLM_F_DUMP) and resolves to every message up to
   * NLMSG_DONE. A dump interrupted by concurrent changes (NLM_F_DUMP_INTR) is
   * retried up to 3 times, then rejected with `EINTR`.
   */
  async dump(req: Request, op: string, object = '', timeoutMs = this.timeoutMs): Promise<Message[]> {
    for (let attempt = 0; ; attempt++) {
      const { messages, interrupted } = await this.dumpOnce(req, op, object, timeoutMs);
      if (!interrupted) return messages;
      if (attempt >= 2) throw new KernelError('EINTR', op, object, 'dump interrupted 3 times');
    }
  }

  private dumpOnce(req: Request, op: string, object: string, timeoutMs: number): Promise<{ messages: Message[]; interrupted: boolean }> {
    return this.enqueue(() => new Promise((resolve, reject) => {
      const seq = this.nextSeq();
      const messages: Message[] = [];
      let interrupted = false;
      this.start({
        seqs: new Set([seq]),
        onMessage: (m) => {
          if ((m.flags & NlmF.DumpIntr) !== 0) interrupted = true;
          if (m.type === NlmsgType.Done) return true;
          if (m.type === NlmsgType.Error) {
            const errno = errorCode(m.data);
            if (errno !== 0) throw new KernelError(errnoName(errno), op, object);
            return true;
          }
          messages.push(m);
          return false;
        },
        resolve: () => resolve({ messages, interrupted }),
        reject,
      }, [this.frame(req, seq, NlmF.Request | NlmF.Dump | NlmF.Ack)], timeoutMs, op, object);
    }));
  }

  /**
   * Sends many write requests, packed into as few datagrams as fit in 64 KiB,
   * and resolves to one outcome per request, in order. Only the last request of
   * each datagram asks for an acknowledgement: the kernel always reports errors,
   * and it handles the messages of one datagram in order, so the last
   * acknowledgement proves every earlier message was handled. Rejects (with no
   * per-request outcomes) only when the socket fails or times out; then the
   * outcome of the requests of the unfinished datagram is unknown.
   */
  async batch(reqs: readonly Request[], op: string, timeoutMs = this.timeoutMs): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = new Array<BatchOutcome>(reqs.length).fill(null);
    let i = 0;
    while (i < reqs.length) {
      const start = i;
      const frames: Buffer[] = [];
      const seqs: number[] = [];
      let bytes = 0;
      while (i < reqs.length) {
        const seq = this.nextSeq();
        const frame = this.frame(reqs[i]!, seq, NlmF.Request);
        if (frames.length > 0 && bytes + frame.length > maxBatchBytes) break;
        frames.push(frame);
        seqs.push(seq);
        bytes += frame.length;
        i++;
      }
      // The fence: ask for an acknowledgement of the last message only.
      const last = frames.length - 1;
      frames[last]!.writeUInt16LE((reqs[start + last]!.flags ?? 0) | NlmF.Request | NlmF.Ack, 6);
      const index = new Map(seqs.map((s, k) => [s, start + k]));
      const fence = seqs[last]!;
      await this.enqueue(() => new Promise<void>((resolve, reject) => {
        this.start({
          seqs: new Set(seqs),
          onMessage: (m) => {
            if (m.type !== NlmsgType.Error) return false;
            const errno = errorCode(m.data);
            if (errno !== 0) outcomes[index.get(m.seq)!] = errnoName(errno);
            return m.seq === fence;
          },
          resolve,
          reject,
        }, [Buffer.concat(frames)], timeoutMs, op, `${frames.length} messages`);
      }));
    }
    return outcomes;
  }

  /** Closes the socket; pending transactions reject with `ECANCELED`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTicker();
    this.fail(new KernelError('ECANCELED', 'netlink', '', 'connection closed'));
    this.socket.close();
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  private frame(req: Request, seq: number, flags: number): Buffer {
    return encodeMessage({ type: req.type, flags: flags | (req.flags ?? 0), seq, port: this.port, data: req.payload });
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.tail.then(run, run);
    // The chain must not settle to the answer: it would keep the last dump
    // (10,000 addresses are ~5 MB) alive until the next call on this socket.
    this.tail = next.then(settled, settled);
    return next;
  }

  private start(tx: Transaction, datagrams: Buffer[], timeoutMs: number, op: string, object: string): void {
    if (this.closed) {
      tx.reject(new KernelError('ECANCELED', op, object, 'connection closed'));
      return;
    }
    const finish = (err?: Error): void => {
      this.current = undefined;
      this.socket.unref();
      if (err) tx.reject(err); else tx.resolve();
    };
    this.current = {
      seqs: tx.seqs,
      onMessage: tx.onMessage,
      resolve: () => finish(),
      reject: (err) => finish(err),
      // The first tick may come at once, so one more tick than the timeout
      // holds: never early, at most two ticks late.
      ticks: 0,
      limit: Math.ceil(timeoutMs / tickMs) + 1,
      timeoutError: () => new KernelError('ETIMEDOUT', op, object, `no answer in ${timeoutMs} ms`),
    };
    this.idleTicks = 0;
    this.startTicker();
    this.socket.ref();
    for (const d of datagrams) {
      this.tap?.('send', d);
      this.socket.send(d, { port: this.peerPort }, (err) => {
        if (err) this.fail(new KernelError(err.code || 'EIO', op, object, err.message));
      });
    }
  }

  // Called from the native socket: an exception escaping here would abort the
  // process, so everything is caught and turned into a failed transaction.
  private receive(buf: Buffer): void {
    try {
      this.tap?.('receive', buf);
      const tx = this.current;
      if (!tx) return; // a late answer to a request that already timed out
      for (const m of decodeMessages(buf)) {
        if (!tx.seqs.has(m.seq)) continue;
        if (tx.onMessage(m)) {
          tx.resolve();
          return;
        }
      }
    } catch (err) {
      this.fail(err instanceof KernelError ? err : new KernelError('EBADMSG', 'netlink receive', '', (err as Error).message));
    }
  }

  private fail(err: Error): void {
    this.current?.reject(err);
  }

  private tick(): void {
    const tx = this.current;
    if (tx) {
      tx.ticks += 1;
      if (tx.ticks >= tx.limit) this.fail(tx.timeoutError());
    } else if (++this.idleTicks >= idleTicksToStop) {
      this.stopTicker();
    }
  }

  // Not inline in start(): a closure made there would share start()'s context,
  // and with it the transaction and its answer, for as long as the ticker runs.
  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), tickMs);
    this.ticker.unref(); // the socket, referenced while a transaction is in flight, keeps the process up
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
