import { describe, expect, it } from '@jest/globals';
import { splitApplyArgs } from './apply.ts';
import { lastValue, splitOwnOptions } from './own-options.ts';

describe('splitOwnOptions', () => {
  it('takes our options out and passes kube-proxy flags on unchanged', () => {
    const { values, rest } = splitOwnOptions(
      ['--iptables-backend', 'nft', '--config=/etc/c.yaml', '-v', '4', '--masquerade-all', '--iptables-backend=legacy', 'extra'],
      ['iptables-backend'],
    );
    expect(lastValue(values['iptables-backend'])).toBe('legacy');
    expect(rest).toEqual(['--config=/etc/c.yaml', '-v', '4', '--masquerade-all', 'extra']);
  });

  it('reads apply\'s files, --once and the backend, and refuses an unknown backend', () => {
    expect(splitApplyArgs(['--once', '-f', 'a.yaml', '--filename=dir', '--hostname-override', 'n1'])).toEqual({
      files: ['a.yaml', 'dir'], once: true, backend: undefined, rest: ['--hostname-override', 'n1'],
    });
    expect(() => splitApplyArgs(['--iptables-backend', 'ebpf'])).toThrow(/legacy or nft/);
  });
});
