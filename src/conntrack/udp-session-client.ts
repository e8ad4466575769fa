// Runs a UdpSession inside a network namespace for kernel tests:
//
//   ip netns exec NS node src/conntrack/udp-session-client.ts --host IP --port N --source-port N
//
// Prints "ready" once bound; then for every line read on stdin (a timeout in
// ms) sends one datagram and prints the answer as one JSON line (a string, or
// null when none came). Exits when stdin closes.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UdpSession } from './udp-session.ts';

const { values } = parseArgs({
  options: { host: { type: 'string' }, port: { type: 'string' }, 'source-port': { type: 'string' } },
});
if (!values.host || !values.port || !values['source-port']) {
  process.stderr.write('usage: udp-session-client.ts --host IP --port N --source-port N\n');
  process.exit(2);
}
const session = await UdpSession.open(values.host, Number(values.port), Number(values['source-port']));
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const answer = await session.ask('hello', Math.min(Number(line) || 1500, 10_000));
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
session.close();
