import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FaultRule, Simulator } from '../../src/simulator/index.js';
import { CoupaResponseFormatError, CoupaResponseValidationError } from '../../src/coupa/errors.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { CoupaConnectorError } from '../../src/errors.js';
import { simulatorFlags, cli } from '../helpers/cli.js';
import { decode, onCopyOfPrevious, syncOnce, userIds, withoutUser, type Decoded } from './helpers.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Issue 6 item 2: every kind of bad answer either is tolerated (the c1z is what a clean run gives)
 * or stops the sync with an error naming the endpoint and the field, the previous file untouched.
 * One simulator for the error cases (faults are cleared between tests); the tolerance cases that
 * change the tenant get their own.
 */

const TENANT = { seed: 62, users: 300 };
/** The third users request: after the top and bottom pages, a page from the middle of the walk. */
const MID_WALK: { match: { method: string; path: string }; onRequests: number[] } = {
  match: { method: 'GET', path: '/api/users' },
  onRequests: [3],
};

let sim: Simulator;
let clean: Decoded;
let previous: string;
const tmp = tempDir();

beforeAll(async () => {
  sim = await testSimulator({ tenant: TENANT });
  previous = join(tmp.dir, 'clean.c1z');
  await syncOnce(sim, previous);
  clean = await decode(previous);
});
afterAll(async () => {
  await sim.close();
  tmp.cleanup();
});
beforeEach(() => sim.faults.clear());

/** Syncs onto a copy of the clean file; the sync must fail, the copy must stay as it was. */
async function mustFail(rule: FaultRule): Promise<unknown> {
  sim.faults.add(rule);
  return onCopyOfPrevious(previous, (out) =>
    syncOnce(sim, out).then(
      () => new Error('the sync succeeded'),
      (e: unknown) => e,
    ),
  );
}

function firstUser(body: unknown): Record<string, unknown> {
  const list = body as Array<Record<string, unknown>>;
  if (!Array.isArray(list) || list.length === 0) throw new Error('expected a non-empty page');
  return list[0]!;
}

describe('bad responses that must stop the sync', () => {
  it('malformed JSON: CoupaResponseFormatError naming the endpoint', async () => {
    const err = await mustFail({ ...MID_WALK, kind: 'malformed-json' });
    expect(err).toBeInstanceOf(CoupaResponseFormatError);
    const e = err as CoupaResponseFormatError;
    expect(e.endpoint).toMatch(/GET \/api\/users/);
    expect(e.message).toMatch(/malformed JSON/);
    expect(e.exitCode).toBe(1);
  });

  it('an HTML page with status 200: CoupaResponseFormatError that says it is not JSON', async () => {
    const err = await mustFail({ ...MID_WALK, kind: 'html-200' });
    expect(err).toBeInstanceOf(CoupaResponseFormatError);
    const e = err as CoupaResponseFormatError;
    expect(e.endpoint).toMatch(/\/api\/users/);
    expect(e.contentType).toMatch(/text\/html/);
    expect(e.message).toMatch(/not JSON/);
  });

  it('an HTML login page from the token endpoint: a typed error naming /oauth2/token', async () => {
    const err = await mustFail({ match: { path: '/oauth2/token' }, kind: 'html-200' });
    expect(err).toBeInstanceOf(CoupaConnectorError);
    expect((err as Error).message).toMatch(/\/oauth2\/token/);
    expect((err as Error).message).toMatch(/html/i);
  });

  it('XML instead of JSON: CoupaResponseFormatError naming the content type', async () => {
    const err = await mustFail({ match: { path: '/api/roles' }, kind: 'xml' });
    expect(err).toBeInstanceOf(CoupaResponseFormatError);
    const e = err as CoupaResponseFormatError;
    expect(e.endpoint).toMatch(/\/api\/roles/);
    expect(e.contentType).toMatch(/xml/);
  });

  it('a missing required field (user without login): validation error naming endpoint, item and field', async () => {
    const err = await mustFail({
      ...MID_WALK,
      kind: 'transform',
      transform: (body) => {
        delete firstUser(body).login;
        return body;
      },
    });
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    const e = err as CoupaResponseValidationError;
    expect(e.endpoint).toMatch(/\/api\/users/);
    expect(e.field).toBe('login');
    expect(e.message).toMatch(/field `login`/);
    expect(e.message).toMatch(/item 0 \(id \d+\)/);
  });

  it('a missing required field in a list (role without name)', async () => {
    const err = await mustFail({
      match: { path: '/api/roles' },
      kind: 'transform',
      transform: (body) => {
        delete firstUser(body).name;
        return body;
      },
    });
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect((err as CoupaResponseValidationError).endpoint).toMatch(/\/api\/roles/);
    expect((err as CoupaResponseValidationError).field).toBe('name');
  });

  it('wrong types: a string id, a nested id and a non-boolean license flag are each named', async () => {
    const cases: Array<[string, (u: Record<string, unknown>) => void, string]> = [
      ['id as string', (u) => (u.id = 'seven'), 'id'],
      ['role id as string', (u) => (u.roles = [{ id: 'x', name: 'Buyer' }]), 'roles.0.id'],
      ['license flag as a word', (u) => (u['expense-user'] = 'yes'), 'expense-user'],
      ['the page is an object, not a list', () => undefined, '(root)'],
    ];
    for (const [name, mutate, field] of cases) {
      sim.faults.clear();
      const err = await mustFail({
        ...MID_WALK,
        onRequests: [2],
        kind: 'transform',
        transform: (body) => {
          if (field === '(root)') return { users: body };
          mutate(firstUser(body));
          return body;
        },
      });
      expect(err, name).toBeInstanceOf(CoupaResponseValidationError);
      const e = err as CoupaResponseValidationError;
      expect(e.endpoint, name).toMatch(/\/api\/users/);
      expect(e.field, name).toBe(field);
      expect(e.message, name).toContain(field === '(root)' ? '(root)' : `\`${field}\``);
    }
  });

  it('through the CLI: a wrong type exits non-zero with the endpoint and the field on stderr', async () => {
    // The CLI runs in another process, so the fault is a transform here on the in-process simulator.
    sim.faults.add({
      match: { path: '/api/user_groups' },
      kind: 'transform',
      transform: (body) => {
        firstUser(body).name = 12345;
        return body;
      },
    });
    const run = await onCopyOfPrevious(previous, (out) =>
      cli(['sync', ...simulatorFlags(sim), '-f', out, '--log-format', 'json']),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\/api\/user_groups/);
    expect(run.stderr).toMatch(/`name`/);
  });
});

