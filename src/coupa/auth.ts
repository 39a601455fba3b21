import { z } from 'zod';
import type { Logger } from '../log.js';
import { registerBasicCredentials, registerSecret } from '../secrets.js';
import { CoupaApiError, CoupaAuthError, InvalidScopeError } from './errors.js';
import { joinUrl } from './base-url.js';
import { coupaErrorMessage, excerpt, parseJson, validate } from './response.js';
import { describe, type Transport } from './transport.js';

const TokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().nullish(),
  expires_in: z.union([z.number(), z.string().regex(/^\s*-?\d+(?:\.\d+)?\s*$/)]).nullish(),
  scope: z.string().nullish(),
});

/** Coupa documents 24 h tokens and advises renewing after 20 h; assume that when expires_in is absent. */
const ASSUMED_LIFETIME_S = 20 * 3600;
/**
 * What an `expires_in` of 0 or less is taken as. Taken literally, every call would fetch a new
 * token; ignored, a token that really is short-lived would be used past its end. A minute is short
 * enough to be safe and long enough that one token serves many calls.
 */
export const NONPOSITIVE_LIFETIME_S = 60;

interface Token {
  value: string;
  /** performance.now() time from which we fetch a new one. */
  renewAt: number;
  /** Coupa answered a call made with it: a later 401 means it was revoked, not that it never worked. */
  proven: boolean;
}

const CREDENTIALS_HINT =
  'Check --coupa-client-id and --coupa-client-secret (BATON_COUPA_CLIENT_ID / BATON_COUPA_CLIENT_SECRET), ' +
  'and that the OAuth client in Coupa (Setup > Integrations > OAuth2/OpenID Connect Clients) is active and uses the client-credentials grant.';

/**
 * OAuth2 client credentials against `/oauth2/token`. The id and secret go in the form body, the
 * way Coupa documents it (baton-coupa uses HTTP Basic; Coupa accepts both). This way there is no
 * question of how to escape a secret containing `:` or `%` inside a Basic header.
 *
 * One token is shared by all requests; concurrent callers that find it missing or due for
 * renewal wait on a single token request (single flight).
 */
export class TokenSource {
  private token?: Token;
  private inflight?: Promise<Token>;
  private granted?: ReadonlySet<string>;
  /** Optional scopes still asked for; emptied for good once Coupa refuses them. */
  private optional: string[];
  private readonly tokenUrl: URL;

  constructor(
    private readonly opts: {
      baseUrl: URL;
      clientId: string;
      clientSecret: string;
      scopes: string[];
      /**
       * Asked for too, but given up (with an info line) if Coupa refuses the token with
       * invalid_scope, so that a client set up without them still works for what needs only
       * `scopes`. The caller finds out from the API's 401/403 when it uses what they cover.
       */
      optionalScopes?: string[];
      renewBeforeSeconds: number;
      transport: Transport;
      userAgent: string;
      logger: Logger;
    },
  ) {
    registerBasicCredentials(opts.clientId, opts.clientSecret);
    this.tokenUrl = joinUrl(opts.baseUrl, '/oauth2/token');
    this.optional = [...(opts.optionalScopes ?? [])];
  }

  get grantedScopes(): ReadonlySet<string> | undefined {
    return this.granted;
  }

  /** A valid access token, fetching one if there is none or it is due for renewal. */
  async get(): Promise<string> {
    const t = this.token;
    if (t && performance.now() < t.renewAt) return t.value;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    return (await this.inflight).value;
  }

  /**
   * Fresh tokens Coupa refused one after the other, none of them ever accepted. Two in a row mean
   * the credentials or the client's permissions are at fault, not a revocation: renewing again would
   * only hide that. A token that was accepted and later refused was revoked (or expired early), and
   * does not count, so revocations close together (several fresh tokens revoked while calls are in
   * flight) are survived.
   */
  get refusedInARow(): number {
    return this.unprovenRefusals;
  }

  private unprovenRefusals = 0;

  /** Coupa answered a call made with `value`. */
  accepted(value: string): void {
    const t = this.token;
    if (t?.value !== value || t.proven) return;
    t.proven = true;
    this.unprovenRefusals = 0;
  }

