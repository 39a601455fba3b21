import { z, type ZodType } from 'zod';
import { silentLogger, type Logger } from '../log.js';
import { registerSecret } from '../secrets.js';
import { TokenSource } from './auth.js';
import { joinUrl, resolveBaseUrl } from './base-url.js';
import {
  CoupaApiError,
  CoupaAuthError,
  CoupaForbiddenError,
  CoupaResponseValidationError,
} from './errors.js';
import { serializeFields, type FieldSpec } from './fields.js';
import type { HttpResponse } from './http.js';
import { ListGrowthGuard } from './growth-guard.js';
import {
  PageEvidence,
  paginateById,
  PaginationError,
  type PageRequest,
  type Pace,
  type WalkStats,
} from './paginate.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimit } from './rate-limiter.js';
import { coupaErrorMessage, excerpt, parseJson, validate } from './response.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';
import { scopeFor } from './scopes.js';
import { describe, Transport, type ClientStats } from './transport.js';

export interface CoupaClientOptions {
  /** Instance or proxy root, e.g. from resolveBaseUrl(); plain http only to loopback. */
  baseUrl: URL | string;
  clientId: string;
  clientSecret: string;
  /** OAuth scopes to request: READ_SCOPES, plus WRITE_SCOPES when provisioning. */
  scopes: string[];
  /**
   * Scopes asked for too but given up if Coupa refuses them (invalid_scope), e.g.
   * ACCOUNTING_READ_SCOPE, which only account groups need.
   */
  optionalScopes?: string[];
  /** Client-side token bucket; default { perSecond: 25, burst: 20 } (Coupa's limit). false = none. */
  rateLimit?: RateLimit | false;
  /** Per attempt, body included. Default 30 000 ms. */
  timeoutMs?: number;
  /** Cap on each response body, decoded (see bounded-body.ts). Default 16 MiB. */
  maxResponseBytes?: number;
  retry?: RetryOptions;
  /** Renew the token this long before it expires. Default 300 s. */
  tokenRenewBeforeSeconds?: number;
  /** Default silentLogger. Requests are logged at debug level, never with headers or bodies. */
  logger?: Logger;
  /** Aborts everything in flight and every wait; its reason is what the pending calls reject with. */
  signal?: AbortSignal;
  userAgent?: string;
}

export interface PaginateCallOptions<T> {
  itemSchema: ZodType<T>;
  fields?: FieldSpec;
  query?: Record<string, string>;
  onEstimate?: (approxTotal: number) => void;
  /** Filled with the walk's figures (requests by kind, most in flight), for benchmarks. */
  stats?: WalkStats;
  /** Look above the top at the end for records created meanwhile (default true; see paginate.ts). */
  watchCreations?: boolean;
  /** Ask for the bottom page with the top one: for lists rarely shorter than a page (see paginate.ts). */
  bothEnds?: boolean;
  /** Called once the walk has asked for all it expects to need (see paginate.ts). */
  onAllAsked?: () => void;
  /** Stops the walk and its requests (besides the client's own signal). */
  signal?: AbortSignal;
}

interface CallOptions {
  query?: Record<string, string>;
  fields?: FieldSpec;
  body?: unknown;
  signal?: AbortSignal;
}

const DEFAULT_USER_AGENT = 'coupa-connector';
/** Token renewals one call may make on 401s before it gives up (see call()). */
const MAX_RENEWALS_PER_CALL = 4;

/**
 * The Coupa Core API over JSON: OAuth2 client credentials, rate limiting, retries, response
 * validation and keyset pagination. One instance per run; every request shares its token, its
 * rate limiter and its retry budget.
 */
export class CoupaClient {
  private readonly baseUrl: URL;
  private readonly transport: Transport;
  private readonly auth: TokenSource;
  private readonly userAgent: string;
  private readonly limiter: RateLimiter | undefined;
  /** What every walk of this client has learnt about the server's page size (see paginate.ts). */
  private readonly evidence = new PageEvidence();

  constructor(opts: CoupaClientOptions) {
    registerSecret(opts.clientSecret);
    // Re-checked here so that no caller can hand credentials to plain http off the machine.
    this.baseUrl = resolveBaseUrl({ baseUrl: String(opts.baseUrl) });
    const logger = opts.logger ?? silentLogger;
    const rateLimit = opts.rateLimit === undefined ? DEFAULT_RATE_LIMIT : opts.rateLimit;
    this.userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.limiter = rateLimit === false ? undefined : new RateLimiter(rateLimit);
    this.transport = new Transport({
      limiter: this.limiter,
      retry: { ...DEFAULT_RETRY, ...definedOnly(opts.retry ?? {}) },
      timeoutMs: opts.timeoutMs ?? 30_000,
      maxResponseBytes: opts.maxResponseBytes,
      logger,
      signal: opts.signal,
    });
    this.auth = new TokenSource({
      baseUrl: this.baseUrl,
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      scopes: opts.scopes,
      optionalScopes: opts.optionalScopes,
      renewBeforeSeconds: opts.tokenRenewBeforeSeconds ?? 300,
      transport: this.transport,
      userAgent: this.userAgent,
      logger,
    });
  }

  /** Scopes Coupa granted (the token response's `scope`); undefined before the first token or if Coupa did not say. */
  get grantedScopes(): ReadonlySet<string> | undefined {
    return this.auth.grantedScopes;
  }

  /** Gets the access token now (every request needs it first anyway); grantedScopes is known after. */
  async authenticate(): Promise<void> {
    await this.auth.get();
  }

  stats(): ClientStats {
    const s = this.transport.stats;
    return { ...s, byStatus: { ...s.byStatus } };
  }

