import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
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

/** A stream wrapper that scrubs registered secrets from every serialized log line. */
function redactingStream(target: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      target.write(redact(line));
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const target = options.destination ?? process.stderr;
  const sink = redactingStream(target);
  const stream: DestinationStream =
    options.format === 'console'
      ? pretty({ destination: sink as unknown as NodeJS.WritableStream, colorize: false, sync: true })
      : sink;
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
