import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiContext, ApiRequest, ApiResult, Payload } from './api.js';
import { Counters } from './counters.js';
import { SimulatorHttpError } from './errors.js';
import { FaultInjector } from './faults.js';
import { Drift } from './drift.js';
import { Latency } from './latency.js';
import { generateTenant } from './generator.js';
import { groundTruth } from './ground-truth.js';
import { LeakyBucket } from './rate-limiter.js';
import { indexRecords, showRecord, type ReadableResource } from './resources/read.js';
import { createUser, updateUser } from './resources/users.js';
import { createMembership, deleteMembership } from './resources/memberships.js';
import { createGroupLike, updateGroupLike, type GroupLikeResource } from './resources/records.js';
import { buildSchemas } from './schema.js';
import { ALL_SCOPES, requiredScope } from './scopes.js';
import { Tenant } from './tenant.js';
import { sameSecret, TokenStore } from './tokens.js';
import type { FaultRule, Simulator, SimulatorOptions } from './types.js';
import { xmlErrors, xmlList, xmlRecord } from './xml.js';

export const DEFAULT_CLIENT_ID = 'coupa-sim-client';
export const DEFAULT_CLIENT_SECRET = 'coupa-sim-secret-do-not-use-in-production';

type Handler = (ctx: ApiContext, req: ApiRequest) => ApiResult;

interface Route {
  method: string;
  /** Counter key, e.g. 'GET /api/users/:id'. */
  key: string;
  resource: string;
  withId: boolean;
  handler: Handler;
}

const URL_RESOURCE: Record<string, ReadableResource> = {
  users: 'users',
  user_groups: 'userGroups',
  roles: 'roles',
  business_groups: 'contentGroups',
  account_groups: 'accountGroups',
  user_group_memberships: 'memberships',
};

function buildRoutes(membershipDelete: boolean): Route[] {
  const routes: Route[] = [];
  const add = (method: string, resource: string, withId: boolean, handler: Handler) =>
    routes.push({
      method,
      resource,
      withId,
      handler,
      key: `${method} /api/${resource}${withId ? '/:id' : ''}`,
    });
  for (const [segment, resource] of Object.entries(URL_RESOURCE)) {
    add('GET', segment, false, (ctx, req) => indexRecords(ctx, resource, req));
    add('GET', segment, true, (ctx, req) => showRecord(ctx, resource, req));
  }
  add('POST', 'users', false, createUser);
  add('PUT', 'users', true, updateUser);
  add('PATCH', 'users', true, updateUser);
  add('DELETE', 'users', true, () => {
    throw new SimulatorHttpError(405, 'user', [
      'Users cannot be deleted; deactivate them with PUT {"active": false}',
    ]);
  });
  const groupLike: Record<string, GroupLikeResource> = {
    roles: 'roles',
    user_groups: 'userGroups',
    business_groups: 'contentGroups',
    account_groups: 'accountGroups',
  };
  for (const [segment, resource] of Object.entries(groupLike)) {
    add('POST', segment, false, (ctx, req) => createGroupLike(ctx, resource, req));
    add('PUT', segment, true, (ctx, req) => updateGroupLike(ctx, resource, req));
    add('PATCH', segment, true, (ctx, req) => updateGroupLike(ctx, resource, req));
  }
  add('POST', 'user_group_memberships', false, createMembership);
  if (membershipDelete) add('DELETE', 'user_group_memberships', true, deleteMembership);
  return routes;
}

function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; id?: string } | undefined {
  const m = /^\/api\/([a-z_]+)(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) return undefined;
  const route = routes.find(
    (r) => r.method === method && r.resource === m[1] && r.withId === (m[2] !== undefined),
  );
  return route ? { route, id: m[2] } : undefined;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', headers);
}

function payloadJson(p: Payload): unknown {
  switch (p.type) {
    case 'record':
    case 'list':
      return p.data;
    case 'errors':
      return { errors: { [p.resource]: p.messages } };
    case 'none':
      return undefined;
  }
}

function payloadXml(p: Payload): string {
  switch (p.type) {
    case 'record':
      return xmlRecord(p.element, p.data);
    case 'list':
      return xmlList(p.element, p.data);
    case 'errors':
      return xmlErrors(p.messages);
    case 'none':
      return '';
  }
}

