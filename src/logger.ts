import pino, { type Logger } from 'pino';

export type { Logger };

/** The root logger (pid, hostname); subsystems take `logger.child({ name: 'authd:<subsystem>' })`. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    // Defence in depth: these keys never reach a log line, whatever a caller passes.
    redact: {
      paths: [
        'password',
        '*.password',
        'hash',
        '*.hash',
        'token',
        '*.token',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