  async get<T>(
    path: string,
    opts: { query?: Record<string, string>; fields?: FieldSpec; schema: ZodType<T> },
  ): Promise<T> {
    const { res, what } = await this.call('GET', path, opts);
    return validate(opts.schema, parseJson(res, what), what);
  }

  async put<T>(path: string, body: unknown, opts: { fields?: FieldSpec; schema: ZodType<T> }): Promise<T> {
    const { res, what } = await this.call('PUT', path, { ...opts, body });
    return validate(opts.schema, parseJson(res, what), what);
  }

  async post<T>(path: string, body: unknown, opts: { fields?: FieldSpec; schema: ZodType<T> }): Promise<T> {
    const { res, what } = await this.call('POST', path, { ...opts, body });
    return validate(opts.schema, parseJson(res, what), what);
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', path, {});
  }

  /**
   * Every item of an index endpoint, page by page, validated and deduplicated by id, as fast as the
   * rate limit allows (see paginate.ts). Pages come in no particular order. Breaking out of the
   * loop stops the requests still in flight.
   */
  async *paginate<T extends { id: number }>(path: string, opts: PaginateCallOptions<T>): AsyncGenerator<T[]> {
    const itemsSchema = z.array(z.unknown());
    const fetchPage = async (req: PageRequest): Promise<T[]> => {
      const { res, what } = await this.call('GET', path, {
        query: { ...opts.query, ...req.query },
        fields: opts.fields,
        signal: req.signal,
      });
      const endpoint = `${what} (${req.label})`;
      const raw = validate(itemsSchema, parseJson(res, endpoint), endpoint);
      return raw.map((item, index) =>
        validate(opts.itemSchema, item, endpoint, { index, id: (item as { id?: unknown } | null)?.id }),
      );
    };
    const growth = new ListGrowthGuard(`GET ${path}`);
    try {
      const limiter = this.limiter;
      const pace: Pace | undefined = limiter && {
        wait: () => limiter.wait(),
        slots: () => limiter.slots(),
        perSecond: limiter.perSecond,
        retries: () => this.transport.stats.retries,
      };
      const pages = paginateById(fetchPage, {
        pace,
        evidence: this.evidence,
        onEstimate: (n) => {
          growth.noteEstimate(n);
          opts.onEstimate?.(n);
        },
        stats: opts.stats,
        watchCreations: opts.watchCreations,
        bothEnds: opts.bothEnds,
        onAllAsked: opts.onAllAsked,
        signal: opts.signal,
      });
      for await (const page of pages) {
        growth.add(page.length);
        yield page;
      }
    } catch (err) {
      if (err instanceof PaginationError) {
        throw new CoupaResponseValidationError(`GET ${path} (${err.label}): ${err.problem}.`, {
          endpoint: `GET ${path}`,
          field: err.field,
        });
      }
      throw err;
    }
  }

  private scopeHint(scope: string): string {
    const where =
      'add it to the OAuth client in Coupa (Setup > Integrations > OAuth2/OpenID Connect Clients)';
    const granted = this.auth.grantedScopes;
    if (granted && !granted.has(scope))
      return `Coupa did not grant the ${scope} scope to this client; ${where}.`;
    return `The OAuth client probably lacks the ${scope} scope; ${where}.`;
  }

  private url(path: string, query?: Record<string, string>, fields?: FieldSpec): URL {
    const url = joinUrl(this.baseUrl, path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    if (fields) url.searchParams.set('fields', serializeFields(fields));
    return url;
  }

  /**
   * One API call with a bearer token. A 401 means the token was revoked or expired early: fetch a
   * new one and try again. It is final once Coupa has refused two fresh tokens in a row without
   * accepting either (the credentials or permissions are wrong), or after MAX_RENEWALS_PER_CALL
   * renewals for this one call (Coupa accepts the token elsewhere but not here).
   */
  private async call(
    method: string,
    path: string,
    opts: CallOptions,
  ): Promise<{ res: HttpResponse; what: string }> {
    const url = this.url(path, opts.query, opts.fields);
    const what = describe(method, url);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    for (let renewals = 0; ; renewals++) {
      const token = await this.auth.get();
      const headers: Record<string, string> = {
        accept: 'application/json',
        authorization: `Bearer ${token}`,
        'user-agent': this.userAgent,
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await this.transport.exchange({
        method,
        url,
        headers,
        body,
        idempotent: method !== 'POST',
        signal: opts.signal,
      });
      if (res.status >= 200 && res.status < 300) {
        this.auth.accepted(token);
        return { res, what };
      }
      const scope = scopeFor(method, path);
      if (res.status === 401) {
        this.auth.invalidate(token);
        if (this.auth.refusedInARow < 2 && renewals < MAX_RENEWALS_PER_CALL) continue;
        const refused =
          renewals >= MAX_RENEWALS_PER_CALL
            ? `${renewals + 1} access tokens in a row`
            : 'a freshly issued access token';
        throw new CoupaAuthError(`Coupa refused ${refused} for ${what} (401).`, {
          status: 401,
          method,
          path: url.pathname,
          scope,
          hint: scope
            ? this.scopeHint(scope)
            : 'Check that the OAuth client is active and has the scopes this command needs.',
        });
      }
      if (res.status === 403) {
        throw new CoupaForbiddenError(`Coupa refused ${what} (403 Forbidden).`, {
          method,
          path: url.pathname,
          scope,
          hint: scope ? this.scopeHint(scope) : 'The OAuth client lacks a permission this call needs.',
        });
      }
      throw new CoupaApiError({
        status: res.status,
        method,
        path: url.pathname,
        coupaMessage: coupaErrorMessage(res.text),
        excerpt: res.text ? excerpt(res.text) : undefined,
      });
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