describe('bad responses that must be tolerated', () => {
  it('unknown extra fields on every object of every list: same c1z as a clean run', async () => {
    sim.faults.add({
      match: { path: '/api' },
      kind: 'transform',
      transform: (body) => {
        if (!Array.isArray(body)) return body;
        for (const item of body as Array<Record<string, unknown>>) {
          item['custom-field-1'] = { nested: [1, 'two', null] };
          item['brand-new-license-user'] = true;
          item['x-ignored'] = 'extra';
          if (Array.isArray(item.roles))
            for (const r of item.roles as Array<Record<string, unknown>>) r.extra = 1;
        }
        return body;
      },
    });
    const out = join(tmp.dir, 'extra-fields.c1z');
    await syncOnce(sim, out);
    const d = await decode(out);
    expect(d.resources).toEqual(clean.resources);
    expect(d.entitlements).toEqual(clean.entitlements);
    expect(d.grants).toEqual(clean.grants);
  });

  it('the same record on two pages: written once', async () => {
    let carried: unknown;
    let repeated = 0;
    sim.faults.add({
      match: { method: 'GET', path: '/api/users' },
      kind: 'transform',
      transform: (body, req) => {
        if (!Array.isArray(body) || req.query.get('dir') === 'desc') return body;
        const page = body as unknown[];
        const last = page[page.length - 1];
        // Each page also carries the previous page's last user, as an offset-paged server would
        // after a record before it was deleted.
        if (carried !== undefined) {
          page.unshift(structuredClone(carried));
          repeated++;
        }
        carried = last;
        return page;
      },
    });
    const out = join(tmp.dir, 'duplicates.c1z');
    const summary = await syncOnce(sim, out);
    expect(repeated).toBeGreaterThanOrEqual(4);
    const d = await decode(out);
    expect(d.rows).toEqual(clean.rows);
    expect(d.resources).toEqual(clean.resources);
    expect(d.grants).toEqual(clean.grants);
    expect(summary.resources.user).toBe(TENANT.users);
  });
});

