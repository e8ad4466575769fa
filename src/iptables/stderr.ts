// What iptables, iptables-save and iptables-restore print when they fail,
// mapped to the kernel meaning. Pure. Every message below was produced in the
// sandbox (iptables v1.8.9 legacy and nft) unless marked otherwise.

/** The meaning of a failure: an errno name, plus the restore line when the tool named one. */
export interface Classified {
  /** Null when the tool gave no reason (iptables-restore's bare "line N failed"): the caller must diagnose. */
  readonly code: string | null;
  readonly line: number | null;
  /** The first line of the message that says what went wrong. */
  readonly detail: string;
}

/** Message fragments → errno names, most specific first. */
const phrases: readonly (readonly [RegExp, string])[] = [
  // -w N ran out: "Another app is currently holding the xtables lock. Stopped waiting after 1s."
  [/holding the xtables lock|Stopped waiting after/, 'ETIMEDOUT'],
  // "Fatal: can't open lock file /run/xtables.lock: Permission denied", "Permission denied (you must be root)"
  [/Permission denied|you must be root|Operation not permitted/, 'EPERM'],
  // nft without nf_tables for the family: "TABLE_ADD failed (Operation not supported): table nat";
  // nf_tables not loaded: "Could not fetch rule set generation id: Invalid argument";
  // legacy without the table module (not seen here): "Table does not exist (do you need to insmod?)".
  [/Operation not supported|Could not fetch rule set generation id|Table does not exist/, 'EOPNOTSUPP'],
  [/Set \S+ doesn't exist/, 'ENOENT'],
  [/Couldn't load (target|match)/, 'ENOENT'],
  [/No chain\/target\/match by that name/, 'ENOENT'],
  [/Bad rule \(does a matching rule exist/, 'ENOENT'],
  [/No such file or directory/, 'ENOENT'],
  [/Chain already exists|File exists/, 'EEXIST'],
  // libiptc's EMLINK for a chain that rules still jump to; nft says EBUSY.
  [/Too many links|Device or resource busy/, 'EBUSY'],
  [/Directory not empty/, 'ENOTEMPTY'],
  [/Invalid argument|unknown option|Bad argument|host\/network .* not found|unable to initialize table|COMMIT expected|requires an argument|Unknown arg/, 'EINVAL'],
];

const linePatterns: readonly RegExp[] = [
  /Error occurred at line: (\d+)/,
  /line (\d+) failed/,
  /COMMIT expected at line (\d+)/,
  /^line (\d+):/m,
];

/**
 * Classifies a failed iptables command from its stderr and exit status. Exit
 * status 2 (PARAMETER_PROBLEM) without a known phrase is EINVAL; a bare
 * "line N failed" from iptables-restore has code null (the tool hides the
 * errno; see diagnose.ts); anything else unknown is EIO.
 */
export function classifyFailure(stderr: string, exitCode: number | null): Classified {
  let line: number | null = null;
  for (const p of linePatterns) {
    const m = p.exec(stderr);
    if (m) {
      line = Number(m[1]);
      break;
    }
  }
  const meaningful = stderr.split('\n').map((l) => l.trim())
    .filter((l) => l && !/^Ignoring deprecated|^Try `|^Error occurred at line/.test(l));
  const detail = meaningful[0] ?? `exit status ${exitCode ?? 'unknown'}`;
  for (const [re, code] of phrases) if (re.test(stderr)) return { code, line, detail };
  if (/line \d+ failed/.test(stderr)) return { code: null, line, detail };
  return { code: exitCode === 2 ? 'EINVAL' : 'EIO', line, detail };
}
