// A tiny "whoami" backend for sandbox pods: answers every TCP connection and
// every UDP datagram with `I'm <name>`. Run with Node 24 (types are stripped):
//
//   node src/sandbox/whoami-server.ts --name pod1 --port 8080 [--udp-port 8080]
//
// Request forms (first line of a TCP stream, or a UDP datagram):
//   anything            -> "I'm <name>\n"
//   "?client"           -> "I'm <name>; client <ip>:<port>\n" (shows the source address seen)
//   "GET / HTTP/1.x"    -> an HTTP/1.1 200 response whose body is "I'm <name>\n"
//   "?hold"             -> keeps the TCP connection open and answers every line with
//                          "I'm <name>" until the client closes (long-lived connections)
// It prints "ready" on stdout once both sockets listen, and exits on SIGTERM or when
// its stdin closes (so a dead parent never leaves it running).
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { isIPv4 } from 'node:net';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    port: { type: 'string', default: '8080' },
    'udp-port': { type: 'string' },
    host: { type: 'string', default: '::' },
  },
});
const name = values.name ?? 'unknown';
const tcpPort = Number(values.port);
const udpPort = Number(values['udp-port'] ?? values.port);

function answer(request: string, address: string, port: number): string {
  const line = request.split('\n', 1)[0]?.trim() ?? '';
  const who = `I'm ${name}`;
  const plainAddress = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (line === '?client') return `${who}; client ${plainAddress}:${port}\n`;
  if (/^(GET|HEAD|POST) \S+ HTTP\/1\.[01]$/.test(line)) {
    const body = `${who}\n`;
    return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  }
  return `${who}\n`;
}

const tcp = createServer((sock) => {
  sock.setTimeout(10_000, () => sock.destroy());
  sock.once('data', (chunk) => {
    const text = chunk.toString('utf8');
    if (text.startsWith('?hold')) {
      sock.setTimeout(0);
      sock.write(`I'm ${name}\n`);
      sock.on('data', () => sock.write(`I'm ${name}\n`));
      return;
    }
    sock.end(answer(text, sock.remoteAddress ?? '?', sock.remotePort ?? 0));
  });
  sock.on('error', () => sock.destroy());
});
const udp = createSocket(isIPv4(values.host) ? { type: 'udp4' } : { type: 'udp6', ipv6Only: false });
udp.on('message', (msg, rinfo) => {
  udp.send(answer(msg.toString('utf8'), rinfo.address, rinfo.port), rinfo.port, rinfo.address);
});

let pending = 2;
const ready = (): void => {
  pending -= 1;
  if (pending === 0) process.stdout.write('ready\n');
};
tcp.listen({ port: tcpPort, host: values.host }, ready);
udp.bind({ port: udpPort, address: values.host }, ready);

const stop = (): void => {
  tcp.close();
  udp.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