describe('tolerated changes of the tenant (own simulators)', () => {
  it('a record that disappears between pages: nobody else is skipped', async () => {
    const own = await testSimulator({ tenant: TENANT });
    try {
      const base = join(tmp.dir, 'vanish-base.c1z');
      await syncOnce(own, base);
      const before = await decode(base);
      // Users nobody reports to, so removing them changes no other user's record.
      const managers = new Set(own.tenant.users.list.map((u) => u.managerId));
      const notManager = (lo: number, hi: number) =>
        own.tenant.users.list.find((u) => u.id > lo && u.id <= hi && !managers.has(u.id))!.id;
      const alreadyRead = notManager(0, 50);
      const notYetRead = notManager(100, 150);
      let fired = false;
      own.faults.add({
        match: { method: 'GET', path: '/api/users' },
        kind: 'transform',
        transform: (body, req) => {
          if (req.query.get('id[gt]') === '50' && !fired) {
            fired = true;
            // With offsets, removing a record already read shifts every later record one place
            // forward and the first of the next page would be skipped; keyset pages cannot skip.
            own.tenant.removeUser(alreadyRead);
            own.tenant.removeUser(notYetRead);
          }
          return body;
        },
      });
      const out = join(tmp.dir, 'vanish.c1z');
      await syncOnce(own, out);
      expect(fired).toBe(true);
      const d = await decode(out);
      const expected = withoutUser(before, notYetRead);
      expect(d.resources.has(`user:${alreadyRead}`)).toBe(true);
      expect(d.resources.has(`user:${notYetRead}`)).toBe(false);
      expect(d.resources).toEqual(expected.resources);
      expect(d.grants).toEqual(expected.grants);
    } finally {
      await own.close();
    }
  });

  it('a record from near the top inside the bottom page: the walk is not cut short', async () => {
    // Pages cover the id range their records span. A server that slips in a record from elsewhere
    // (a repeat from a stale cache) must not make a page claim ids nobody has read yet, or a whole
    // range is silently skipped.
    const own = await testSimulator({ tenant: TENANT });
    try {
      const byId = new Map<number, unknown>();
      const capture = own.faults.add({
        match: { method: 'GET', path: '/api/users' },
        kind: 'transform',
        transform: (body) => {
          if (Array.isArray(body))
            for (const u of body as Array<{ id: number }>) byId.set(u.id, structuredClone(u));
          return body;
        },
      });
      const base = join(tmp.dir, 'stray-base.c1z');
      await syncOnce(own, base);
      capture();
      const before = await decode(base);
      const foreign = Math.max(...byId.keys()) - 5; // near the top of the list
      let injected = 0;
      own.faults.add({
        match: { method: 'GET', path: '/api/users' },
        kind: 'transform',
        transform: (body, req) => {
          // The bottom page: the first records in ascending order (asked for with the top one).
          const bottomPage = req.query.get('id[gt]') === null && req.query.get('dir') === 'asc';
          if (Array.isArray(body) && bottomPage) {
            (body as unknown[]).push(structuredClone(byId.get(foreign)));
            injected++;
          }
          return body;
        },
      });
      const out = join(tmp.dir, 'stray-foreign.c1z');
      await syncOnce(own, out);
      expect(injected).toBe(1);
      const d = await decode(out);
      expect(userIds(d)).toEqual(userIds(before));
      expect(d.resources).toEqual(before.resources);
      expect(d.grants).toEqual(before.grants);
    } finally {
      await own.close();
    }
  });

  it('a server that caps pages below 50 (25), on every list: everything still synced, no silent truncation', async () => {
    // Coupa documents "at most 50"; an instance answering fewer must not look like the end of
    // an index, or the sync would write a fraction of the tenant and exit 0.
    const own = await testSimulator({ tenant: { ...TENANT, userGroups: 60, roles: 40 } });
    try {
      const base = join(tmp.dir, 'cap-base.c1z');
      await syncOnce(own, base);
      const before = await decode(base);
      const capped = new Map<string, number>();
      own.faults.add({
        match: { method: 'GET' },
        kind: 'transform',
        transform: (body, req) => {
          if (!Array.isArray(body) || body.length <= 25) return body;
          capped.set(req.path, (capped.get(req.path) ?? 0) + 1);
          return body.slice(0, 25);
        },
      });
      const out = join(tmp.dir, 'cap.c1z');
      await syncOnce(own, out); // the sync's default walk for every list
      expect(capped.get('/api/users')).toBeGreaterThan(3);
      expect(capped.get('/api/user_groups')).toBeGreaterThan(0);
      expect(capped.get('/api/roles')).toBeGreaterThan(0);
      const d = await decode(out);
      expect(userIds(d)).toHaveLength(TENANT.users);
      expect(d.resources).toEqual(before.resources);
      expect(d.grants).toEqual(before.grants);
    } finally {
      await own.close();
    }
  });

  it('very large strings and unicode survive into the c1z exactly', async () => {
    const own = await testSimulator({ tenant: { seed: 63, users: 120 } });
    try {
      const huge = 'Долгое описание 🚀 '.repeat(6_000); // about 130 kB of UTF-8
      expect(Buffer.byteLength(huge)).toBeGreaterThan(100_000);
      const firstname = 'Zoë 👩🏽‍💻 e\u0301\u0302'; // emoji with skin tone and ZWJ, stacked combining marks
      const lastname = 'שלום עליכם مرحبا'; // right-to-left scripts
      const longLast = 'L'.repeat(100_000);
      own.tenant.updateUser(7, { firstname, lastname });
      own.tenant.updateUser(8, { lastname: longLast });
      const group = own.tenant.createUserGroup('Équipe 財務 ‏RTL‏ 🧾', { description: huge });
      const role = own.tenant.createRole('Ro\u0308le \u{1F9D1}\u200D\u{1F680}', { description: 'ok' });

      const out = join(tmp.dir, 'unicode.c1z');
      await syncOnce(own, out);
      const reader = await C1zReader.open(out);
      try {
        expect(reader.getResource('user', '7')?.displayName).toBe(`${firstname} ${lastname}`);
        expect(reader.getResource('user', '8')?.displayName).toBe(
          `${own.tenant.users.get(8)!.firstname} ${longLast}`,
        );
        const g = reader.getResource('group', String(group.id));
        expect(g?.displayName).toBe(group.name);
        expect(g?.description).toBe(huge.trim());
        expect(g?.description.length).toBe(huge.trim().length);
        expect(reader.getResource('role', String(role.id))?.displayName).toBe(role.name);
      } finally {
        reader.close();
      }
    } finally {
      await own.close();
    }
  });
});
