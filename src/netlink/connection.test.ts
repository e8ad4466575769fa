// NetlinkConnection against a userspace netlink peer on the host (NETLINK_USERSOCK),
// which answers like the kernel: acknowledgements, errors, dumps, or silence.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RawNetlinkSocket } from 'netlink';
import { NetlinkConnection } from './connection.ts';
import { KernelError } from './errors.ts';
import { NlmF, NlmsgType, decodeMessages, encodeMessage, type Message } from './message.ts';

const NETLINK_USERSOCK = 2;

/** A peer that answers each request by `behave(message)`; it records what it saw. */
class Peer {
  readonly socket = new RawNetlinkSocket(NETLINK_USERSOCK, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
  readonly seen: Message[] = [];
  datagrams = 0;
  behave: (m: Message) => Message[] = (m) => [ack(m, 0)];
  constructor() {
    // Exceptions must not escape a native 'message' callback (they abort the process).
    this.socket.on('message', (buf, rinfo) => {
      try {
        this.datagrams++;
        const out: Buffer[] = [];
        for (const m of decodeMessages(buf)) {
          this.seen.push(m);
          for (const r of this.behave(m)) out.push(encodeMessage(r));
        }
        if (out.length) this.socket.send(Buffer.concat(out), { port: rinfo.port });
      } catch (err) {
        process.stderr.write(`peer: ${String(err)}\n`);
      }
    });
  }
  get port(): number { return this.socket.address().port; }
}

/** An NLMSG_ERROR answer: errno 0 is an acknowledgement. Echoes the request header as the kernel does. */
function ack(m: Message, errno: number): Message {
  const data = Buffer.alloc(20);
  data.writeInt32LE(-errno, 0);
  data.writeUInt32LE(16 + m.data.length, 4);
  data.writeUInt16LE(m.type, 8);
  data.writeUInt16LE(m.flags, 10);
  data.writeUInt32LE(m.seq, 12);
  data.writeUInt32LE(m.port, 16);
  return { type: NlmsgType.Error, flags: 0, seq: m.seq, port: 0, data };
}

const reply = (m: Message, text: string, flags = 0): Message =>
  ({ type: m.type, flags, seq: m.seq, port: 0, data: Buffer.from(text) });

let peer: Peer;
let conn: NetlinkConnection;
beforeEach(() => {
  peer = new Peer();
  conn = new NetlinkConnection(NETLINK_USERSOCK, { timeoutMs: 500, peerPort: peer.port });
});
afterEach(() => {
  conn.close();
  peer.socket.close();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (err) { return err instanceof KernelError ? err.code : String(err); }
}

describe('NetlinkConnection', () => {
  it('resolves a request with the data answered before the acknowledgement', async () => {
    peer.behave = (m) => [reply(m, 'one'), reply(m, 'two'), ack(m, 0)];
    const out = await conn.request({ type: 30, payload: Buffer.from('hi') }, 'probe');
    expect(out.map((m) => m.data.toString())).toEqual(['one', 'two']);
    expect(peer.seen[0]?.flags).toBe(NlmF.Request | NlmF.Ack);
  });

  it('rejects with the errno name, the operation and the object', async () => {
    peer.behave = (m) => [ack(m, 17)];
    const err = await conn.request({ type: 30, payload: Buffer.alloc(0) }, 'add virtual server', 'TCP/1.2.3.4:80').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'EEXIST', op: 'add virtual server', object: 'TCP/1.2.3.4:80' });
  });

  it('collects a multipart dump up to NLMSG_DONE', async () => {
    peer.behave = (m) => [reply(m, 'a', NlmF.Multi), reply(m, 'b', NlmF.Multi),
      { type: NlmsgType.Done, flags: NlmF.Multi, seq: m.seq, port: 0, data: Buffer.alloc(4) }];
    const out = await conn.dump({ type: 30, payload: Buffer.alloc(0) }, 'list');
    expect(out.map((m) => m.data.toString())).toEqual(['a', 'b']);
    expect((peer.seen[0]?.flags ?? 0) & NlmF.Dump).toBe(NlmF.Dump);
  });

  it('retries a dump the peer marks as interrupted, then gives up with EINTR', async () => {
    let calls = 0;
    peer.behave = (m) => { calls++; return [reply(m, 'x', NlmF.Multi | NlmF.DumpIntr), { type: NlmsgType.Done, flags: 0, seq: m.seq, port: 0, data: Buffer.alloc(4) }]; };
    expect(await codeOf(conn.dump({ type: 30, payload: Buffer.alloc(0) }, 'list'))).toBe('EINTR');
    expect(calls).toBe(3);
  });

  it('times out with ETIMEDOUT when nothing answers, and stays usable', async () => {
    peer.behave = () => [];
    const started = Date.now();
    expect(await codeOf(conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe'))).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    peer.behave = (m) => [ack(m, 0)];
    expect(await codeOf(conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe'))).toBe('ok');
  });

  it('does not cut short a transaction answered shortly before its timeout', async () => {
    const late = (delayMs: number) => (m: Message): Message[] => {
      setTimeout(() => peer.socket.send(encodeMessage(ack(m, 0)), { port: conn.port }), delayMs);
      return [];
    };
    peer.behave = late(440);
    expect(await codeOf(conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe'))).toBe('ok');
    peer.behave = late(250);
    expect(await codeOf(conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe', '', 300))).toBe('ok');
    peer.behave = () => [];
    const started = Date.now();
    expect(await codeOf(conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe', '', 150))).toBe('ETIMEDOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('keeps one request in flight: concurrent calls go out one after another', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    peer.behave = (m) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => { inFlight--; peer.socket.send(encodeMessage(ack(m, 0)), { port: conn.port }); }, 20);
      return [];
    };
    await Promise.all([1, 2, 3].map(() => conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe')));
    expect(maxInFlight).toBe(1);
    expect(peer.seen).toHaveLength(3);
  });

  it('batches: one datagram, one acknowledgement asked (the last), a result per request', async () => {
    peer.behave = (m) => {
      if (m.data.toString() === 'bad') return [ack(m, 3)];
      return (m.flags & NlmF.Ack) !== 0 ? [ack(m, 0)] : [];
    };
    const reqs = ['a', 'bad', 'c', 'bad', 'e'].map((t) => ({ type: 30, payload: Buffer.from(t) }));
    const out = await conn.batch(reqs, 'apply');
    expect(out).toEqual([null, 'ESRCH', null, 'ESRCH', null]);
    expect(peer.datagrams).toBe(1);
    expect(peer.seen.map((m) => (m.flags & NlmF.Ack) !== 0)).toEqual([false, false, false, false, true]);
  });

  it('splits a large batch into datagrams of at most 64 KiB', async () => {
    peer.behave = (m) => ((m.flags & NlmF.Ack) !== 0 ? [ack(m, 0)] : []);
    const reqs = Array.from({ length: 100 }, () => ({ type: 30, payload: Buffer.alloc(2000) }));
    const out = await conn.batch(reqs, 'apply');
    expect(out.every((o) => o === null)).toBe(true);
    expect(peer.datagrams).toBe(4);
    expect(peer.seen).toHaveLength(100);
  });

  it('keeps nothing of an answer once it is delivered (a 10,000-address dump would stay alive until the next call)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    peer.behave = (m) => [reply(m, 'a', NlmF.Multi), { type: NlmsgType.Done, flags: NlmF.Multi, seq: m.seq, port: 0, data: Buffer.alloc(4) }];
    const answer = new WeakRef(await conn.dump({ type: 30, payload: Buffer.alloc(0) }, 'list'));
    // A WeakRef holds its target until the current job ends.
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(answer.deref()).toBeUndefined();
  });

  it('rejects pending and later calls after close with ECANCELED', async () => {
    peer.behave = () => [];
    const pending = conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe');
    conn.close();
    expect(await codeOf(pending)).toBe('ECANCELED');
    expect(await codeOf(conn.request({ type: 30, payload: Buffer.alloc(0) }, 'probe'))).toBe('ECANCELED');
  });
});
