import { parseArgs } from 'node:util';
import { type Explanation, renderExplanation } from '../sync/explain.ts';
import { type Command, UsageError } from './command.ts';

const usage = `Usage: ipvs-proxy explain <namespace>/<service> [--metrics-bind-address HOST:PORT] [--json]

Asks the agent running on this node (its metrics server, default
127.0.0.1:10249) for one Service's desired kernel state (IPVS virtual and real
servers, ipset entries, kube-ipvs0 addresses), what the kernel holds for it now,
and the difference. --json prints the agent's answer as is (the same data is at
/debug/state?service=<namespace>/<service>).

Exit status: 0 when the kernel matches, 1 when it differs or the agent cannot
be reached, 2 on bad usage.
`;

/** `explain`: desired vs actual kernel state of one Service, from the running agent. */
export function explainCommand(fetchFn: typeof fetch = fetch): Command {
  return {
    name: ['explain'],
    summary: "show one Service's desired and actual kernel state on this node, and their difference",
    usage,
    async run(args, io) {
      let parsed;
      try {
        parsed = parseArgs({ args: [...args], allowPositionals: true, options: { 'metrics-bind-address': { type: 'string' }, json: { type: 'boolean' } } });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const service = parsed.positionals[0];
      if (!service || !/^[^/\s]+\/[^/\s]+$/.test(service) || parsed.positionals.length > 1) throw new UsageError('give one Service as <namespace>/<name>');
      const address = parsed.values['metrics-bind-address'] ?? '127.0.0.1:10249';
      const url = `http://${address}/debug/state?service=${encodeURIComponent(service)}`;
      let answer: Explanation;
      try {
        const res = await fetchFn(url, { signal: AbortSignal.timeout(30_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).trim()}`);
        answer = await res.json() as Explanation;
      } catch (err) {
        io.stderr.write(`ipvs-proxy explain: cannot ask the agent at ${address}: ${(err as Error).message}\n`);
        return 1;
      }
      io.stdout.write(parsed.values.json ? `${JSON.stringify(answer, null, 2)}\n` : renderExplanation(answer));
      return answer.differences.length === 0 && answer.servicePorts.length > 0 ? 0 : 1;
    },
  };
}
