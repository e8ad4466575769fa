// Sends requests to a whoami backend or a virtual server and prints the answers
// as one JSON line. Run with Node 24, possibly inside a network namespace:
//
//   node src/sandbox/whoami-client.ts --proto tcp|udp --host IP --port N
//        [--count N] [--timeout-ms N] [--message TEXT] [--interval-ms N]
//
// Every request is a new TCP connection (or a new UDP socket, so a new source
// port). Output: [{"ok":true,"answer":"I'm pod1"}, {"ok":false,"error":"ETIMEDOUT"}, ...]
import { parseArgs } from 'node:util';
import { sendRequests } from './requests.ts';

const { values } = parseArgs({
  options: {
    proto: { type: 'string', default: 'tcp' },
    host: { type: 'string' },
    port: { type: 'string' },
    count: { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '2000' },
    'interval-ms': { type: 'string', default: '0' },
    message: { type: 'string', default: 'hello' },
  },
});
if (!values.host || !values.port || (values.proto !== 'tcp' && values.proto !== 'udp')) {
  process.stderr.write('usage: whoami-client.ts --proto tcp|udp --host IP --port N [--count N]\n');
  process.exit(2);
}
const results = await sendRequests({
  proto: values.proto,
  host: values.host,
  port: Number(values.port),
  count: Number(values.count),
  timeoutMs: Number(values['timeout-ms']),
  intervalMs: Number(values['interval-ms']),
  message: values.message,
});
process.stdout.write(`${JSON.stringify(results)}\n`);
