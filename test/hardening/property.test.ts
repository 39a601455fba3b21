import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { compress, decompress } from 'zstd-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { CoupaResponseFormatError, CoupaResponseValidationError } from '../../src/coupa/errors.js';
import { UserSchema, RoleSchema } from '../../src/coupa/models.js';
import { parseJson, validate } from '../../src/coupa/response.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { C1zError } from '../../src/c1z/errors.js';
import { syncOnce, FAULT_TIMING } from './helpers.js';
import { testClient } from '../helpers/client.js';
import { testSimulator, simulatorToken } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 6 item 6: fast-check properties. Whatever Coupa sends, the response layer gives a value or
 * a typed error (never a TypeError or a crash); whatever bytes a c1z holds, the reader gives rows
 * or a typed C1zError, within a time bound. Seeds are fixed so a failure replays; numRuns is
 * moderate so the file runs in well under a minute.
 */

const FIXTURE = resolve(import.meta.dirname, '../fixtures/peer-sync-1000.c1z');
const SEED = 20261128;
const ENDPOINT = 'GET /api/users';
const PER_RUN_MS = 10_000;

let sim: Simulator;
let sampleUsers: Array<Record<string, unknown>>;
const tmp = tempDir();

beforeAll(async () => {
  sim = await testSimulator({ tenant: { seed: 66, users: 30 } });
  const token = await simulatorToken(sim);
  const res = await fetch(`${sim.url}/api/users?limit=10`, {
    headers: { accept: 'application/json', authorization: `Bearer ${token}` },
  });
  sampleUsers = (await res.json()) as Array<Record<string, unknown>>;
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});

function response(text: string, contentType = 'application/json; charset=utf-8') {
  return { status: 200, headers: new Headers({ 'content-type': contentType }), text };
}

/** The property every response-layer call must have: a value, or one of the two typed errors. */
function typedOrValue(run: () => unknown): 'ok' | 'format' | 'validation' {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof CoupaResponseFormatError) {
      expect(err.endpoint).toBe(ENDPOINT);
      expect(err.message).toContain(ENDPOINT);
      return 'format';
    }
    if (err instanceof CoupaResponseValidationError) {
      expect(err.endpoint).toBe(ENDPOINT);
      expect(err.message).toContain(ENDPOINT);
      expect(typeof err.field).toBe('string');
      expect(err.field.length).toBeGreaterThan(0);
      return 'validation';
    }
    throw err;
  }
}

/** A valid user with one change at a random place: a key removed, or a value replaced by anything. */
const mutatedUser = () =>
  fc
    .record({
      index: fc.nat(),
      keyPick: fc.nat(),
      nested: fc.boolean(),
      remove: fc.boolean(),
      value: fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.string(), fc.double(), fc.boolean()),
    })
    .map(({ index, keyPick, nested, remove, value }) => {
      const user = structuredClone(sampleUsers[index % sampleUsers.length]!);
      let target: Record<string, unknown> = user;
      const arrays = Object.values(user).filter(
        (v): v is Array<Record<string, unknown>> =>
          Array.isArray(v) && v.length > 0 && typeof v[0] === 'object',
      );
      if (nested && arrays.length) target = arrays[keyPick % arrays.length]![0]!;
      const keys = Object.keys(target);
      const key = keys[keyPick % keys.length]!;
      if (remove) delete target[key];
      else target[key] = value;
      return user;
    });

describe('property: API response validation', () => {
  it('random JSON values as a user: a parsed user or a CoupaResponseValidationError', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        seen.add(typedOrValue(() => validate(UserSchema, value, ENDPOINT)));
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(seen.has('validation')).toBe(true);
  });

  it('mutated valid users: parsed (field tolerated) or a validation error naming a field of the object', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(mutatedUser(), (user) => {
        const outcome = typedOrValue(() => validate(UserSchema, user, ENDPOINT, { index: 0, id: user.id }));
        seen.add(outcome);
        if (outcome === 'validation') {
          try {
            validate(UserSchema, user, ENDPOINT);
          } catch (err) {
            // The named field is where the object really differs from the schema: its first part is
            // a key of the object, or the object itself.
            const field = (err as CoupaResponseValidationError).field;
            const head = field.split('.')[0]!;
            expect(field === '(root)' || head in user || ['id', 'login'].includes(head)).toBe(true);
          }
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(seen).toEqual(new Set(['ok', 'validation']));
  });

  it('random text and content types as a body: JSON or a CoupaResponseFormatError', () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)),
      fc.constantFrom(
        '<html><body>Login</body></html>',
        '<?xml version="1.0"?><users/>',
        '',
        ' ',
        '\u0000',
        'null',
      ),
    );
    const type = fc.constantFrom('application/json', 'text/html', 'application/xml', 'text/plain', '');
    const seen = new Set<string>();
    fc.assert(
      fc.property(body, type, (text, ct) => {
        seen.add(typedOrValue(() => parseJson(response(text, ct), ENDPOINT)));
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(seen).toEqual(new Set(['ok', 'format']));
  });

  it('end to end through the client and the simulator: any page body gives items or a typed error', async () => {
    const client = testClient(sim, FAULT_TIMING, { retry: { limit: 0 } });
    let body: unknown;
    sim.faults.clear();
    sim.faults.add({ match: { path: '/api/roles' }, kind: 'transform', transform: () => body });
    const page = fc.oneof(
      fc.jsonValue(),
      fc.array(fc.jsonValue(), { maxLength: 5 }),
      fc.array(
        fc.record({
          id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
          name: fc.oneof(fc.string(), fc.integer()),
        }),
        { maxLength: 5 },
      ),
    );
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(page, async (b) => {
        body = b;
        try {
          for await (const items of client.paginate('/api/roles', { itemSchema: RoleSchema })) {
            for (const r of items) expect(typeof r.id).toBe('number');
            break;
          }
          outcomes.add('ok');
        } catch (err) {
          if (err instanceof CoupaResponseValidationError || err instanceof CoupaResponseFormatError) {
            expect(err.endpoint).toMatch(/\/api\/roles/);
            outcomes.add(err.constructor.name);
            return;
          }
          throw err;
        }
      }),
      { seed: SEED, numRuns: 80 },
    );
    sim.faults.clear();
    expect(outcomes.has('CoupaResponseValidationError')).toBe(true);
    expect(outcomes.has('ok')).toBe(true);
  });
});

