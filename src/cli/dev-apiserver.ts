import { parseArgs } from 'node:util';
import { DevApiServer } from '../apiserver/server.ts';
import { formatWarning } from '../model/types.ts';
import { type Command, UsageError } from './command.ts';
import { loadManifests } from './manifest-files.ts';

const usage = `Usage: ipvs-proxy dev-apiserver --kubeconfig-out PATH [--listen HOST:PORT]
                                [-f <file|dir>]... [--token TOKEN]

Runs a small in-memory Kubernetes API server for Services, EndpointSlices
(discovery.k8s.io/v1) and Nodes: list and watch with resourceVersions,
bookmarks and 410 Gone, label and field selectors, create/update/patch/delete,
over HTTPS with a generated CA and a bearer token. It is the test double of a
real API server and the demo's cluster, not a cluster: nothing runs pods.

  --listen HOST:PORT         address to serve on (default 127.0.0.1:6443;
                             port 0 picks a free one)
  --kubeconfig-out PATH      where to write a kubeconfig (server, CA, token)
  -f, --filename PATH        objects to load at start: YAML or JSON files
                             (multi-document and List kinds allowed) or
                             directories; repeat for more
  --token TOKEN              the bearer token to accept (default: random)

Prints "ready <url>" once serving, then runs until SIGTERM or SIGINT.
Exit status: 0 after a signal, 1 if a file cannot be read or the server
cannot start, 2 on bad usage.
`;

/** `host:port` or `[v6]:port` → parts; throws UsageError. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new UsageError(`--listen ${JSON.stringify(text)} is not HOST:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** `dev-apiserver`; `untilShutdown` resolves when the server should stop (default: SIGTERM or SIGINT). */
export function devApiserverCommand(untilShutdown: () => Promise<unknown> = waitForSignal): Command {
  return {
    name: ['dev-apiserver'],
    summary: 'run a local in-memory Kubernetes API server (Services, EndpointSlices, Nodes) for tests and the demo',
    usage,
    async run(args, io) {
      let values: { listen?: string; 'kubeconfig-out'?: string; filename?: string[]; token?: string };
      try {
        ({ values } = parseArgs({
          args: [...args],
          options: {
            listen: { type: 'string' }, 'kubeconfig-out': { type: 'string' },
            filename: { type: 'string', short: 'f', multiple: true }, token: { type: 'string' },
          },
        }));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const out = values['kubeconfig-out'];
      if (!out) throw new UsageError('--kubeconfig-out PATH is required');
      const { host, port } = parseListen(values.listen ?? '127.0.0.1:6443');
      if (values.token !== undefined && !/^[\x21-\x7e]+$/.test(values.token)) throw new UsageError('--token must be printable ASCII without spaces');
      let loaded: ReturnType<typeof loadManifests>;
      try {
        loaded = loadManifests(values.filename ?? []);
      } catch (err) {
        io.stderr.write(`ipvs-proxy dev-apiserver: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      }
      const { manifests, warnings } = loaded;
      for (const w of warnings) io.stderr.write(`warning: ${formatWarning(w)}\n`);
      let server: DevApiServer;
      try {
        server = await DevApiServer.create({ host, port, ...(values.token ? { token: values.token } : {}) });
        await server.start();
      } catch (err) {
        io.stderr.write(`ipvs-proxy dev-apiserver: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      }
      try {
        // Nodes first, then Services, then EndpointSlices: the order a cluster creates them in.
        const problems = server.load([...manifests.nodes, ...manifests.services, ...manifests.endpointSlices]);
        for (const p of problems) io.stderr.write(`warning: ${p}\n`);
        await server.writeKubeconfig(out);
        io.stdout.write(`ready ${server.url}\n`);
        await untilShutdown();
        return 0;
      } catch (err) {
        io.stderr.write(`ipvs-proxy dev-apiserver: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      } finally {
        await server.stop();
      }
    },
  };
}
