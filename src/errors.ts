/**
 * Exit codes are part of the CLI contract: scripts branch on them, so they never change meaning.
 */
export const ExitCode = {
  ok: 0,
  /** Anything that went wrong at run time and is not covered below. */
  failure: 1,
  /** Bad flags, bad configuration, a file that is not what it should be: fix the input and rerun. */
  usage: 2,
  /** Coupa refused the credentials or a scope. */
  auth: 3,
  /** Coupa could not be reached, or kept failing past the retry budget. */
  unavailable: 4,
  /** A provisioning change was left half-done; `coupa-connector recover` finishes it. */
  needsRecovery: 5,
  /** Stopped by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Base of every error this project throws on purpose. The message says what failed; `hint` says
 * what the user can do about it. Neither may contain a secret.
 */
export class CoupaConnectorError extends Error {
  readonly exitCode: ExitCode;
  readonly hint?: string;

  constructor(message: string, options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }
}

/** Invalid flags or configuration values. */
export class ConfigError extends CoupaConnectorError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
  }
}

/** Stopped by a signal; work in progress was discarded and earlier output kept. */
export class InterruptedError extends CoupaConnectorError {
  constructor(signal: string) {
    super(`Stopped by ${signal}; the previous output file, if any, was left untouched.`, {
      exitCode: ExitCode.interrupted,
    });
  }
}

/** One line for humans: message, then the hint if there is one. */
export function formatError(err: unknown): string {
  if (err instanceof CoupaConnectorError) {
    return err.hint ? `${err.message} ${err.hint}` : err.message;
  }
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof CoupaConnectorError ? err.exitCode : ExitCode.failure;
}
