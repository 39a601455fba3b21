import { CoupaConnectorError, ExitCode } from '../errors.js';

/**
 * Every failure the client reports is one of these. Messages name what failed (method, path,
 * host) and what to do; they never carry a secret, a token or query-string values.
 */

/** `--coupa-domain` or `--base-url` is not something we may send credentials to. */
export class CoupaDomainError extends CoupaConnectorError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
  }
}

/**
 * Coupa answered, and the answer is a failure that retrying will not change. Every such error
 * carries the status, the method and the path (never the query string), so callers branch on
 * `err instanceof CoupaHttpError && err.status === 404` whatever the subclass.
 */
export class CoupaHttpError extends CoupaConnectorError {
  readonly status: number;
  readonly method: string;
  readonly path: string;

  constructor(
    message: string,
    opts: {
      status: number;
      method: string;
      path: string;
      exitCode: ExitCode;
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(message, { exitCode: opts.exitCode, hint: opts.hint, cause: opts.cause });
    this.status = opts.status;
    this.method = opts.method;
    this.path = opts.path;
  }
}

/** Coupa refused the credentials, or refused a token it issued (exit code 3). */
export class CoupaAuthError extends CoupaHttpError {
  /** The scope the refused call probably needs, when we can tell. */
  readonly scope?: string;

  constructor(
    message: string,
    opts: { status: number; method?: string; path: string; scope?: string; hint?: string },
  ) {
    super(message, {
      status: opts.status,
      method: opts.method ?? 'GET',
      path: opts.path,
      exitCode: ExitCode.auth,
      hint: opts.hint,
    });
    this.scope = opts.scope;
  }
}

/** The token endpoint refused a scope we asked for (Doorkeeper answers 400 invalid_scope); exit code 3. */
export class InvalidScopeError extends CoupaAuthError {}

/** 403: the token is valid but lacks a permission or scope (exit code 3). */
export class CoupaForbiddenError extends CoupaHttpError {
  declare readonly status: 403;
  readonly scope?: string;

  constructor(message: string, opts: { method?: string; path: string; scope?: string; hint?: string }) {
    super(message, {
      status: 403,
      method: opts.method ?? 'GET',
      path: opts.path,
      exitCode: ExitCode.auth,
      hint: opts.hint,
    });
    this.scope = opts.scope;
  }
}

/** A non-retryable answer (400, 404, 405, 409, 422…). `coupaMessage` is Coupa's own error text. */
export class CoupaApiError extends CoupaHttpError {
  readonly coupaMessage?: string;

  constructor(opts: {
    status: number;
    method: string;
    path: string;
    coupaMessage?: string;
    excerpt?: string;
  }) {
    const detail = opts.coupaMessage ?? opts.excerpt;
    super(`Coupa answered ${opts.status} to ${opts.method} ${opts.path}${detail ? `: ${detail}` : ''}.`, {
      status: opts.status,
      method: opts.method,
      path: opts.path,
      exitCode: ExitCode.failure,
    });
    this.coupaMessage = opts.coupaMessage;
  }
}

/** Coupa could not be reached or kept failing past the per-request retry limit (exit code 4). */
export class CoupaUnavailableError extends CoupaConnectorError {
  /** Last HTTP status seen, or undefined when the last failure was a network error. */
  readonly lastStatus?: number;

  constructor(message: string, opts: { lastStatus?: number; hint?: string; cause?: unknown }) {
    super(message, { exitCode: ExitCode.unavailable, hint: opts.hint, cause: opts.cause });
    this.lastStatus = opts.lastStatus;
  }
}

/** The client-wide retry budget ran out: the API is failing too often for the run to be useful. */
export class RetryBudgetExceededError extends CoupaUnavailableError {}

/** A redirect: never followed, because following could hand the bearer token to another host. */
export class CoupaRedirectError extends CoupaConnectorError {
  readonly location?: string;

  constructor(message: string, opts: { location?: string; hint?: string }) {
    super(message, { exitCode: ExitCode.unavailable, hint: opts.hint });
    this.location = opts.location;
  }
}

/** The body is not JSON (an HTML login page, XML, truncated JSON). */
export class CoupaResponseFormatError extends CoupaConnectorError {
  readonly endpoint: string;
  readonly contentType: string;

  constructor(message: string, opts: { endpoint: string; contentType: string }) {
    super(message, { exitCode: ExitCode.failure });
    this.endpoint = opts.endpoint;
    this.contentType = opts.contentType;
  }
}

/** The JSON does not have the shape we rely on; `field` is the path to the first bad value. */
export class CoupaResponseValidationError extends CoupaConnectorError {
  readonly endpoint: string;
  readonly field: string;

  constructor(message: string, opts: { endpoint: string; field: string; exitCode?: ExitCode }) {
    super(message, { exitCode: opts.exitCode ?? ExitCode.failure });
    this.endpoint = opts.endpoint;
    this.field = opts.field;
  }
}
