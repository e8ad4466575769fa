import { describe, expect, it } from '@jest/globals';
import { matchesLabels, parseLabelSelector, SelectorError } from './label-selector.ts';

const labels = { app: 'web', tier: 'front', n: '5', empty: '' };

describe('parseLabelSelector + matchesLabels', () => {
  it.each([
    { name: 'empty selects everything', sel: '', want: true },
    { name: 'equality', sel: 'app=web', want: true },
    { name: 'double equality, spaces', sel: ' app == web ', want: true },
    { name: 'inequality', sel: 'app!=web', want: false },
    { name: 'inequality on a missing key', sel: 'missing!=x', want: true },
    { name: 'in', sel: 'tier in (back, front)', want: true },
    { name: 'notin', sel: 'tier notin (front)', want: false },
    { name: 'notin on a missing key', sel: 'missing notin (a)', want: true },
    { name: 'exists', sel: 'tier', want: true },
    { name: 'does not exist', sel: '!tier', want: false },
    { name: 'kube-proxy selector', sel: '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless', want: true },
    { name: 'AND fails when one fails', sel: 'app=web,tier=back', want: false },
    { name: 'empty value', sel: 'empty=', want: true },
    { name: 'greater than', sel: 'n>4', want: true },
    { name: 'less than', sel: 'n<5', want: false },
  ])('$name', ({ sel, want }) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(want);
  });

  it.each([
    { name: 'dangling comma', sel: 'app=web,' },
    { name: 'unclosed set', sel: 'app in (a,b' },
    { name: 'in without parentheses', sel: 'app in a' },
    { name: 'invalid key', sel: '-bad=x' },
    { name: 'invalid value', sel: 'app=-x-' },
    { name: 'non-integer comparison', sel: 'n>x' },
    { name: 'two keys without operator', sel: 'a b' },
  ])('rejects $name', ({ sel }) => {
    expect(() => parseLabelSelector(sel)).toThrow(SelectorError);
  });
});
