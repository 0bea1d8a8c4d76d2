import pino from 'pino';

/**
 * JSON logs (journald keeps them). A short constant message, values in fields.
 * error = an operator must act; warn = degraded but recovering; info = lifecycle;
 * debug = per frame.
 */
export type Logger = pino.Logger;

export interface LoggerOptions {
  /** pino level name; default `EDGE_POTHOLE_LOG_LEVEL` or `info`. */
  level?: string;
  /** 1 = stdout (the daemon), 2 = stderr (commands whose stdout carries results). */
  fd?: 1 | 2;
}

let root: Logger = createRoot({});

function createRoot(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.EDGE_POTHOLE_LOG_LEVEL ?? 'info';

  return pino(
    {
      level,
      base: { service: 'edge-pothole' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: options.fd ?? 1, sync: true }),
  );
}

/** Called once by the CLI entry before any stage starts. */
export function configureLogger(options: LoggerOptions): void {
  root = createRoot(options);
}

/** A child logger for one stage, e.g. `stageLogger('capture')`; call it at run time. */
export function stageLogger(stage: string): Logger {
  return root.child({ stage });
}
