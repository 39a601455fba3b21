import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clientFromOptions } from '../../src/cli/connection.js';
import { CoupaDomainError } from '../../src/coupa/errors.js';
import { resolveBaseUrl } from '../../src/coupa/index.js';
import { silentLogger } from '../../src/log.js';
import { cli } from '../helpers/cli.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 6 item 5: credentials go only to https://<tenant>.coupahost.com or .coupacloud.com unless
 * --base-url is given; plain http only to loopback; a redirect is never followed with credentials.
 */

const SECRET = 'domain-test-secret-0123456789abcdef';
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('which hosts credentials may go to', () => {
  it('--coupa-domain yields https://<tenant>.coupahost.com / .coupacloud.com and nothing else', () => {
    expect(resolveBaseUrl({ domain: 'acme' }).toString()).toBe('https://acme.coupahost.com/');
    expect(resolveBaseUrl({ domain: 'ACME.CoupaCloud.com' }).toString()).toBe('https://acme.coupacloud.com/');
    expect(resolveBaseUrl({ domain: 'https://acme.coupahost.com/' }).toString()).toBe(
      'https://acme.coupahost.com/',
    );
    const refused = [
      'evil.com',
      'acme.coupahost.com.evil.com',
      'acme.evil-coupahost.com',
      'coupahost.com',
      'acme.cso.coupahost.com',
      'http://acme.coupahost.com',
      'acme.coupahost.com:8443',
      'user@acme.coupahost.com',
      'https://acme.coupahost.com/some/path',
      'acme.coupahost.com?x=1',
      'acme.coupahost.com#frag',
      'acme coupahost.com',
      '',
    ];
    for (const domain of refused) {
      expect(() => resolveBaseUrl({ domain }), domain).toThrow(CoupaDomainError);
    }
  });

  it('--base-url: https anywhere, plain http only to loopback', () => {
    for (const ok of [
      'https://proxy.example.com',
      'https://proxy.example.com/coupa/',
      'http://127.0.0.1:8080',
      'http://127.9.9.9',
      'http://localhost:3000',
      'http://[::1]:8443',
    ]) {
      expect(() => resolveBaseUrl({ baseUrl: ok }), ok).not.toThrow();
    }
    for (const bad of [
      'http://10.0.0.5',
      'http://192.168.1.1:8080',
      'http://acme.coupahost.com',
      'http://127.0.0.1.nip.io', // resolves to loopback, but that is a DNS answer we must not trust
      'http://localhost.evil.com',
      'http://[::2]',
      'http://0.0.0.0',
      'ftp://127.0.0.1',
      'https://user:pass@proxy.example.com',
      'https://proxy.example.com/?token=x',
    ]) {
      expect(() => resolveBaseUrl({ baseUrl: bad }), bad).toThrow(CoupaDomainError);
    }
  });

  it('property: any --coupa-domain input gives a Coupa https origin or a CoupaDomainError, nothing else', () => {
    const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
    const input = fc.oneof(
      fc.string(),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.domain(),
      label,
      fc
        .tuple(
          label,
          fc.constantFrom('.coupahost.com', '.coupacloud.com', '.coupahost.com.', '.coupahost.co'),
        )
        .map(([a, b]) => a + b),
      fc
        .tuple(
          fc.constantFrom('', 'https://', 'http://', 'HTTPS://', '//'),
          label,
          fc.constantFrom('.coupahost.com', '.CoupaCloud.com', '.coupahost.com.evil.com', '.evil.com'),
          fc.constantFrom('', '/', ':443', '/api', '?a=1', '#x', '@evil.com'),
        )
        .map((parts) => parts.join('')),
    );
    let accepted = 0;
    fc.assert(
      fc.property(input, (domain) => {
        let url: URL;
        try {
          url = resolveBaseUrl({ domain });
        } catch (err) {
          if (err instanceof CoupaDomainError) return;
          throw err;
        }
        accepted++;
        expect(url.protocol).toBe('https:');
        expect(url.port).toBe('');
        expect(url.username + url.password + url.search + url.hash).toBe('');
        expect(url.hostname).toMatch(/^[a-z0-9-]+\.(coupahost|coupacloud)\.com$/);
      }),
      { seed: 20261128, numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(50);
  });

  it('property: any --base-url gives https, or http to a literal loopback host, or a CoupaDomainError', () => {
    const host = fc.oneof(
      fc.domain(),
      fc.ipV4(),
      fc.ipV6().map((h) => `[${h}]`),
      fc.constantFrom(
        'localhost',
        '127.0.0.1',
        '127.1.2.3',
        '[::1]',
        '0.0.0.0',
        'localhost.evil.com',
        '127.0.0.1.nip.io',
      ),
    );
    const input = fc.oneof(
      fc.string(),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc
        .tuple(
          fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', ''),
          fc.constantFrom('', 'user:pw@'),
          host,
          fc.constantFrom('', ':8080', ':0'),
          fc.constantFrom('', '/', '/coupa/', '?x=1'),
        )
        .map((parts) => parts.join('')),
    );
    const outcomes = { https: 0, loopback: 0, refused: 0 };
    fc.assert(
      fc.property(input, (baseUrl) => {
        let url: URL;
        try {
          url = resolveBaseUrl({ baseUrl });
        } catch (err) {
          if (err instanceof CoupaDomainError) {
            outcomes.refused++;
            return;
          }
          throw err;
        }
        expect(url.username + url.password + url.search + url.hash).toBe('');
        if (url.protocol === 'https:') {
          outcomes.https++;
          return;
        }
        expect(url.protocol).toBe('http:');
        expect(url.hostname).toMatch(/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/);
        outcomes.loopback++;
      }),
      { seed: 20261128, numRuns: 1000 },
    );
    expect(outcomes.https).toBeGreaterThan(0);
    expect(outcomes.loopback).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('the connection options refuse a bad host before any request, with a usage exit code', () => {
    for (const opts of [
      { coupaDomain: 'evil.com' },
      { baseUrl: 'http://10.0.0.5' },
      { coupaDomain: 'http://acme.coupahost.com' },
    ]) {
      let err: unknown;
      try {
        clientFromOptions(
          { ...opts, coupaClientId: 'id', coupaClientSecret: SECRET },
          { logger: silentLogger },
        );
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(opts)).toBeInstanceOf(CoupaDomainError);
      expect((err as CoupaDomainError).exitCode).toBe(2);
      expect((err as Error).message).not.toContain(SECRET);
    }
  });

  it('through the CLI: a foreign domain and plain http to another machine exit 2 with a message', async () => {
    for (const args of [
      ['--coupa-domain', 'acme.coupahost.com.evil.com'],
      ['--base-url', 'http://192.0.2.10:8080'],
    ]) {
      const run = await cli([
        ...args,
        '--coupa-client-id',
        'id',
        '--coupa-client-secret',
        SECRET,
        '-f',
        join(tmp.dir, 'never.c1z'),
      ]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/coupahost\.com|https|loopback/i);
      expect(run.stderr).not.toContain(SECRET);
    }
  });
});

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A server that records everything it is sent and answers with `handler`. */
async function recorder(
  handler: (req: Recorded, res: http.ServerResponse) => void,
): Promise<{ url: string; seen: Recorded[]; close(): Promise<void> }> {
  const seen: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('redirects are never followed with credentials', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  /** The attacker's host: `localhost` instead of 127.0.0.1, another port. */
  async function elsewhere() {
    const other = await recorder((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token":"stolen","token_type":"bearer","expires_in":3600}');
    });
    closers.push(other.close);
    return { ...other, url: other.url.replace('127.0.0.1', 'localhost') };
  }

  function expectNothingReached(other: { seen: Recorded[] }): void {
    for (const r of other.seen) {
      expect(r.headers.authorization, `${r.method} ${r.url}`).toBeUndefined();
      expect(r.body + r.url).not.toContain(SECRET);
    }
    // Not even a credential-less request: we do not follow redirects at all.
    expect(other.seen).toEqual([]);
  }

  for (const status of [302, 307, 308]) {
    it(`a ${status} from the token endpoint: not followed, exit non-zero, the other host sees nothing`, async () => {
      const other = await elsewhere();
      const front = await recorder((req, res) => {
        res.writeHead(status, { location: `${other.url}${req.url}` });
        res.end();
      });
      closers.push(front.close);
      const run = await cli([
        '--base-url',
        front.url,
        '--coupa-client-id',
        'id',
        '--coupa-client-secret',
        SECRET,
        '-f',
        join(tmp.dir, `redirect-token-${status}.c1z`),
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/redirect/i);
      expect(run.stderr).toContain('localhost');
      expect(run.stderr).not.toContain(SECRET);
      expect(front.seen.length).toBeGreaterThan(0);
      expectNothingReached(other);
    });
  }

  it('a 302 on an API call after a good token: not followed, the bearer token stays home', async () => {
    const sim = await testSimulator({ tenant: { users: 20 }, clientSecret: SECRET });
    closers.push(() => sim.close());
    const other = await elsewhere();
    // The real simulator behind a front that redirects /api/roles elsewhere.
    const front = await recorder((req, res) => {
      if (req.url.startsWith('/api/roles')) {
        res.writeHead(302, { location: `${other.url}${req.url}` });
        res.end();
        return;
      }
      const up = http.request(
        `${sim.url}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: new URL(sim.url).host } },
        (u) => {
          res.writeHead(u.statusCode ?? 502, u.headers);
          u.pipe(res);
        },
      );
      up.end(req.body);
    });
    closers.push(front.close);
    const run = await cli([
      '--base-url',
      front.url,
      '--coupa-client-id',
      sim.clientId,
      '--coupa-client-secret',
      SECRET,
      '--rate-limit',
      '0',
      '-f',
      join(tmp.dir, 'redirect-api.c1z'),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/redirect/i);
    expect(run.stderr).toMatch(/\/api\/roles/);
    // The front did see the bearer token (it is the configured base URL); the other host did not.
    expect(front.seen.some((r) => r.url.startsWith('/api/roles') && r.headers.authorization)).toBe(true);
    expectNothingReached(other);
  });
});
