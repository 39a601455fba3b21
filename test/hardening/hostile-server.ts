import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * A Coupa look-alike on 127.0.0.1 that attacks the client: one mode per fault of issue 14. Apart
 * from its fault, it answers like a tiny, well-behaved tenant (a token for any credentials, keyset
 * pages honouring order_by/dir/id[gt]/id[lt]/id[lt_or_eq]/offset/limit), so each test sees exactly
 * one failure and nothing else.
 */
export type HostileMode =
  /** A 200 JSON body on /api/users that never ends. */
  | 'endless-body'
  /** /api/users: a small gzip body that inflates to `bombBytes` (Content-Encoding: gzip). */
  | 'gzip-bomb'
  /** /api/users: a 200 MB body with its Content-Length. */
  | 'huge-declared'
  /** /api/users: 64 MiB of valid JSON, chunked (no Content-Length). */
  | 'huge-chunked'
  /** /api/users: 50 fresh users on every page, for ever (a list that keeps growing). */
  | 'endless-list'
  /** A role id of 2^53 + 1 (JSON rounds it to 2^53). */
  | 'big-id'
  /** Names, logins and descriptions full of terminal escapes, bidi overrides and controls. */
  | 'hostile-names'
  /** One user whose display name is 2 MB. */
  | 'wide-name'
  /** The token endpoint answers 400 quoting the request body (the secret, form-encoded) and escapes. */
  | 'echo-secret'
  /** expires_in: -5 on every token. */
  | 'negative-expiry'
  /** A clean tiny tenant. */
  | 'clean';

export interface HostileServer {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Requests by path (token included). */
  requests: Map<string, number>;
  /** The most times one URL (path and query) was asked for: above 1, something was retried. */
  mostAsksOfOneUrl(): number;
  total(): number;
  tokenRequests(): number;
  close(): Promise<void>;
}

export const ESCAPES = {
  /** Clears the screen and homes the cursor. */
  clear: '\x1b[2J\x1b[H',
  /** Sets the terminal title (OSC 0) and rings the bell. */
  osc: '\x1b]0;pwned\x07',
  /** Right-to-left override: "admin" reads backwards. */
  rlo: '\u202e',
  cr: '\r',
  bs: '\b',
  nul: '\x00',
  c1: '\x9b31m',
};

/** A display name that tries every trick at once. */
export const HOSTILE_NAME = `Mallory${ESCAPES.clear}${ESCAPES.osc}${ESCAPES.rlo}nimda${ESCAPES.cr}Alice${ESCAPES.bs}${ESCAPES.nul}${ESCAPES.c1}`;

const BIG_ID = '9007199254740993';

function user(id: number, extra: Record<string, unknown> = {}): { id: number } & Record<string, unknown> {
  return {
    id,
    login: `user${id}`,
    email: `user${id}@example.com`,
    firstname: 'U',
    lastname: String(id),
    active: true,
    roles: [{ id: 1, name: 'User' }],
    'user-groups': [],
    'content-groups': [],
    'account-groups': [],
    ...extra,
  };
}

/** A keyset page over `items` (sorted by id) as the paginator asks for it. */
function page<T extends { id: number }>(items: readonly T[], q: URLSearchParams): T[] {
  const desc = q.get('dir') === 'desc';
  const gt = q.get('id[gt]');
  const lt = q.get('id[lt]');
  const le = q.get('id[lt_or_eq]');
  let out = items.filter(
    (i) =>
      (gt === null || i.id > Number(gt)) &&
      (lt === null || i.id < Number(lt)) &&
      (le === null || i.id <= Number(le)),
  );
  out = desc ? [...out].sort((a, b) => b.id - a.id) : [...out].sort((a, b) => a.id - b.id);
  const offset = Number(q.get('offset') ?? 0);
  const limit = Number(q.get('limit') ?? 50);
  return out.slice(offset, offset + limit);
}

let bombCache: { bytes: number; body: Buffer } | undefined;

/** gzip of `[` + zeros-ish JSON padding: tiny on the wire, `bytes` once inflated. */
function gzipBomb(bytes: number): Buffer {
  if (bombCache?.bytes === bytes) return bombCache.body;
  const body = gzipSync(Buffer.alloc(bytes, 0x20), { level: 1 });
  bombCache = { bytes, body };
  return body;
}

