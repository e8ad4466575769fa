// SPDX-License-Identifier: Apache-2.0
// An in-memory model of the kernel's ipsets behind the ipset tool, for unit
// tests of everything above IpsetClient. It reads the same restore text the
// real client sends and applies it the way `ipset restore` does (measured in
// the sandbox, and held to it by test/contract/ipset-client.contract.ts):
// - line by line, stopping at the first failure, with no rollback;
// - consecutive add (or del) lines to one set are held and sent together, so a
//   line the tool refuses (bad syntax, missing set) also drops that held run,
//   while a kernel refusal keeps the run's lines before the failing one;
// - `-exist` as the kernel implements it (see `compatible`).
// Not modelled: the tool's buffer limit (it sends a run early after about 150
// IPv4 entries), set types other than kube-proxy's five, `swap`/`rename`/`test`,
// and `destroy` without a name (the real one destroys every set; refused here).

import { KernelError } from '../netlink/errors.ts';
import type { IpsetClient, RestoreOptions } from './client.ts';
import { parseSave, tokenize } from './codec.ts';
import { type ElementError, canonicalElement } from './element.ts';
import { IpsetError } from './errors.ts';
import type { ObservedSet } from './types.ts';
import { parseCreate, type CreateSpec } from './fake-create.ts';

interface StoredSet extends CreateSpec {
  /** Element text → its comment (null without one). */
  readonly entries: Map<string, string | null>;
}

/** One write the fake applied, in order. */
export interface FakeIpsetWrite {
  readonly op: 'create' | 'add' | 'del' | 'flush' | 'destroy';
  readonly set: string;
  readonly element?: string;
}

/** A parsed add/del line, waiting in a run. */
interface ElementLine {
  readonly lineNo: number;
  readonly text: string;
  readonly exist: boolean;
  readonly element: string;
  readonly port: number | null;
  readonly comment: string | null;
  /** A refusal the kernel (not the tool) makes when the line is applied. */
  readonly kernelError: ElementError | null;
}

interface Run {
  readonly cmd: 'add' | 'del';
  readonly set: string;
  readonly lines: ElementLine[];
}

interface LineBase {
  readonly lineNo: number;
  readonly text: string;
  readonly exist: boolean;
}

/** A line that acts on a whole set; it is applied at once. */
type SetLine =
  | (LineBase & { readonly cmd: 'create'; readonly spec: CreateSpec })
  | (LineBase & { readonly cmd: 'destroy'; readonly name: string })
  | (LineBase & { readonly cmd: 'flush'; readonly name: string });

/** An add or del line; it joins a run. */
interface RunLine {
  readonly cmd: 'add' | 'del';
  readonly set: string;
  readonly line: ElementLine;
}

const maxNameLength = 31;

/** Options of the fake. */
export interface FakeIpsetOptions {
  /** Whether a kernel component (an iptables rule) references the set; such a set cannot be destroyed (EBUSY). */
  readonly isReferenced?: (name: string) => boolean;
}

/**
 * In-memory kernel model of ipsets with the real client's semantics and errors
 * (IpsetError codes EEXIST, ENOENT, EINVAL, EBUSY, ERANGE, ENOSPC with the
 * failing line). `save()`/`dump()` are sorted and deterministic; `writes` logs
 * every applied write; `processes` counts the tool runs the real client would
 * have started.
 */
export class FakeIpset implements IpsetClient {
  private readonly sets = new Map<string, StoredSet>();
  private readonly log: FakeIpsetWrite[] = [];
  /** Kernel references to sets (replace to connect an iptables fake). */
  isReferenced: (name: string) => boolean;
  /** When set, every call rejects with this error (to test failure handling). */
  failWith: KernelError | null = null;
  /** Tool runs the real client would have made, by verb. */
  readonly processes = { save: 0, restore: 0, destroy: 0 };

  constructor(options: FakeIpsetOptions = {}) {
    this.isReferenced = options.isReferenced ?? (() => false);
  }

  /** Every applied write so far; `writes.slice(mark)` gives those since `mark = writes.length`. */
  get writes(): readonly FakeIpsetWrite[] {
    return this.log;
  }