const MAINTENANCE_HTML =
  '<!DOCTYPE html><html><head><title>Coupa is down for maintenance</title></head>' +
  '<body><h1>We will be back shortly</h1><p>Coupa is undergoing scheduled maintenance.</p></body></html>';

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const tenant = opts.tenant instanceof Tenant ? opts.tenant : generateTenant(opts.tenant ?? {});
  const ctx: ApiContext = {
    tenant,
    schemas: buildSchemas(tenant),
    settings: {
      arrayMode: opts.arrayMode ?? 'merge',
      unrevokableLicenses: opts.unrevokableLicenses ?? [],
      membershipDelete: opts.membershipDelete ?? false,
      groupSideEditsBumpUser: opts.groupSideEditsBumpUser ?? false,
      defaultOrder: opts.defaultOrder ?? 'id',
    },
  };
  const clientId = opts.clientId ?? DEFAULT_CLIENT_ID;
  const clientSecret = opts.clientSecret ?? DEFAULT_CLIENT_SECRET;
  const allowedScopes = opts.allowedScopes ?? [...ALL_SCOPES];
  const scopeMismatch = opts.scopeMismatch ?? 'reject';
  const missingScopeStatus = opts.missingScopeStatus ?? 403;
  const tokens = new TokenStore(opts.tokenTtlSeconds ?? 86_400);
  const counters = new Counters();
  const faults = new FaultInjector(opts.faults ?? []);
  const rl = opts.rateLimit === undefined ? { perSecond: 25, burst: 20 } : opts.rateLimit;
  const limiter = rl ? new LeakyBucket(rl.perSecond, rl.burst) : undefined;
  const retryAfter = opts.retryAfter ?? true;
  const latency = Latency.from(opts.latency ?? opts.latencyMs);
  const drift = opts.drift ? new Drift(tenant, opts.drift) : undefined;
  const routes = buildRoutes(ctx.settings.membershipDelete);

  function tokenEndpoint(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const form = new URLSearchParams(raw);
    let id = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        // RFC 6749 §2.3.1: both parts are form-urlencoded inside the Basic header.
        try {
          id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
          secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        } catch {
          id = secret = undefined;
        }
      }
    }
    if (!id || !secret || !sameSecret(id, clientId) || !sameSecret(secret, clientSecret)) {
      return sendJson(res, 400, {
        error: 'invalid_client',
        error_description: 'Client authentication failed.',
      });
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'Only client_credentials is supported.',
      });
    }
    const requested = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    let granted = requested.length ? requested : allowedScopes;
    const outside = granted.filter((s) => !allowedScopes.includes(s));
    if (outside.length) {
      if (scopeMismatch === 'reject') {
        return sendJson(res, 400, {
          error: 'invalid_scope',
          error_description: `The requested scope is invalid, unknown, or malformed: ${outside.join(' ')}`,
        });
      }
      granted = granted.filter((s) => allowedScopes.includes(s));
    }
    const { token, expiresIn } = tokens.issue(granted);
    sendJson(res, 200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: expiresIn,
      scope: granted.join(' '),
    });
  }

  function admin(method: string, path: string, res: http.ServerResponse): void {
    if (method === 'GET' && path === '/__sim/counters') return sendJson(res, 200, counters.snapshot());
    if (method === 'POST' && path === '/__sim/counters/reset') {
      counters.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'GET' && path === '/__sim/ground-truth') return sendJson(res, 200, groundTruth(tenant));
    if (method === 'POST' && path === '/__sim/revoke-tokens') {
      tokens.revokeAll();
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'POST' && path === '/__sim/expire-tokens') {
      tokens.expireAll();
      return sendJson(res, 200, { ok: true });
    }
    sendJson(res, 404, { error: `No simulator admin route ${method} ${path}` });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    if (path.startsWith('/__sim/')) {
      await readBody(req);
      return admin(method, path, res);
    }
    const isToken = path === '/oauth2/token';
    const matched = isToken ? undefined : matchRoute(routes, method, path);
    const routeKey = isToken
      ? `${method} /oauth2/token`
      : matched
        ? matched.route.key
        : `${method} (unmatched)`;
    let counted = false;
    const count = (status: number | 'reset') => {
      if (!counted) counters.record(routeKey, status);
      counted = true;
    };
    res.on('finish', () => count(res.statusCode));
    res.on('close', () => {
      if (!res.writableFinished) count('reset');
    });

    const raw = await readBody(req);
    // The limiter sits in front of the application: it meters requests as they arrive and refuses
    // at once, and the response time is spent behind it. (Inferred: Coupa documents a leaky bucket,
    // which is what a front proxy such as nginx's limit_req runs.) Metering after the delay would
    // turn the spread of response times into bursts that no client pacing its sends could avoid.
    if (limiter && rl) {
      const wait = limiter.take();
      if (wait > 0) {
        const headers: Record<string, string> = retryAfter
          ? { 'Retry-After': String(Math.max(1, Math.ceil(wait))) }
          : {};
        return sendJson(
          res,
          429,
          { errors: { base: [`Rate limit exceeded: ${rl.perSecond} requests per second`] } },
          headers,
        );
      }
    }

    if (latency) await sleep(latency.base());

    const fault = faults.pick(method, path);
    let forceXml = false;
    let transform: Extract<FaultRule, { kind: 'transform' }>['transform'] | undefined;
    let malformed = false;
    if (fault) {
      switch (fault.kind) {
        case 'status': {
          const headers: Record<string, string> = {};
          if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
          else if (fault.status === 429 && retryAfter) headers['Retry-After'] = '1';
          return sendJson(
            res,
            fault.status,
            { errors: { base: [`Simulated ${fault.status} (fault injection)`] } },
            headers,
          );
        }
        case 'reset':
          req.socket.destroy();
          return;
        case 'delay':
          await sleep(fault.ms);
          break;
        case 'html-200':
          return send(res, 200, MAINTENANCE_HTML, 'text/html; charset=utf-8');
        case 'revoke-token':
          tokens.revokeAll();
          return sendJson(
            res,
            401,
            { error: 'invalid_token', error_description: 'The access token was revoked' },
            {
              'WWW-Authenticate': 'Bearer realm="Coupa", error="invalid_token"',
            },
          );
        case 'xml':
          forceXml = true;
          break;
        case 'malformed-json':
          malformed = true;
          break;
        case 'transform':
          transform = fault.transform;
          break;
      }
    }

    if (isToken) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'invalid_request' });
      return tokenEndpoint(req, raw, res);
    }

    const wantsJson = !forceXml && /application\/json/i.test(req.headers.accept ?? '');
    const respond = (result: ApiResult) => {
      if (!wantsJson) {
        // XML index with no match is 404 in Coupa, unlike JSON's 200 [].
        if (result.payload.type === 'list' && result.payload.data.length === 0 && result.status === 200) {
          return send(
            res,
            404,
            xmlErrors(['No results match your search criteria.']),
            'application/xml; charset=utf-8',
          );
        }
        return send(
          res,
          result.status,
          payloadXml(result.payload),
          'application/xml; charset=utf-8',
          result.headers,
        );
      }
      let body = payloadJson(result.payload);
      if (transform) body = transform(body, { method, path, query: url.searchParams });
      let text = body === undefined ? '' : JSON.stringify(body);
      if (malformed) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
      send(res, result.status, text, 'application/json; charset=utf-8', result.headers);
    };
    const fail = (status: number, resource: string, messages: string[], headers?: Record<string, string>) =>
      respond({ status, payload: { type: 'errors', resource, messages }, headers });

    const apiKey = req.headers['x-coupa-api-key'];
    const auth =
      opts.legacyApiKey && typeof apiKey === 'string' && sameSecret(apiKey, opts.legacyApiKey)
        ? { ok: true as const, scopes: new Set(ALL_SCOPES) }
        : tokens.check(req.headers.authorization);
    if (!auth.ok) {
      const why =
        auth.reason === 'expired'
          ? 'The access token expired'
          : auth.reason === 'missing'
            ? 'No bearer token'
            : 'The access token is invalid';
      return fail(401, 'base', [why], { 'WWW-Authenticate': 'Bearer realm="Coupa", error="invalid_token"' });
    }
    if (!matched) {
      return fail(404, 'base', [`No route matches [${method}] "${path}"`]);
    }
    const needed = requiredScope(method, matched.route.resource);
    if (needed && !auth.scopes.has(needed)) {
      return fail(missingScopeStatus, 'base', [`Insufficient scope: this call needs ${needed}`], {
        'WWW-Authenticate': `Bearer realm="Coupa", error="insufficient_scope", scope="${needed}"`,
      });
    }
    let body: unknown;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, 'base', ['Request body is not valid JSON; the simulator accepts JSON bodies only']);
      }
    }
    let result: ApiResult;
    try {
      result = matched.route.handler(ctx, { method, path, query: url.searchParams, id: matched.id, body });
    } catch (err) {
      if (err instanceof SimulatorHttpError) return fail(err.status, err.resource, err.messages);
      throw err;
    }
    // Bigger answers take longer (records, embedded references), when the model says so.
    if (latency?.grows && result.payload.type !== 'errors' && result.payload.type !== 'none') {
      await sleep(latency.extra(result.payload.data));
    }
    respond(result);
    // Between this page and the next one the client asks for: what other Coupa users change.
    drift?.afterResponse(method, path);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendJson(res, 500, { errors: { base: [`Simulator bug: ${message}`] } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}`,
    clientId,
    clientSecret,
    tenant,
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    groundTruth: () => groundTruth(tenant),
    faults,
    revokeTokens: () => tokens.revokeAll(),
    expireTokens: () => tokens.expireAll(),
    driftLog: () => drift?.log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
