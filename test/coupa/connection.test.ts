import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addConnectionOptions, clientFromOptions, type ConnectionOptions } from '../../src/cli/connection.js';
import { ACCOUNTING_READ_SCOPE, CoupaDomainError, READ_SCOPES, WRITE_SCOPES } from '../../src/coupa/index.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import {
  caught,
  CLIENT_ID,
  CLIENT_SECRET,
  json,
  startFake,
  unexpected,
  type FakeServer,
} from './helpers/fake-coupa.js';

const ENV = [
  'BATON_COUPA_DOMAIN',
  'BATON_COUPA_CLIENT_ID',
  'BATON_COUPA_CLIENT_SECRET',
  'BATON_BASE_URL',
  'BATON_RATE_LIMIT',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let fake: FakeServer | undefined;
afterEach(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await fake?.close();
  fake = undefined;
});

function parse(args: string[]): ConnectionOptions {
  const cmd = addConnectionOptions(new Command('sync').exitOverride());
  cmd.parse(args, { from: 'user' });
  return cmd.opts<ConnectionOptions>();
}

const ctx = { logger: silentLogger };

describe('connection flags', () => {
  it("defaults match Coupa's limit and a 30 s timeout", () => {
    expect(parse([])).toMatchObject({ rateLimit: 25, burst: 20, requestTimeout: 30_000 });
    expect(
      parse(['--rate-limit', '10', '--burst', '5', '--request-timeout', '1.5s', '--max-retries', '2']),
    ).toMatchObject({
      rateLimit: 10,
      burst: 5,
      requestTimeout: 1500,
      maxRetries: 2,
    });
  });

  it.each([
    [['--rate-limit', '-1'], /--rate-limit must be 0 or between 0.1 and 10000/],
    // One request per 1000 s would hang silently.
    [['--rate-limit', '0.001'], /--rate-limit must be 0 or between 0.1 and 10000/],
    [['--burst', '0'], /--burst must be a whole number from 1 to 10000/],
    [['--request-timeout', 'soon'], /--request-timeout must be a duration/],
    [['--request-timeout', '0'], /--request-timeout must be between 100ms and 30m/],
    [['--max-retries', '1.5'], /--max-retries must be a whole number from 0 to 50/],
    [['--max-retries', '1e9'], /--max-retries must be a whole number from 0 to 50/],
    [['--max-response-mb', '0'], /--max-response-mb must be a whole number from 1 to 4096/],
  ])('rejects %j', (args, message) => {
    expect(() => parse(args)).toThrow(ConfigError);
    expect(() => parse(args)).toThrow(message);
  });

  it('reads BATON_* variables', () => {
    process.env.BATON_COUPA_DOMAIN = 'acme';
    process.env.BATON_COUPA_CLIENT_ID = 'id-from-env';
    process.env.BATON_COUPA_CLIENT_SECRET = 'secret-from-env-123';
    process.env.BATON_RATE_LIMIT = '5';
    expect(parse([])).toMatchObject({
      coupaDomain: 'acme',
      coupaClientId: 'id-from-env',
      coupaClientSecret: 'secret-from-env-123',
      rateLimit: 5,
    });
  });

  it('--help names the variables but never shows the secret', () => {
    process.env.BATON_COUPA_CLIENT_SECRET = 'secret-in-env-should-not-show';
    const cmd = addConnectionOptions(new Command('sync'));
    const help = cmd.helpInformation();
    expect(help).toContain('BATON_COUPA_CLIENT_SECRET');
    expect(help).toContain('--base-url');
    expect(help).not.toContain('secret-in-env-should-not-show');
  });
});

