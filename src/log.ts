import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type DestinationStream, type LoggerOptions as PinoOptions } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { redact } from './secrets.js';
import { safeLines, terminalSafeJson } from './util/safe-text.js';

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
 * While a progress bar owns the bottom line of the terminal, log lines meant for stderr go through
 * it (it prints them above itself) instead of being written over it. One at a time: the CLI runs
 * one bar.
 */
type StderrDiversion = (line: string) => void;
let diversion: StderrDiversion | undefined;

export function divertStderrLogs(fn: StderrDiversion | undefined): void {
  diversion = fn;
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
    // Values in log lines come from Coupa (names, error bodies): no terminal escape may pass.
    write(line: string) {
      const text = prettify ? safeLines(redact(prettify(line))) : terminalSafeJson(redact(line));
      if (diversion && target === process.stderr) diversion(text);
      else target.write(text);
    },
  };
}

/**
 * JSON lines as baton connectors write them (zap's production encoder): `level` as a word, `ts` in
 * epoch seconds with a fraction, `msg`, then `caller`-style context from child loggers and the
 * fields of the call. Log filters written for baton connectors (`select(.level == "warn")`) work
 * on ours unchanged.
 */
export const ZAP_JSON: Pick<PinoOptions, 'formatters' | 'timestamp' | 'messageKey'> = {
  messageKey: 'msg',
  formatters: { level: (label) => ({ level: label }) },
  timestamp: () => `,"ts":${Date.now() / 1000}`,
};

const contextFields = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();

/**
 * Runs `fn` with `fields` on every line any logger of createLogger writes from within it, async
 * continuations included. Service mode runs each task inside one with its task_id and task_type,
 * so code that never sees the task's logger (the Coupa client, provisioning) still names the task.
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return contextFields.run({ ...contextFields.getStore(), ...fields }, fn);
}

/** The context's fields, less those the logger already binds (a child logger of the task). */
function contextMixin(_line: object, _level: number, logger: Logger): object {
  const fields = contextFields.getStore();
  if (!fields) return {};
  const bound = logger.bindings();
  const added: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (!(k in bound)) added[k] = v;
  return added;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const target = options.destination ?? process.stderr;
  const format = options.format ?? 'json';
  const stream = redactingSink(target, format);
  return pino(
    {
      level,
      base: undefined,
      mixin: contextMixin,
      // pino-pretty reads pino's own numeric shape; the zap shape is what machines get.
      ...(format === 'json' ? ZAP_JSON : {}),
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
