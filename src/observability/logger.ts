import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The root logger: one JSON line per event on stdout (or `destination`), ISO
 * time, level as a label. Created once in main and passed down; components use
 * `logger.child({ component })`. Errors go under `err`.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const options = {
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    // Components log under their own `component` (logger.child); the program is `name`.
    name: 'ipvs-proxy',
    base: {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
