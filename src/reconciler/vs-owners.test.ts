import { describe, expect, it } from '@jest/globals';
import { VirtualServerOwners } from './vs-owners.ts';

interface Port { readonly key: string; readonly version: number }
const p = (key: string, version = 1): Port => ({ key, version });
const names = (o: VirtualServerOwners<Port>, vs: string): string[] => o.owners(vs).map((x) => `${x.key}@${x.version}`).sort();

describe('VirtualServerOwners', () => {
  it('one owner: it wins, and removing it forgets the virtual server', () => {
    const o = new VirtualServerOwners<Port>();
    o.add('vs', p('a/x:p'));
    expect(o.winner('vs')?.key).toBe('a/x:p');
    expect(o.size).toBe(1);
    o.remove('vs', 'a/x:p');
    expect(o.winner('vs')).toBeUndefined();
    expect(o.size).toBe(0);
    expect([...o.keys()]).toEqual([]);
  });

  it('a second owner upgrades to a list, the greatest key wins whatever the order of arrival', () => {
    const o = new VirtualServerOwners<Port>();
    o.add('vs', p('ns/b:p'));
    o.add('vs', p('ns/a:p'));
    expect(o.winner('vs')?.key).toBe('ns/b:p');
    o.add('vs', p('ns/c:p'));
    expect(o.winner('vs')?.key).toBe('ns/c:p');
    expect(names(o, 'vs')).toEqual(['ns/a:p@1', 'ns/b:p@1', 'ns/c:p@1']);
  });

  it('downgrades back to one owner, then to none, as owners leave', () => {
    const o = new VirtualServerOwners<Port>();
    o.add('vs', p('ns/a:p'));
    o.add('vs', p('ns/b:p'));
    o.remove('vs', 'ns/b:p');
    expect(names(o, 'vs')).toEqual(['ns/a:p@1']);
    expect(o.winner('vs')?.key).toBe('ns/a:p');
    // Back to the single form: adding the same key again replaces, not duplicates.
    o.add('vs', p('ns/a:p', 2));
    expect(names(o, 'vs')).toEqual(['ns/a:p@2']);
    o.remove('vs', 'ns/a:p');
    expect(o.size).toBe(0);
  });

  it('re-adding an owner replaces it, in the single and in the list form', () => {
    const o = new VirtualServerOwners<Port>();
    o.add('vs', p('ns/a:p', 1));
    o.add('vs', p('ns/a:p', 2));
    expect(names(o, 'vs')).toEqual(['ns/a:p@2']);
    o.add('vs', p('ns/b:p', 1));
    o.add('vs', p('ns/b:p', 3));
    expect(names(o, 'vs')).toEqual(['ns/a:p@2', 'ns/b:p@3']);
    expect(o.winner('vs')?.version).toBe(3);
  });

  it('removing a key that does not own the virtual server changes nothing', () => {
    const o = new VirtualServerOwners<Port>();
    o.remove('vs', 'ns/a:p');
    o.add('vs', p('ns/a:p'));
    o.remove('vs', 'ns/z:p');
    o.remove('other', 'ns/a:p');
    expect(names(o, 'vs')).toEqual(['ns/a:p@1']);
    o.add('vs', p('ns/b:p'));
    o.remove('vs', 'ns/z:p');
    expect(names(o, 'vs')).toEqual(['ns/a:p@1', 'ns/b:p@1']);
  });

  it('keeps virtual servers apart', () => {
    const o = new VirtualServerOwners<Port>();
    o.add('vs1', p('ns/a:p'));
    o.add('vs2', p('ns/a:p'));
    o.add('vs2', p('ns/b:p'));
    o.remove('vs2', 'ns/a:p');
    expect([o.winner('vs1')?.key, o.winner('vs2')?.key]).toEqual(['ns/a:p', 'ns/b:p']);
    expect([...o.keys()].sort()).toEqual(['vs1', 'vs2']);
  });
});