describe('clientFromOptions', () => {
  it.each([
    [{}, /Missing --coupa-domain/, /BATON_COUPA_DOMAIN/],
    [{ coupaDomain: 'acme' }, /Missing --coupa-client-id/, /BATON_COUPA_CLIENT_ID/],
    [
      { coupaDomain: 'acme', coupaClientId: 'x' },
      /Missing --coupa-client-secret/,
      /BATON_COUPA_CLIENT_SECRET/,
    ],
    [
      { coupaDomain: 'acme', coupaClientId: 'x', coupaClientSecret: '  ' },
      /Missing --coupa-client-secret/,
      /BATON_COUPA_CLIENT_SECRET/,
    ],
  ])('missing settings: ConfigError naming flag and variable (%j)', (opts, message, env) => {
    const err = (() => {
      try {
        clientFromOptions(opts, ctx);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(env);
  });

  it('a --coupa-domain and a --base-url from a --config file that disagree: the message says the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'connection-test-'));
    try {
      const config = join(dir, 'coupa.json');
      writeFileSync(config, JSON.stringify({ 'base-url': 'https://proxy.example.com' }), { mode: 0o600 });
      // A fresh object per call: the file's values are filled into it.
      const opts = () => ({ coupaDomain: 'acme', coupaClientId: 'x', coupaClientSecret: 'y-secret', config });
      expect(() => clientFromOptions(opts(), ctx)).toThrow(CoupaDomainError);
      expect(() => clientFromOptions(opts(), ctx)).toThrow(
        `--coupa-domain "acme" (from the command line) and --base-url https://proxy.example.com/ (from the --config file ${config})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown domain form and plain http off-machine are refused before any request', () => {
    const creds = { coupaClientId: 'x', coupaClientSecret: 'y-secret' };
    expect(() => clientFromOptions({ coupaDomain: 'acme.example.com', ...creds }, ctx)).toThrow(
      CoupaDomainError,
    );
    expect(() => clientFromOptions({ baseUrl: 'http://10.1.2.3:8080', ...creds }, ctx)).toThrow(
      CoupaDomainError,
    );
  });

  it.each([
    [{}, READ_SCOPES],
    [{ accounting: true }, [...READ_SCOPES, ACCOUNTING_READ_SCOPE]],
    [{ provisioning: true }, [...READ_SCOPES, ...WRITE_SCOPES]],
    [{ provisioning: true, accounting: true }, [...READ_SCOPES, ...WRITE_SCOPES, ACCOUNTING_READ_SCOPE]],
  ])('requests the scopes the command needs (%j)', async (flags, scopes) => {
    fake = await startFake({ api: (_r, res) => json(res, 200, {}) });
    const client = clientFromOptions(
      { baseUrl: fake.url, coupaClientId: CLIENT_ID, coupaClientSecret: CLIENT_SECRET, rateLimit: 0 },
      { ...ctx, ...flags },
    );
    await client.get('/api/roles', { schema: z.unknown() });
    const scope = new URLSearchParams(fake.tokenRequests()[0]!.body).get('scope');
    expect(scope?.split(' ')).toEqual(scopes);
    expect(scopes).not.toContain('core.business_entity.read');
  });

  it('the read set is the one the README tells admins to tick, and writes only add user and group writes', () => {
    // Literal lists, so that a change to READ_SCOPES/WRITE_SCOPES cannot pass unnoticed.
    expect(READ_SCOPES).toEqual([
      'core.common.read',
      'core.user_group.read',
      'core.user.read',
      'email',
      'login',
      'openid',
      'profile',
    ]);
    expect(ACCOUNTING_READ_SCOPE).toBe('core.accounting.read');
    expect(WRITE_SCOPES).toEqual(['core.user.write', 'core.user_group.write']);
  });

  it('--request-timeout and --max-retries reach the client', async () => {
    fake = await startFake({ api: () => undefined }); // never answers
    const client = clientFromOptions(
      {
        baseUrl: fake.url,
        coupaClientId: CLIENT_ID,
        coupaClientSecret: CLIENT_SECRET,
        rateLimit: 0,
        requestTimeout: 100,
        maxRetries: 1,
      },
      ctx,
    );
    const started = performance.now();
    const err = await client.get('/api/roles', { schema: z.unknown() }).then(unexpected, caught);
    expect(err.message).toMatch(/after 2 attempts \(last failure: TIMEOUT/);
    expect(performance.now() - started).toBeLessThan(4000); // 2 × 100 ms + backoff, on a loaded machine
  });
});
