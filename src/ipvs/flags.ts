import { VsFlag } from './types.ts';

// ipvsadm names scheduler flags after the scheduler that reads them: SCHED1 is
// "sh-fallback" under sh, "mh-fallback" under mh and "flag-1" otherwise.

const schedBits = [VsFlag.Sched1, VsFlag.Sched2, VsFlag.Sched3] as const;

function schedNames(scheduler: string): readonly [string, string, string] {
  if (scheduler === 'sh') return ['sh-fallback', 'sh-port', 'flag-3'];
  if (scheduler === 'mh') return ['mh-fallback', 'mh-port', 'flag-3'];
  return ['flag-1', 'flag-2', 'flag-3'];
}

/** The scheduler-flag names ipvsadm prints for `flags` (without "onepacket"). */
export function schedulerFlagNames(scheduler: string, flags: number): string[] {
  const names = schedNames(scheduler);
  return schedBits.flatMap((bit, i) => ((flags & bit) !== 0 ? [names[i]!] : []));
}

/** All flag names of a virtual server for JSON output: scheduler flags, then "onepacket". */
export function flagNames(scheduler: string, flags: number): string[] {
  const names = schedulerFlagNames(scheduler, flags);
  if ((flags & VsFlag.OnePacket) !== 0) names.push('onepacket');
  return names;
}

/**
 * Parses flag names (ipvsadm's, as printed by `flagNames`) into bits.
 * Returns the names it does not know for `scheduler` in `unknown` instead of throwing.
 */
export function parseFlagNames(scheduler: string, names: readonly string[]): { flags: number; unknown: string[] } {
  const known = schedNames(scheduler);
  let flags = 0;
  const unknown: string[] = [];
  for (const name of names) {
    const i = known.indexOf(name);
    if (i >= 0) flags |= schedBits[i]!;
    else if (name === 'onepacket' || name === 'ops') flags |= VsFlag.OnePacket;
    else unknown.push(name);
  }
  return { flags, unknown };
}