  /** `ipset save` text: sets sorted by name, entries sorted. */
  save(): string {
    const lines: string[] = [];
    for (const name of [...this.sets.keys()].sort(byString)) {
      const s = this.sets.get(name)!;
      const ext = `${s.comment ? ' comment' : ''}${s.counters ? ' counters' : ''}`;
      const header = s.type === 'bitmap:port'
        ? `range ${s.range![0]}-${s.range![1]}`
        : `family ${s.family} hashsize ${s.hashSize} maxelem ${s.maxElem}`;
      lines.push(`create ${name} ${s.type} ${header}${ext}`);
      for (const e of [...s.entries.keys()].sort(byString)) {
        const comment = s.entries.get(e);
        lines.push(`add ${name} ${e}${comment == null ? '' : ` comment "${comment.replace(/"/g, '\\"')}"`}`);
      }
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  /** Deterministic text of the whole state (the same as `save()`), for golden tests. */
  dump(): string {
    return this.save();
  }

  list(): Promise<ObservedSet[]> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.processes.save++;
    return Promise.resolve(parseSave(this.save()));
  }

  destroy(name: string): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.processes.destroy++;
    try {
      this.destroySet(name, false, null, null, 'ipset destroy');
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  restore(lines: readonly string[], options: RestoreOptions = {}): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    if (lines.length === 0) return Promise.resolve();
    this.processes.restore++;
    try {
      // The real client sends the lines joined by newlines; read them back the same way.
      this.interpret(lines.join('\n').split('\n'), options.exist !== false);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private interpret(lines: readonly string[], exist: boolean): void {
    let run: Run | null = null;
    for (let i = 0; i < lines.length; i++) {
      // A line the tool refuses throws here, before the held run is sent: that
      // run never reaches the kernel.
      const parsed = this.parseLine(lines[i]!, i + 1, exist);
      if (parsed === null) continue;
      if ('line' in parsed) {
        if (run !== null && run.cmd === parsed.cmd && run.set === parsed.set) {
          run.lines.push(parsed.line);
          continue;
        }
        this.send(run);
        run = { cmd: parsed.cmd, set: parsed.set, lines: [parsed.line] };
        continue;
      }
      this.send(run);
      run = null;
      this.applySetLine(parsed);
    }
    this.send(run);
  }

  /** Hands a held run to the kernel, which applies it in order and stops at the first refusal. */
  private send(run: Run | null): void {
    if (run) for (const l of run.lines) this.applyElement(run.cmd, run.set, l);
  }

  /** Parses one line as the ipset tool does; throws what the tool refuses. Null for blank and comment lines. */
  private parseLine(text: string, lineNo: number, exist: boolean): SetLine | RunLine | null {
    const tokens = tokenize(text);
    if (tokens === null) throw toolError('EINVAL', '', 'unterminated quote', lineNo, text);
    if (tokens.length === 0 || tokens[0]!.startsWith('#')) return null;
    const lineExist = exist || tokens.includes('-exist');
    const words = tokens.filter((w) => w !== '-exist');
    const [cmd, name] = words;
    if (cmd !== 'create' && cmd !== 'add' && cmd !== 'del' && cmd !== 'destroy' && cmd !== 'flush') {
      throw toolError('EINVAL', '', `No command specified: unknown argument ${cmd}`, null, null);
    }
    if (name === undefined) {
      if (cmd === 'destroy') throw toolError('EINVAL', '', 'destroy without a set name is not modelled', lineNo, text);
      throw toolError('EINVAL', '', 'Missing mandatory argument: setname', null, null);
    }
    if (name.length > maxNameLength) throw toolError('EINVAL', name, `setname '${name}' is longer than ${maxNameLength} characters`, lineNo, text);
    if (cmd === 'create') {
      const spec = parseCreate(name, words.slice(2));
      if (typeof spec === 'string') throw toolError('EINVAL', name, spec, lineNo, text);
      if ('usage' in spec) throw toolError('EINVAL', name, spec.usage, null, null);
      return { cmd, spec, lineNo, text, exist: lineExist };
    }
    if (cmd === 'destroy') return { cmd, name, lineNo, text, exist: lineExist };
    if (cmd === 'flush') return { cmd, name, lineNo, text, exist: lineExist };
    return { cmd, set: name, line: this.parseElementLine(name, words.slice(2), lineNo, text, lineExist) };
  }

  private parseElementLine(name: string, words: readonly string[], lineNo: number, text: string, exist: boolean): ElementLine {
    // The tool asks the kernel for the set's type to read the element.
    const set = this.sets.get(name);
    if (!set) throw toolError('ENOENT', name, 'The set with the given name does not exist', lineNo, text);
    const [elementText, ...options] = words;
    if (elementText === undefined) throw toolError('EINVAL', name, 'Missing second mandatory argument to command', lineNo, text);
    let comment: string | null = null;
    if (options[0] === 'comment' && options.length === 2) comment = options[1]!;
    else if (options.length > 0) throw toolError('EINVAL', name, `Unknown argument: \`${options[0]}'`, null, null);
    const shape = { type: set.type, family: set.family ?? 'inet' };
    const r = canonicalElement(shape, elementText);
    if (!r.ok && r.stage === 'parse') throw toolError('EINVAL', name, r.message, r.reportsLine ? lineNo : null, r.reportsLine ? text : null);
    return {
      lineNo, text, exist, comment,
      element: r.ok ? r.element : elementText,
      port: r.ok ? r.port : null,
      kernelError: r.ok ? null : r,
    };
  }

  private applySetLine(l: SetLine): void {
    if (l.cmd === 'destroy') return this.destroySet(l.name, l.exist, l.lineNo, l.text, 'ipset restore');
    if (l.cmd === 'flush') {
      const set = this.sets.get(l.name);
      if (!set) throw kernelError('ENOENT', l.name, 'The set with the given name does not exist', l.lineNo, l.text);
      set.entries.clear();
      this.log.push({ op: 'flush', set: l.name });
      return;
    }
    const existing = this.sets.get(l.spec.name);
    if (existing) {
      if (l.exist && compatible(existing, l.spec)) return;
      throw kernelError('EEXIST', l.spec.name, 'Set cannot be created: set with the same name already exists', l.lineNo, l.text);
    }
    this.sets.set(l.spec.name, { ...l.spec, entries: new Map() });
    this.log.push({ op: 'create', set: l.spec.name });
  }

  private destroySet(name: string, exist: boolean, lineNo: number | null, text: string | null, op: string): void {
    if (!this.sets.has(name)) {
      if (exist) return;
      throw kernelError('ENOENT', name, 'The set with the given name does not exist', lineNo, text, op);
    }
    if (this.isReferenced(name)) {
      throw kernelError('EBUSY', name, 'Set cannot be destroyed: it is in use by a kernel component', lineNo, text, op);
    }
    this.sets.delete(name);
    this.log.push({ op: 'destroy', set: name });
  }

  private applyElement(cmd: 'add' | 'del', name: string, l: ElementLine): void {
    const set = this.sets.get(name);
    if (!set) throw kernelError('ENOENT', name, 'The set with the given name does not exist', l.lineNo, l.text);
    if (l.kernelError) throw kernelError('EINVAL', name, l.kernelError.message, l.lineNo, l.text);
    if (set.range && l.port !== null && (l.port < set.range[0] || l.port > set.range[1])) {
      throw kernelError('ERANGE', name, 'Element is out of the range of the set', l.lineNo, l.text);
    }
    const present = set.entries.has(l.element);
    if (cmd === 'del') {
      if (!present) {
        if (l.exist) return;
        throw kernelError('ENOENT', name, "Element cannot be deleted from the set: it's not added", l.lineNo, l.text);
      }
      set.entries.delete(l.element);
      this.log.push({ op: 'del', set: name, element: l.element });
      return;
    }
    if (l.comment !== null && !set.comment) {
      throw kernelError('EINVAL', name, 'Comment cannot be used: set was created without comment support', l.lineNo, l.text);
    }
    if (present) {
      if (l.exist) return;
      throw kernelError('EEXIST', name, "Element cannot be added to the set: it's already added", l.lineNo, l.text);
    }
    if (set.entries.size >= set.maxElem) throw kernelError('ENOSPC', name, 'Hash is full, cannot add more elements', l.lineNo, l.text);
    set.entries.set(l.element, l.comment);
    this.log.push({ op: 'add', set: name, element: l.element });
  }
}

/**
 * Whether `create -exist` of `spec` succeeds on `existing`, as the kernel
 * decides (ip_set_create, measured): same type, maxelem and extensions, and for
 * bitmap:port the same range. The hash size is not compared (the kernel
 * resizes), and neither is the family except for hash:ip, whose netmask
 * differs by family: `create -exist` of a hash:ip,port set over one of the
 * other family succeeds, leaving the old family in place.
 */
function compatible(existing: CreateSpec, spec: CreateSpec): boolean {
  if (existing.type !== spec.type || existing.maxElem !== spec.maxElem) return false;
  if (existing.comment !== spec.comment || existing.counters !== spec.counters) return false;
  if (spec.type === 'bitmap:port') return existing.range?.[0] === spec.range?.[0] && existing.range?.[1] === spec.range?.[1];
  return spec.type !== 'hash:ip' || existing.family === spec.family;
}

function toolError(code: string, set: string, reason: string, line: number | null, text: string | null): IpsetError {
  return new IpsetError(code, 'ipset restore', set, reason, line, text);
}

function kernelError(code: string, set: string, reason: string, line: number | null, text: string | null, op = 'ipset restore'): IpsetError {
  return new IpsetError(code, op, set, reason, line, text);
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

