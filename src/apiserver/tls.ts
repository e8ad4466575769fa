// TLS material for the local API server: a throwaway CA and a server
// certificate signed by it, made with the openssl command (Node cannot issue
// X.509 certificates itself). Keys are ECDSA P-256; the server certificate
// names every address clients use in its subjectAltName.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** PEM-encoded CA certificate, server certificate and server key. */
export interface TlsMaterial {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

/** Thrown when openssl is missing or fails; `code` is stable. */
export class TlsError extends Error {
  readonly code = 'ETLSGEN';
}

/** The subjectAltName value for `hosts` (IP addresses and DNS names). */
export function subjectAltName(hosts: readonly string[]): string {
  return [...new Set(hosts)].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
}

/** The addresses every dev server certificate names, plus `extra`. */
export function defaultHosts(extra: readonly string[] = []): string[] {
  return ['127.0.0.1', '::1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', ...extra];
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execa('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new TlsError(`openssl ${args[0] ?? ''} failed: ${(e.stderr ?? e.message).trim().split('\n')[0] ?? ''}`);
  }
}

/**
 * Generates a CA and a server certificate valid for `hosts` (default:
 * loopback, localhost and the in-cluster names) for `days` days. Rejects with
 * TlsError when openssl is absent or fails. Leaves no files behind.
 */
export async function generateTls(hosts: readonly string[] = defaultHosts(), days = 365): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'ipvs-proxy-tls-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', String(days),
      '-subj', '/CN=ipvs-proxy-dev-ca', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
    await writeFile(join(dir, 'ext.cnf'), [
      `subjectAltName=${subjectAltName(hosts)}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'));
    await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'server.crt', '-days', String(days), '-extfile', 'ext.cnf'], dir);
    const [caCert, cert, key] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')));
    return { caCert: caCert!, cert: cert!, key: key! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
