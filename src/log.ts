import { pino, type Logger, type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { redact } from './secrets.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'console';
export type { Logger };

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where log lines go; stderr by default so that stdout stays clean for command output. */
  destination?: NodeJS.WritableStream;
}

/**
 * The one sink every log line passes through: optional human formatting, then secret scrubbing,
 * then the target stream. Formatting happens in-process and synchronously so that lines written
 * just before a process exit are not lost.
 */
function redactingSink(target: NodeJS.WritableStream, format: LogFormat): DestinationStream {
  const prettify =
    format === 'console' ? prettyFactory({ colorize: false, translateTime: 'SYS:HH:MM:ss' }) : undefined;
  return {
    write(line: string) {
      target.write(redact(prettify ? prettify(line) : line));
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const target = options.destination ?? process.stderr;
  const stream = redactingSink(target, options.format ?? 'json');
  return pino(
    {
      level,
      base: undefined,
      // Belt and braces: keys that hold secrets by name are dropped even before the scrubber runs.
      redact: {
        paths: [
          'secret',
          'clientSecret',
          'client_secret',
          'accessToken',
          'access_token',
          'token',
          'authorization',
          '*.clientSecret',
          '*.client_secret',
          '*.accessToken',
          '*.access_token',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
        ],
        censor: '[REDACTED]',
      },
    },
    stream,
  );
}

/** For library code called without a logger (tests, embedding). */
export const silentLogger: Logger = pino({ level: 'silent' });
