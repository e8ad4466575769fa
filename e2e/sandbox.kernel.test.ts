// Proves the sandbox: a real kernel with IPVS, pods on a bridge, and packets
// that arrive. The virtual server is made with ipvsadm on purpose: this test
// must not depend on any of our own kernel code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Lab, type Pod } from '../src/sandbox/lab.ts';
import { run } from '../src/sandbox/exec.ts';

const vip = '10.96.0.10';
let lab: Lab;
let pods: Pod[];

beforeAll(async () => {
  lab = await Lab.create({ prefix: 'sbx' });
  pods = await Promise.all([lab.addPod('pod1'), lab.addPod('pod2')]);
  await run('ip', ['link', 'add', 'kube-ipvs0', 'type', 'dummy']);
  await run('ip', ['addr', 'add', `${vip}/32`, 'dev', 'kube-ipvs0']);
  for (const proto of ['-t', '-u']) {
    await run('ipvsadm', ['-A', proto, `${vip}:80`, '-s', 'rr']);
    for (const pod of pods) await run('ipvsadm', ['-a', proto, `${vip}:80`, '-r', `${pod.ip}:${pod.port}`, '-m']);
  }
}, 60_000);

afterAll(async () => {
  await run('ipvsadm', ['-C']).catch(() => undefined);
  await run('ip', ['link', 'del', 'kube-ipvs0']).catch(() => undefined);
  await lab.close();
});

describe('sandbox kernel', () => {
  it('is a 6.x kernel with the IPVS table readable', async () => {
    const release = await run('uname', ['-r']);
    expect(release).toMatch(/^6\./);
    const table = await run('ipvsadm', ['-Ln']);
    expect(table).toContain(`TCP  ${vip}:80 rr`);
    expect(table).toContain(`UDP  ${vip}:80 rr`);
  });

  it('answers each pod directly', async () => {
    for (const pod of pods) {
      const [r] = await lab.request({ node: true }, { proto: 'tcp', host: pod.ip, port: pod.port, count: 1, timeoutMs: 3000 });
      expect(r).toEqual({ ok: true, answer: `I'm ${pod.name}` });
    }
  });

  it.each([{ proto: 'tcp' as const }, { proto: 'udp' as const }])(
    'balances four $proto requests from the node round-robin across two pods',
    async ({ proto }) => {
      const results = await lab.request({ node: true }, { proto, host: vip, port: 80, count: 4, timeoutMs: 3000 });
      const answers = results.map((r) => (r.ok ? r.answer : `error ${r.error}`));
      expect(answers.every((a) => a === "I'm pod1" || a === "I'm pod2")).toBe(true);
      // Round-robin alternates: neighbours always differ, and each pod answers twice.
      for (let i = 1; i < answers.length; i++) expect(answers[i]).not.toBe(answers[i - 1]);
      expect(answers.filter((a) => a === "I'm pod1")).toHaveLength(2);
    },
  );

  it('routes from one pod to another across the bridge', async () => {
    const other = pods[1]!;
    const results = await lab.request({ pod: pods[0]! }, { proto: 'tcp', host: other.ip, port: other.port, count: 1, timeoutMs: 3000 });
    expect(results).toEqual([{ ok: true, answer: "I'm pod2" }]);
  });
});
