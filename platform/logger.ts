import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs; secrets are redacted wherever they may appear. */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'token',
        'admissionToken',
        'paymentMethod',
        '*.secret',
        '*.password',
      ],
      censor: '[redacted]',
    },
  });
}
