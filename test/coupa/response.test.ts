import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CoupaClient,
  CoupaResponseFormatError,
  CoupaResponseValidationError,
  RoleSchema,
  UserSchema,
} from '../../src/coupa/index.js';
import { validate } from '../../src/coupa/response.js';
import { CoupaConnectorError } from '../../src/errors.js';
import { startFake, type FakeServer, caught, unexpected, fakeClient } from './helpers/fake-coupa.js';

/** What the fake API answers next: raw body and content type, so anything can be sent. */
let reply: { status?: number; type?: string; body: string } = { body: '[]' };
let fake: FakeServer;
let client: CoupaClient;

beforeAll(async () => {
  fake = await startFake({
    api: (_req, res) => {
      res.writeHead(
        reply.status ?? 200,
        reply.type === '' ? {} : { 'content-type': reply.type ?? 'application/json' },
      );
      res.end(reply.body);
    },
  });
  client = fakeClient(fake.url);
});
afterAll(() => fake.close());

async function listUsers(body: unknown) {
  reply = { body: typeof body === 'string' ? body : JSON.stringify(body) };
  const out = [];
  for await (const page of client.paginate('/api/users', { itemSchema: UserSchema })) out.push(...page);
  return out;
}

describe('not JSON', () => {
  it.each([
    [
      'an HTML page with 200',
      'text/html; charset=utf-8',
      '<!DOCTYPE html><html><body>Sign in to Coupa</body></html>',
      /GET \/api\/roles answered 200 with text\/html; charset=utf-8, not JSON \(body starts "<!DOCTYPE html><html><body>Sign in to Coupa/,
    ],
    [
      'XML',
      'application/xml',
      '<?xml version="1.0"?><roles type="array"><role><id>1</id></role></roles>',
      /answered 200 with application\/xml, not JSON/,
    ],
    ['XML labelled as JSON', 'application/json', '<roles/>', /answered 200 with application\/json, not JSON/],
    [
      'malformed JSON',
      'application/json',
      '{"id": 1, "name": "trunc',
      /GET \/api\/roles answered 200 with malformed JSON \(application\/json, 24 bytes\)/,
    ],
    ['an empty body', 'application/json', '', /malformed JSON/],
  ])('%s → CoupaResponseFormatError naming endpoint and content type', async (_what, type, body, message) => {
    reply = { type, body };
    const err = await client.get('/api/roles', { schema: z.array(RoleSchema) }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseFormatError);
    expect(err.message).toMatch(message);
    expect(err.endpoint).toBe('GET /api/roles');
  });

  it('in pagination, the error says which page', async () => {
    const err = await listUsers('<html></html>').then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseFormatError);
    expect(err.message).toMatch(/^GET \/api\/users \(top\) answered 200/);
  });
});

describe('shape', () => {
  const good = { id: 1, login: 'ann', roles: [{ id: 3, name: 'User' }] };

  it('a wrong type names the endpoint, the item and the field path', async () => {
    const err = await listUsers([
      good,
      { ...good, id: 2 },
      { ...good, id: 3 },
      { ...good, id: 153, roles: [{ id: '4' }] },
    ]).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toBe(
      'GET /api/users (top): item 3 (id 153) field `roles.0.id`: expected number, got string.',
    );
    expect(err.field).toBe('roles.0.id');
  });

  it('a missing required field is named', async () => {
    const err = await listUsers([{ id: 9, email: 'a@b' }]).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toMatch(/item 0 \(id 9\) field `login`: expected string, got undefined/);
  });

  it('an index that is not an array is named', async () => {
    const err = await listUsers({ errors: 'nope' }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toMatch(/^GET \/api\/users \(top\): field `\(root\)`: expected array/);
  });

  it('single objects are validated with the field path too', async () => {
    reply = { body: JSON.stringify({ id: 5, name: null }) };
    const err = await client.get('/api/roles/5', { schema: RoleSchema }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toMatch(/^GET \/api\/roles\/5: field `name`: expected string, got null\.$/);
  });

  it('unknown extra keys are tolerated and kept', async () => {
    const [u] = await listUsers([{ ...good, 'brand-new-user': true, 'custom-fields': { a: 1 } }]);
    expect(u).toMatchObject({ id: 1, login: 'ann', 'brand-new-user': true });
  });

  it('nulls where Coupa writes empty scalars and associations are fine', async () => {
    const [u] = await listUsers([
      {
        id: 1,
        login: 'x',
        email: null,
        manager: null,
        roles: null,
        'purchasing-user': null,
        'expense-approval-limit': null,
      },
    ]);
    expect(u?.manager).toBeNull();
  });

  it('approval limits take amounts as strings or numbers', async () => {
    const limit = (amount: unknown) => ({ id: 1, name: 'L', amount, currency: { code: 'USD' } });
    // Highest id first: the walk's first page is the top, read downwards.
    const [b, a] = await listUsers([
      { id: 2, login: 'b', 'requisition-approval-limit': limit(250) },
      { id: 1, login: 'a', 'requisition-approval-limit': limit('1000.00') },
    ]);
    expect(a?.['requisition-approval-limit']?.amount).toBe('1000.00');
    expect(b?.['requisition-approval-limit']?.amount).toBe(250);
  });

  it('very large strings and unicode pass unchanged', async () => {
    const big = 'Ω'.repeat(200_000);
    const name = 'Zoë 山田 🚀 \u202e ñ';
    const [u] = await listUsers([{ id: 1, login: 'zoë', fullname: name, 'sso-identifier': big }]);
    expect(u?.fullname).toBe(name);
    expect(u?.['sso-identifier']).toBe(big);
  });

  it('a server that ignores the cursor is an error, not an endless loop', async () => {
    // The fake ignores the cursor and serves the same full page: keyset sees it did not advance.
    const page = Array.from({ length: 50 }, (_, i) => ({ id: 50 - i, login: `u${i}` }));
    const err = await listUsers(page).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toMatch(
      /did not advance past id 50; the server ignores the id\[gt\]\/id\[lt\] filters/,
    );
  });
});

describe('property: validation never crashes', () => {
  it('any JSON value either validates as a User or gives a CoupaResponseValidationError', () => {
    const userish = fc.record(
      {
        id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
        login: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        roles: fc.oneof(
          fc.array(fc.record({ id: fc.oneof(fc.integer(), fc.string()), name: fc.string() })),
          fc.jsonValue(),
        ),
        manager: fc.oneof(
          fc.constant(null),
          fc.record({ id: fc.integer(), login: fc.string() }),
          fc.jsonValue(),
        ),
        'purchasing-user': fc.oneof(fc.boolean(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), userish), (value) => {
        try {
          const user = validate(UserSchema, value, 'GET /api/users', { index: 0 });
          expect(Number.isInteger(user.id)).toBe(true);
          expect(typeof user.login).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(CoupaResponseValidationError);
          expect((err as CoupaResponseValidationError).message).toMatch(/^GET \/api\/users: item 0/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any body text either parses as a page or gives a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.json(), fc.constantFrom('<x/>', '[{"id":1,"login":"a"}]', 'null', '[null]')),
        async (body) => {
          try {
            const users = await listUsers(body);
            for (const u of users) expect(typeof u.login).toBe('string');
          } catch (err) {
            expect(err).toBeInstanceOf(CoupaConnectorError);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