describe('property: the c1z reader on corrupted bytes', () => {
  let small: Buffer;
  let fixture: Buffer;
  beforeAll(async () => {
    const path = join(tmp.dir, 'small.c1z');
    await syncOnce(sim, path);
    small = readFileSync(path);
    fixture = readFileSync(FIXTURE);
  });

  /** Opens and reads every row; the outcome is 'ok' or the typed error's class name. */
  async function readAll(bytes: Uint8Array, name: string): Promise<string> {
    const path = join(tmp.dir, name);
    writeFileSync(path, bytes);
    const started = performance.now();
    try {
      const reader = await C1zReader.open(path);
      try {
        let n = 0;
        for (const _ of reader.resourceTypes()) n++;
        for (const _ of reader.resources()) n++;
        for (const _ of reader.entitlements()) n++;
        for (const _ of reader.grants()) n++;
        reader.stats();
        return n >= 0 ? 'ok' : 'never';
      } finally {
        reader.close();
      }
    } catch (err) {
      if (err instanceof C1zError) return err.constructor.name;
      throw err;
    } finally {
      expect(performance.now() - started, `${name} took too long`).toBeLessThan(PER_RUN_MS);
    }
  }

  const corruption = (size: number) =>
    fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat({ max: size - 1 }),
        mask: fc.integer({ min: 1, max: 255 }),
        count: fc.integer({ min: 1, max: 8 }),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: size - 1 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat({ max: size }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
    );

  function corrupt(
    original: Buffer,
    c:
      | { kind: 'flip'; at: number; mask: number; count: number }
      | { kind: 'truncate'; at: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array },
  ): Buffer {
    if (c.kind === 'truncate') return original.subarray(0, c.at);
    if (c.kind === 'insert')
      return Buffer.concat([original.subarray(0, c.at), c.bytes, original.subarray(c.at)]);
    const out = Buffer.from(original);
    for (let i = 0; i < c.count; i++) {
      const at = (c.at + i * 7919) % out.length;
      out[at] = out[at]! ^ c.mask;
    }
    return out;
  }

  for (const [label, get, runs] of [
    ['a small c1z written by our sync', () => small, 200],
    ['the Go fixture', () => fixture, 60],
  ] as const) {
    it(`${label}: flipped, truncated or inserted bytes give rows or a typed C1zError`, async () => {
      const original = get();
      const outcomes = new Map<string, number>();
      let i = 0;
      await fc.assert(
        fc.asyncProperty(corruption(original.length), async (c) => {
          const outcome = await readAll(corrupt(original, c), `corrupt-${label.length}-${i++}.c1z`);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
        { seed: SEED, numRuns: runs },
      );
      // Corruption of the compressed stream must be noticed at least sometimes.
      expect(
        [...outcomes.keys()].some((k) => k !== 'ok'),
        JSON.stringify([...outcomes]),
      ).toBe(true);
    }, 60_000);
  }

  it('damage inside the SQLite database (recompressed, so zstd cannot notice): rows or a typed C1zError', async () => {
    const db = Buffer.from(decompress(small.subarray(5)));
    // Damage the database the way a torn write would: whole pages overwritten or zeroed.
    const pageSize = db.readUInt16BE(16) || 65536;
    const pages = Math.floor(db.length / pageSize);
    const outcomes = new Map<string, number>();
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: pages - 1 }),
        fc.integer({ min: 0, max: pageSize - 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        async (page, offset, bytes) => {
          const damaged = Buffer.from(db);
          damaged.set(bytes.subarray(0, Math.max(0, pageSize - offset)), page * pageSize + offset);
          const file = Buffer.concat([small.subarray(0, 5), Buffer.from(compress(damaged))]);
          const outcome = await readAll(file, `sqlite-${i++}.c1z`);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    expect(
      [...outcomes.keys()].some((k) => k !== 'ok'),
      JSON.stringify([...outcomes]),
    ).toBe(true);
    // Sanity: the undamaged database opens as SQLite at all.
    const check = join(tmp.dir, 'plain.sqlite');
    writeFileSync(check, db);
    new Database(check, { readonly: true }).close();
  }, 60_000);
});