export async function startHostile(
  mode: HostileMode,
  opts: { bombBytes?: number; users?: number } = {},
): Promise<HostileServer> {
  const clientId = 'hostile-client';
  const clientSecret = "s3cr~t!'( )x";
  const requests = new Map<string, number>();
  const byUrl = new Map<string, number>();
  let tokens = 0;
  let endlessTop = 10_000;
  const users = Array.from({ length: opts.users ?? 3 }, (_, i) =>
    user(1000 + i, mode === 'hostile-names' && i === 0 ? hostileUser() : {}),
  );
  if (mode === 'wide-name') users[0] = user(1000, { fullname: `${'W'.repeat(2 * 1024 * 1024)} X` });
  const roles = [
    {
      id: 1,
      name: mode === 'hostile-names' ? HOSTILE_NAME : 'User',
      description: mode === 'hostile-names' ? HOSTILE_NAME : 'd',
    },
  ];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    const asked = req.url ?? '/';
    byUrl.set(asked, (byUrl.get(asked) ?? 0) + 1);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('latin1')));
    req.on('end', () => {
      if (url.pathname === '/oauth2/token') return token(body, res);
      const json = (value: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const q = url.searchParams;
      switch (url.pathname) {
        case '/api/users':
          return usersRoute(q, res, json);
        case '/api/roles':
          if (mode === 'big-id') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(`[{"id":${BIG_ID},"name":"Approver"}]`);
          }
          return json(page(roles, q));
        case '/api/user_groups':
        case '/api/business_groups':
        case '/api/account_groups':
          return json([]);
        default:
          res.writeHead(404, { 'content-type': 'application/json' });
          return res.end('{"errors":["not found"]}');
      }
    });
  });

  function hostileUser(): Record<string, unknown> {
    return {
      fullname: HOSTILE_NAME,
      firstname: HOSTILE_NAME,
      lastname: ESCAPES.rlo + 'x',
      login: `evil${ESCAPES.clear}`,
      email: `e${ESCAPES.osc}@x`,
    };
  }

  function token(body: string, res: http.ServerResponse): void {
    tokens++;
    if (mode === 'echo-secret') {
      // A proxy in front of Coupa refusing the request and quoting what it was sent: the secret
      // travels form-encoded, and the page carries terminal escapes.
      res.writeHead(418, { 'content-type': 'text/plain' });
      res.end(`proxy refused ${ESCAPES.clear}${ESCAPES.rlo} request body: ${body}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        access_token: `tok-${tokens}-${'a'.repeat(20)}`,
        token_type: 'bearer',
        expires_in: mode === 'negative-expiry' ? -5 : 86_400,
        scope: 'core.user.read core.user_group.read core.common.read core.accounting.read',
      }),
    );
  }

  function usersRoute(q: URLSearchParams, res: http.ServerResponse, json: (v: unknown) => void): void {
    switch (mode) {
      case 'endless-body': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        const chunk = Buffer.from(
          `${JSON.stringify(user(1)).repeat(1).slice(0, -1)},"pad":"${'x'.repeat(64 * 1024)}"},`,
        );
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
        return;
      }
      case 'gzip-bomb': {
        const gz = gzipBomb(opts.bombBytes ?? 1024 * 1024 * 1024);
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': gz.length,
        });
        res.end(gz);
        return;
      }
      case 'huge-declared': {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 200 * 1024 * 1024 });
        // Starts sending; a client that honours the Content-Length check never reads it.
        res.write('[');
        setTimeout(() => res.destroy(), 2000).unref();
        return;
      }
      case 'huge-chunked': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const pad = 'y'.repeat(1024 * 1024);
        let sent = 0;
        const pump = () => {
          while (!res.destroyed && sent < 64) {
            sent++;
            const more = res.write(`${sent === 1 ? '[' : ','}${JSON.stringify(user(1000 + sent, { pad }))}`);
            if (!more) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end(']');
        };
        pump();
        return;
      }
      case 'endless-list': {
        // Records are created faster than they are read: every top page finds 50 new ones, and
        // every page above a cursor is full.
        const gt = q.get('id[gt]');
        const lt = q.get('id[lt]') ?? q.get('id[lt_or_eq]');
        if (q.get('dir') === 'desc' && lt === null) endlessTop += 50;
        const lo = gt === null ? 0 : Number(gt);
        const hi = lt === null ? endlessTop + 1 : Number(lt);
        const ids: number[] = [];
        if (q.get('dir') === 'desc') {
          const skip = Number(q.get('offset') ?? 0);
          for (let id = hi - 1 - skip; id > lo && ids.length < 50; id--) ids.push(id);
        } else {
          for (let id = lo + 1; ids.length < 50 && (lt === null || id < hi); id++) ids.push(id);
        }
        return json(ids.map((id) => user(id)));
      }
      default:
        return json(page(users, q));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    clientId,
    clientSecret,
    requests,
    mostAsksOfOneUrl: () =>
      Math.max(0, ...[...byUrl.entries()].filter(([u]) => !u.startsWith('/oauth2/')).map(([, n]) => n)),
    total: () => [...requests.values()].reduce((a, b) => a + b, 0),
    tokenRequests: () => tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
