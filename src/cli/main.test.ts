import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { main, findCommand } from './main.ts';
import { type Command, UsageError } from './command.ts';

function capture(): { io: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => { o += c.toString(); });
  stderr.on('data', (c: Buffer) => { e += c.toString(); });
  return { io: { stdout, stderr }, out: () => o, err: () => e };
}

const echo: Command = {
  name: ['say', 'hi'],
  summary: 'says hi',
  usage: 'Usage: ipvs-proxy say hi [--loud]\n',
  run(args, io) {
    if (args.includes('--bad')) throw new UsageError('--bad is not an option');
    io.stdout.write(args.includes('--loud') ? 'HI\n' : 'hi\n');
    return Promise.resolve(0);
  },
};

describe('cli main', () => {
  it('prints help listing the commands', async () => {
    const c = capture();
    expect(await main(['--help'], c.io, [echo])).toBe(0);
    expect(c.out()).toContain('say hi  says hi');
  });

  it('prints the package version', async () => {
    const c = capture();
    expect(await main(['--version'], c.io, [echo])).toBe(0);
    expect(c.out()).toMatch(/^ipvs-proxy \d+\.\d+\.\d+\n$/);
  });

  it('runs a command with its arguments', async () => {
    const c = capture();
    expect(await main(['say', 'hi', '--loud'], c.io, [echo])).toBe(0);
    expect(c.out()).toBe('HI\n');
  });

  it('prints per-command help', async () => {
    const c = capture();
    expect(await main(['say', 'hi', '--help'], c.io, [echo])).toBe(0);
    expect(c.out()).toBe(echo.usage);
  });

  it('exits 2 on an unknown command or bad usage', async () => {
    const c = capture();
    expect(await main(['nope'], c.io, [echo])).toBe(2);
    expect(c.err()).toContain('unknown command "nope"');
    expect(await main(['say', 'hi', '--bad'], c.io, [echo])).toBe(2);
    expect(c.err()).toContain('--bad is not an option');
  });

  it('prefers the longest matching command name', () => {
    const short: Command = { ...echo, name: ['say'] };
    expect(findCommand([short, echo], ['say', 'hi'])).toBe(echo);
    expect(findCommand([short, echo], ['say', 'bye'])).toBe(short);
  });
});
