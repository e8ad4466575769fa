import { KernelError } from '../../src/netlink/errors.ts';

/** `'ok'` when the call succeeds, the KernelError's code when it fails; rethrows anything else. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof KernelError) return err.code;
    throw err;
  }
}
