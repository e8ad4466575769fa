// The one-command demo (what `npm start` runs without a cluster), run as a user would.
import { describe, expect, it } from '@jest/globals';
import { run } from '../src/sandbox/exec.ts';
import { cli } from './kernel-state.ts';

describe('ipvs-proxy demo', () => {
  it('shows the table, four answers alternating between two pods, and a third real server', async () => {
    const out = await run(cli, ['demo'], { timeoutMs: 120_000 });
    const answers = [...out.matchAll(/^ {4}(I'm pod\d)$/gm)].map((m) => m[1]);
    expect(answers).toHaveLength(4);
    for (let i = 1; i < 4; i++) expect(answers[i]).not.toBe(answers[i - 1]);
    expect(new Set(answers)).toEqual(new Set(["I'm pod1", "I'm pod2"]));
    const tables = out.split('$ ipvsadm -Ln').slice(1).map((t) => (t.match(/->\s+10\.244/g) ?? []).length);
    expect(tables).toEqual([2, 3]);
  }, 130_000);
});
