import type { Logger } from '../log.js';
import type { CoupaConnectorError } from '../errors.js';
import {
  CoupaDomainError,
  CoupaRedirectError,
  CoupaUnavailableError,
  RetryBudgetExceededError,
} from './errors.js';
import { NetworkError, sendOnce, type HttpResponse } from './http.js';
import { BodyTooLargeError, CoupaResponseTooLargeError } from './bounded-body.js';
import type { RateLimiter } from './rate-limiter.js';
import {
  decideRetry,
  isRetryableStatus,
  parseRetryAfter,
  RetryBudget,
  type AttemptOutcome,
  type RetryDecision,
  type RetryOptions,
} from './retry.js';
import { sleep } from '../util/sleep.js';

export interface ClientStats {
  /** HTTP requests sent, token requests and retries included. */
  requests: number;
  retries: number;
  /** Answers by status code; network failures count under their code (e.g. "ECONNRESET"). */
  byStatus: Record<string, number>;
  /** 429 answers. */
  throttled: number;
  tokenRequests: number;
  /**
   * performance.now() at which the latest PUT/PATCH/DELETE attempt was sent that got no answer of
   * its own after it may have reached the server (timeout, reset, or a gateway's 502/504). The
   * server may still apply it later, after a retry succeeded; provisioning waits that out.
   * Null until the first such attempt.
   */
  unansweredWriteSentAt: number | null;
}

/** Methods that change something; the token POST does not count (asking twice is harmless). */
const WRITES = new Set(['PUT', 'PATCH', 'DELETE']);

export interface Exchange {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /**
   * Whether repeating the request is harmless when we cannot tell if the server acted on it
   * (5xx, reset after sending). POST is not: it could create a user twice. Every request is
   * retried after a 429 or a connection that never opened, since the server did not act then.
   */
  idempotent: boolean;
  /** Extra abort source (a pagination lane being stopped), on top of the client's signal. */
  signal?: AbortSignal;
}

/** `METHOD /path` with no host and no query string: safe to show, and what users recognise. */
export function describe(method: string, url: URL): string {
  return `${method} ${url.pathname}`;
}

/**
 * Rate limiting, per-attempt timeouts and retries for every request the client makes, the token
 * request included. Returns any answer that is not worth retrying (2xx and 4xx alike) and leaves
 * its meaning to the caller; redirects are refused here, once, for everyone.
 */
export class Transport {
  readonly stats: ClientStats = {
    requests: 0,
    retries: 0,
    byStatus: {},
    throttled: 0,
    tokenRequests: 0,
    unansweredWriteSentAt: null,
  };
  private readonly budget: RetryBudget;
  private readonly retry: Required<RetryOptions>;

  constructor(
    private readonly opts: {
      limiter?: RateLimiter;
      retry: Required<RetryOptions>;
      timeoutMs: number;
      /** Cap on each response body, decoded; default DEFAULT_MAX_RESPONSE_BYTES. */
      maxResponseBytes?: number;
      logger: Logger;
      signal?: AbortSignal;
    },
  ) {
    this.retry = opts.retry;
    this.budget = new RetryBudget(opts.retry.budget);
  }

  async exchange(req: Exchange): Promise<HttpResponse> {
    const signal = combine(this.opts.signal, req.signal);
    const what = describe(req.method, req.url);
    const { logger } = this.opts;
    for (let retries = 0; ; retries++) {
      signal?.throwIfAborted();
      await this.opts.limiter?.acquire(signal);
      this.stats.requests++;
      const started = performance.now();
      let res: HttpResponse | undefined;
      let netErr: NetworkError | undefined;
      try {
        res = await sendOnce({
          ...req,
          timeoutMs: this.opts.timeoutMs,
          maxBodyBytes: this.opts.maxResponseBytes,
          signal,
        });
      } catch (err) {
        // Too large is final: the same request would get the same answer.
        if (err instanceof BodyTooLargeError) throw new CoupaResponseTooLargeError(what, req.url.origin, err);
        if (!(err instanceof NetworkError)) throw err;
        netErr = err;
        this.count(err.code);
        if (err.sent) this.unanswered(req.method, started);
        logger.debug({ request: what, code: err.code, ms: elapsed(started) }, 'coupa request failed');
      }
      let outcome: AttemptOutcome;
      if (res) {
        this.count(String(res.status));
        logger.debug({ request: what, status: res.status, ms: elapsed(started) }, 'coupa request');
        if (res.status >= 300 && res.status < 400) throw redirectError(req.url, what, res);
        if (res.status === 429) this.stats.throttled++;
        // A gateway answered for a server that may still be working on the request.
        if (res.status === 502 || res.status === 504) this.unanswered(req.method, started);
        outcome = {
          kind: 'response',
          status: res.status,
          retryAfterMs: isRetryableStatus(res.status)
            ? parseRetryAfter(res.headers.get('retry-after'))
            : undefined,
        };
      } else {
        outcome = { kind: 'network', retryable: netErr!.retryable, sent: netErr!.sent };
      }
      const decision = decideRetry(
        outcome,
        { retries, budgetLeft: this.budget.remaining, idempotent: req.idempotent },
        this.retry,
      );
      if (decision.action === 'done' && res) return res;
      const failure = res ? `HTTP ${res.status}` : `${netErr!.code} (${netErr!.message})`;
      if (decision.action !== 'retry') {
        throw this.failure(decision.action === 'done' ? 'not-retryable' : decision.reason, {
          url: req.url,
          what,
          retries,
          failure,
          res,
          netErr,
          retryAfterMs: outcome.kind === 'response' ? outcome.retryAfterMs : undefined,
        });
      }
      this.budget.take();
      this.stats.retries++;
      if (res?.status === 429) this.opts.limiter?.drain();
      logger.debug(
        { request: what, failure, retry: retries + 1, delayMs: decision.delayMs },
        'coupa request retry',
      );
      await sleep(decision.delayMs, signal);
    }
  }

