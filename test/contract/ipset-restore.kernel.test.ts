// SPDX-License-Identifier: Apache-2.0
// The ipset contract against the ipset tool and the real kernel (sandbox).
// References are made with an iptables-legacy rule in a chain of our own that
// no built-in chain jumps to, so no packet ever meets it.
import { afterAll } from '@jest/globals';
import { RestoreIpsetClient } from '../../src/ipset/restore-client.ts';
import { run } from '../../src/sandbox/exec.ts';
import { contractPrefix, describeIpsetContract } from './ipset-client.contract.ts';

const chain = 'IPSC-REF';
const client = new RestoreIpsetClient({ timeoutMs: 30_000 });
const ipt = (...args: string[]): Promise<string> => run('iptables-legacy', ['-w', '-t', 'filter', ...args]);

let chainMade = false;

async function dropChain(): Promise<void> {
  if (!chainMade) return;
  await ipt('-F', chain);
  await ipt('-X', chain);
  chainMade = false;
}

/**
 * Removes everything the contract made: its reference chain, then its sets,
 * in one restore (each process start costs about a second in the sandbox).
 */
async function clean(): Promise<void> {
  await dropChain();
  const names = (await client.list()).map((s) => s.name).filter((name) => name.startsWith(contractPrefix));
  await client.restore(names.map((name) => `destroy ${name}`));
}

describeIpsetContract('ipset tool on the real kernel', {
  async fresh() {
    await clean();
    return client;
  },
  async reference(name) {
    await ipt('-N', chain);
    chainMade = true;
    await ipt('-A', chain, '-m', 'set', '--match-set', name, 'dst,dst', '-j', 'RETURN');
  },
  async unreference() {
    await dropChain();
  },
});

afterAll(clean);
