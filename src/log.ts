import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout (journald keeps them). Secrets are never passed to the logger; the redact
 * list is a second line of defence for fields that could carry one by mistake.
 */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ways-edge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', '*.password', 'key', '*.key', 'authorization', '*.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? process.stdout,
  );
}