  /** The error for a request given up on, by the reason decideRetry gave. */
  private failure(
    reason: Extract<RetryDecision, { action: 'fail' }>['reason'],
    f: {
      url: URL;
      what: string;
      retries: number;
      failure: string;
      res?: HttpResponse;
      netErr?: NetworkError;
      retryAfterMs?: number;
    },
  ): Error {
    const status = f.res?.status;
    switch (reason) {
      case 'not-retryable':
        return networkFailure(f.url, f.what, f.netErr!);
      case 'retry-after-too-long':
        return new CoupaUnavailableError(
          `Coupa asked us to wait ${Math.ceil((f.retryAfterMs ?? 0) / 1000)} s before retrying ${f.what} at ${f.url.origin} (HTTP ${status}), longer than the ${this.retry.maxDelayMs / 1000} s we wait at most.`,
          { lastStatus: status, hint: 'Try again later, when Coupa is less loaded.' },
        );
      case 'budget':
        return new RetryBudgetExceededError(
          `Gave up on ${f.what} at ${f.url.origin}: the client's budget of ${this.retry.budget} retries is spent (last failure: ${f.failure}).`,
          {
            lastStatus: status,
            cause: f.netErr,
            hint: 'Coupa is failing or throttling too often for this run to finish; try again later, or lower --rate-limit.',
          },
        );
      case 'attempts':
        return new CoupaUnavailableError(
          `Gave up on ${f.what} at ${f.url.origin} after ${f.retries + 1} attempts (last failure: ${f.failure}).`,
          {
            lastStatus: status,
            cause: f.netErr,
            hint: 'Coupa is unavailable or overloaded; try again later, or raise --max-retries / --request-timeout.',
          },
        );
    }
  }

  private unanswered(method: string, sentAt: number): void {
    if (!WRITES.has(method)) return;
    this.stats.unansweredWriteSentAt = Math.max(this.stats.unansweredWriteSentAt ?? 0, sentAt);
  }

  private count(key: string): void {
    this.stats.byStatus[key] = (this.stats.byStatus[key] ?? 0) + 1;
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

function combine(a?: AbortSignal, b?: AbortSignal): AbortSignal | undefined {
  if (a && b) return AbortSignal.any([a, b]);
  return a ?? b;
}

function networkFailure(url: URL, what: string, err: NetworkError): CoupaConnectorError {
  if (err.code === 'EBADPORT') {
    // fetch refuses these ports before connecting: nothing was sent, and only a new URL helps.
    return new CoupaDomainError(
      `${what} to ${url.host} was not sent: port ${url.port} is on the list of ports fetch never connects to.`,
      'Run the proxy or simulator on another port (e.g. 8443) and change --base-url.',
    );
  }
  if (err.code === 'ENOTFOUND') {
    return new CoupaUnavailableError(`Could not resolve host ${url.hostname} for ${what} (ENOTFOUND).`, {
      cause: err,
      hint: 'Check --coupa-domain (or --base-url) and your DNS / network.',
    });
  }
  return new CoupaUnavailableError(`${what} to ${url.host} failed: ${err.code} (${err.message}).`, {
    cause: err,
    hint: err.sent
      ? 'The request may have reached Coupa; check the result before repeating it.'
      : 'Check the host, your network and any proxy, then try again.',
  });
}

function redirectError(url: URL, what: string, res: HttpResponse): CoupaRedirectError {
  const raw = res.headers.get('location') ?? '';
  let target: URL | undefined;
  try {
    target = new URL(raw, url);
  } catch {
    target = undefined;
  }
  const where = target ? `${target.origin}${target.pathname}` : 'an unreadable location';
  const otherHost = target ? target.origin !== url.origin : true;
  return new CoupaRedirectError(
    `${what} at ${url.host} was redirected (HTTP ${res.status}) to ${where}; redirects are never followed${
      otherHost ? ', so credentials are not sent to another host' : ''
    }.`,
    {
      location: where,
      hint: 'Point --coupa-domain / --base-url at the Coupa instance itself (the host serving /api and /oauth2/token).',
    },
  );
}