  /**
   * Coupa refused `value` (401): drop it, unless a concurrent caller already replaced it, so a
   * burst of 401s from several lanes costs one token request, not one each.
   */
  invalidate(value: string): void {
    const t = this.token;
    if (t?.value !== value) return;
    if (!t.proven) this.unprovenRefusals++;
    this.token = undefined;
  }

  private async fetchToken(): Promise<Token> {
    try {
      return await this.requestToken([...this.opts.scopes, ...this.optional]);
    } catch (err) {
      if (!(err instanceof InvalidScopeError) || this.optional.length === 0) throw err;
      this.opts.logger.info(
        { refused: this.optional.join(' ') },
        'Coupa refused the token with optional scopes; asking again without them',
      );
      this.optional = [];
      return await this.requestToken(this.opts.scopes);
    }
  }

  private async requestToken(scopes: string[]): Promise<Token> {
    const { transport, logger } = this.opts;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: scopes.join(' '),
    }).toString();
    const what = describe('POST', this.tokenUrl);
    transport.stats.tokenRequests++;
    logger.debug({ request: what, scopes: scopes.join(' ') }, 'requesting access token');
    const res = await transport.exchange({
      method: 'POST',
      url: this.tokenUrl,
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': this.opts.userAgent,
      },
      body,
      // Asking for a token twice is harmless.
      idempotent: true,
    });
    if (res.status !== 200) throw this.tokenError(res.status, res.text, scopes);
    const parsed = validate(TokenResponseSchema, parseJson(res, what), what);
    registerSecret(parsed.access_token);
    const lifetimeS = this.lifetimeOf(parsed.expires_in);
    // Never renew more than half-way through a token's life, whatever the option says.
    const renewBeforeS = Math.min(this.opts.renewBeforeSeconds, lifetimeS / 2);
    const token = {
      value: parsed.access_token,
      renewAt: performance.now() + (lifetimeS - renewBeforeS) * 1000,
      proven: false,
    };
    if (parsed.scope != null) this.granted = new Set(parsed.scope.split(/\s+/).filter(Boolean));
    this.token = token;
    logger.debug({ expiresInS: lifetimeS, scope: parsed.scope ?? undefined }, 'access token received');
    return token;
  }

  private warnedLifetime = false;

  private lifetimeOf(expiresIn: number | string | null | undefined): number {
    if (expiresIn == null) return ASSUMED_LIFETIME_S;
    const s = Number(expiresIn);
    if (Number.isFinite(s) && s > 0) return s;
    if (!this.warnedLifetime) {
      this.warnedLifetime = true;
      this.opts.logger.warn(
        { expiresIn: String(expiresIn), assumedS: NONPOSITIVE_LIFETIME_S },
        `the token endpoint said the access token expires in ${String(expiresIn)} s; treating it as ${NONPOSITIVE_LIFETIME_S} s`,
      );
    }
    return NONPOSITIVE_LIFETIME_S;
  }

  private tokenError(status: number, text: string, scopes: string[]): Error {
    const where = `${this.tokenUrl.origin}${this.tokenUrl.pathname}`;
    let code: string | undefined;
    try {
      const b = JSON.parse(text) as { error?: unknown };
      if (typeof b.error === 'string') code = b.error;
    } catch {
      code = undefined;
    }
    if (code === 'invalid_scope') {
      return new InvalidScopeError(
        `Coupa refused the requested scopes at ${where} (invalid_scope): ${scopes.join(' ')}.`,
        {
          status,
          method: 'POST',
          path: this.tokenUrl.pathname,
          hint: 'Add these scopes to the OAuth client in Coupa (Setup > Integrations > OAuth2/OpenID Connect Clients).',
        },
      );
    }
    if (code !== undefined || status === 400 || status === 401) {
      return new CoupaAuthError(
        `Coupa rejected the client id/secret at ${where} (${code ?? `HTTP ${status}`}).`,
        { status, method: 'POST', path: this.tokenUrl.pathname, hint: CREDENTIALS_HINT },
      );
    }
    return new CoupaApiError({
      status,
      method: 'POST',
      path: this.tokenUrl.pathname,
      coupaMessage: coupaErrorMessage(text),
      excerpt: excerpt(text),
    });
  }
}
