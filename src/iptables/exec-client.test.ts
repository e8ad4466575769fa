import { describe, expect, it } from '@jest/globals';
import { detectBackend } from './backend.ts';
import { ExecIptables, type RunResult, type Runner } from './exec-client.ts';

// The execa client and backend detection with a scripted runner: which
// binaries and arguments they use, and how they read what comes back. The
// kernel test runs them for real.

interface Call {
  readonly file: string;
  readonly args: readonly string[];
  readonly input: string | undefined;
}

const ok = (stdout = ''): RunResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false, spawnError: null });
const fail = (exitCode: number, stderr: string): RunResult => ({ exitCode, stdout: '', stderr, timedOut: false, spawnError: null });

function scripted(answer: (c: Call) => RunResult): { run: Runner; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    run: (file, args, opts) => {
      const c = { file, args, input: opts.input };
      calls.push(c);
      return Promise.resolve(answer(c));
    },
  };
}

describe('ExecIptables', () => {
  it.each([
    { name: 'IPv4 legacy', family: 'IPv4' as const, backend: 'legacy' as const, bin: 'iptables-legacy' },
    { name: 'IPv6 nft', family: 'IPv6' as const, backend: 'nft' as const, bin: 'ip6tables-nft' },
  ])('runs the $name binaries, always with the lock wait', async ({ family, backend, bin }) => {
    const { run, calls } = scripted(() => ok('*nat\n:OUTPUT ACCEPT [0:0]\n:KUBE-X - [0:0]\nCOMMIT\n'));
    const c = new ExecIptables({ family, backend, run });
    await c.restore('*nat\nCOMMIT\n', { noflush: true });
    await c.insertRule('nat', 'OUTPUT', ['-j', 'KUBE-X']);
    await c.deleteRule('nat', 'OUTPUT', ['-j', 'KUBE-X']);
    await c.flushChain('nat', 'KUBE-X');
    await c.deleteChain('nat', 'KUBE-X');
    expect(await c.checkRule('nat', 'OUTPUT', ['-j', 'KUBE-X'])).toBe(true);
    expect(await c.listChains('nat')).toEqual(['OUTPUT', 'KUBE-X']);
    expect(calls.map((x) => [x.file, ...x.args].join(' '))).toEqual([
      `${bin}-restore -w 5 --noflush`,
      `${bin} -w 5 -t nat -I OUTPUT 1 -j KUBE-X`,
      `${bin} -w 5 -t nat -D OUTPUT -j KUBE-X`,
      `${bin} -w 5 -t nat -F KUBE-X`,
      `${bin} -w 5 -t nat -X KUBE-X`,
      `${bin} -w 5 -t nat -C OUTPUT -j KUBE-X`,
      `${bin}-save -t nat`,
    ]);
    expect(calls[0]!.input).toBe('*nat\nCOMMIT\n');
  });

  it('answers false for a missing rule and rejects for a rule that cannot exist', async () => {
    const { run } = scripted((c) => (c.args.includes('KUBE-X')
      ? fail(1, 'iptables: Bad rule (does a matching rule exist in that chain?).\n')
      : fail(2, "iptables v1.8.9 (legacy): Couldn't load target `KUBE-NOPE':No such file or directory\n")));
    const c = new ExecIptables({ family: 'IPv4', backend: 'legacy', run });
    expect(await c.checkRule('nat', 'OUTPUT', ['-j', 'KUBE-X'])).toBe(false);
    await expect(c.checkRule('nat', 'OUTPUT', ['-j', 'KUBE-NOPE'])).rejects.toMatchObject({ code: 'ENOENT', op: 'check-rule', object: 'nat/OUTPUT' });
  });

  it('diagnoses a bare "line N failed" from a fresh save of the failing table', async () => {
    const { run, calls } = scripted((c) => (c.file.endsWith('-restore')
      ? fail(1, 'iptables-restore: line 3 failed\n')
      : ok('*nat\n:OUTPUT ACCEPT [0:0]\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\nCOMMIT\n')));
    const c = new ExecIptables({ family: 'IPv4', backend: 'legacy', run });
    await expect(c.restore('*nat\n-F KUBE-B\n-X KUBE-B\nCOMMIT\n', { noflush: true }))
      .rejects.toMatchObject({ code: 'EBUSY', line: 3, object: 'nat' });
    expect(calls.at(-1)!.args).toEqual(['-t', 'nat']);
  });

  it('reports a killed command as ETIMEDOUT and a missing binary as EOPNOTSUPP', async () => {
    const slow = new ExecIptables({
      family: 'IPv4', backend: 'legacy', timeoutMs: 50,
      run: () => Promise.resolve({ exitCode: null, stdout: '', stderr: '', timedOut: true, spawnError: null }),
    });
    await expect(slow.save('nat')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const missing = new ExecIptables({
      family: 'IPv4', backend: 'nft',
      run: () => Promise.resolve({ exitCode: null, stdout: '', stderr: '', timedOut: false, spawnError: 'ENOENT' }),
    });
    await expect(missing.save('nat')).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
  });
});

describe('detectBackend', () => {
  const hint = '*mangle\n:PREROUTING ACCEPT [0:0]\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n';
  const rules = (n: number): string => `*nat\n:KUBE-X - [0:0]\n${'-A KUBE-X -j RETURN\n'.repeat(n)}COMMIT\n`;
  const nftBroken = fail(4, 'iptables-nft-restore v1.8.9 (nf_tables): \nline 2: TABLE_ADD failed (Operation not supported): table filter\n');

  it.each([
    { name: 'the configured backend, without running anything', override: 'nft' as const, saves: {}, probe: ok(), want: { backend: 'nft', reason: 'configured' }, runs: 0 },
    { name: 'nft when the kubelet hint chain is in nft', saves: { 'ip6tables-nft-save': hint, 'iptables-legacy-save': rules(3) }, probe: ok(), want: { backend: 'nft', reason: 'kubelet-hint' }, runs: 2 },
    { name: 'legacy when the kubelet hint chain is in legacy', saves: { 'iptables-legacy-save': hint, 'iptables-nft-save': rules(5) }, probe: ok(), want: { backend: 'legacy', reason: 'kubelet-hint' }, runs: 4 },
    { name: 'legacy when only legacy holds rules', saves: { 'iptables-legacy-save': rules(2) }, probe: ok(), want: { backend: 'legacy', reason: 'more-rules' }, runs: 4 },
    { name: 'nft when nft holds more rules', saves: { 'iptables-nft-save': rules(3), 'ip6tables-legacy-save': rules(1) }, probe: ok(), want: { backend: 'nft', reason: 'more-rules' }, runs: 4 },
    { name: 'nft on an empty host where nft can write', saves: {}, probe: ok(), want: { backend: 'nft', reason: 'nft-works' }, runs: 5 },
    { name: 'legacy on an empty host where nft cannot write (the sandbox)', saves: {}, probe: nftBroken, want: { backend: 'legacy', reason: 'nft-unusable' }, runs: 5 },
  ])('picks $name', async ({ override, saves, probe, want, runs }) => {
    const { run, calls } = scripted((c) => {
      if (c.file === 'iptables-nft-restore') return probe;
      const text = (saves as Record<string, string>)[c.file];
      return text !== undefined ? ok(text) : ok('');
    });
    expect(await detectBackend({ run, ...(override ? { override } : {}) })).toEqual(want);
    expect(calls).toHaveLength(runs);
  });

  it('probes nft with a restore that creates and deletes its probe chain', async () => {
    const { run, calls } = scripted(() => ok());
    await detectBackend({ run });
    const probe = calls.find((c) => c.file === 'iptables-nft-restore')!;
    expect(probe.args).toEqual(['--noflush']);
    expect(probe.input).toBe('*filter\n:IPVS-PROXY-PROBE - [0:0]\n-X IPVS-PROXY-PROBE\nCOMMIT\n');
  });

  it('fails when neither backend works', async () => {
    const { run } = scripted((c) => (c.file === 'iptables-nft-restore' ? nftBroken : fail(4, 'Permission denied (you must be root)')));
    await expect(detectBackend({ run })).rejects.toThrow(/no usable iptables backend/);
  });
});
