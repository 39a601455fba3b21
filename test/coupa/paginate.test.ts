import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CoupaApiError, CoupaClient, READ_SCOPES, UserSchema } from '../../src/coupa/index.js';
import { laneRanges, paginateById, PAGE_SIZE, type PageRequest } from '../../src/coupa/paginate.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  json,
  startFake,
  type FakeServer,
  caught,
  unexpected,
} from './helpers/fake-coupa.js';
import { denseRows, serveIndex, type Row } from './helpers/user-table.js';

const Item = z.object({ id: z.number(), login: z.string() });
let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function clientFor(url: string): CoupaClient {
  return new CoupaClient({
    baseUrl: url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scopes: READ_SCOPES,
    rateLimit: false,
  });
}

async function collect(
  c: CoupaClient,
  opts: { lanes?: number; query?: Record<string, string>; onEstimate?: (n: number) => void } = {},
) {
  const ids: number[] = [];
  for await (const page of c.paginate('/api/users', { itemSchema: Item, fields: ['id', 'login'], ...opts })) {
    ids.push(...page.map((u) => u.id));
  }
  return ids;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('keyset pagination, one lane', () => {
  it('reads every item once, in id order, at ceil(n/50) requests, with id[gt]=<last id>', async () => {
    const rows = denseRows(237);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(clientFor(fake.url));
    expect(ids).toEqual(range(1, 237));
    const reqs = fake.apiRequests();
    expect(reqs).toHaveLength(Math.ceil(237 / 50));
    expect(reqs.map((r) => r.url.searchParams.get('id[gt]'))).toEqual([null, '50', '100', '150', '200']);
    for (const r of reqs) {
      expect(r.url.searchParams.get('order_by')).toBe('id');
      expect(r.url.searchParams.get('dir')).toBe('asc');
      expect(r.url.searchParams.get('limit')).toBe('50');
      expect(JSON.parse(r.url.searchParams.get('fields')!)).toEqual(['id', 'login']);
    }
  });

  it('a multiple of 50 needs one empty page to know it is done', async () => {
    const rows = denseRows(100);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    expect(await collect(clientFor(fake.url))).toEqual(range(1, 100));
    expect(fake.apiRequests()).toHaveLength(3);
  });

  it('an empty index is one request', async () => {
    fake = await startFake({ api: (req, res) => serveIndex([], req, res) });
    expect(await collect(clientFor(fake.url))).toEqual([]);
    expect(fake.apiRequests()).toHaveLength(1);
  });

  it("passes the caller's filters on every page", async () => {
    const rows = denseRows(120).map((r) => ({ ...r, active: r.id % 3 !== 0 }));
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(clientFor(fake.url), { query: { active: 'true' } });
    expect(ids).toEqual(range(1, 120).filter((id) => id % 3 !== 0));
    expect(fake.apiRequests().every((r) => r.url.searchParams.get('active') === 'true')).toBe(true);
  });

  it('a record repeated on the next page comes out once', async () => {
    const rows = denseRows(130);
    fake = await startFake({
      api: (req, res) => {
        // A sloppy server: "id[gt]=50" also returns id 50 again.
        const gt = req.url.searchParams.get('id[gt]');
        if (gt) req.url.searchParams.set('id[gt]', String(Number(gt) - 1));
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(clientFor(fake.url));
    expect(ids).toEqual(range(1, 130));
  });
});

describe('keyset pagination with lanes', () => {
  it.each([
    // The open-ended last lane needs one empty page when its share is a multiple of 50 (1000, 10 000).
    [1000, 5, 20 + 1],
    [1037, 5, 21],
    [120, 5, 3],
    [49, 5, 1],
    [10_000, 5, 200 + 1],
    [9_999, 5, 200],
  ])('%i dense users over %i lanes: every id once at 1 probe + %i pages', async (n, lanes, pages) => {
    const rows = denseRows(n);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    let estimate = -1;
    const ids = await collect(clientFor(fake.url), { lanes, onEstimate: (e) => (estimate = e) });
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
    expect(estimate).toBe(n);
    const reqs = fake.apiRequests();
    expect(reqs).toHaveLength(1 + pages);
    const probe = reqs[0]!.url.searchParams;
    expect([probe.get('dir'), probe.get('limit'), probe.get('fields')]).toEqual(['desc', '1', '["id"]']);
    // Only the last lane is open-ended.
    const open = reqs.slice(1).filter((r) => !r.url.searchParams.has('id[lt_or_eq]'));
    const lastLaneStart = laneRanges(n, lanes).at(-1)!.lo;
    expect(open.every((r) => Number(r.url.searchParams.get('id[gt]') ?? 0) >= lastLaneStart)).toBe(true);
  });

  it('lanes run concurrently: 20 pages at 200 ms latency take well under 20 × 200 ms', async () => {
    const rows = denseRows(1000);
    fake = await startFake({
      api: async (req, res) => {
        await new Promise((r) => setTimeout(r, 200));
        serveIndex(rows, req, res);
      },
    });
    const started = performance.now();
    expect(await collect(clientFor(fake.url), { lanes: 5 })).toHaveLength(1000);
    const ms = performance.now() - started;
    // Probe + 5 pages per lane = 6 round trips ≈ 1.2 s; one lane would need 21 (4.2 s). The
    // threshold leaves room for a loaded machine.
    expect(ms).toBeLessThan(2600);
  });

  it('sparse ids: every item once', async () => {
    const rows = denseRows(3000).filter((r) => r.id % 7 !== 0 && !(r.id > 800 && r.id < 1500));
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(clientFor(fake.url), { lanes: 4 });
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    // Per-lane rounding can cost at most one page per lane over the dense floor.
    expect(fake.apiRequests().length).toBeLessThanOrEqual(1 + Math.ceil(rows.length / 50) + 4);
  });

  it('drift: creations, deactivations and deletions mid-walk never skip or repeat a stable record', async () => {
    let rows: Row[] = denseRows(600);
    const stable = new Set(range(1, 600).filter((id) => id % 10 !== 5)); // ids ending in 5 get deleted
    let served = 0;
    fake = await startFake({
      api: (req, res) => {
        serveIndex(rows, req, res);
        served++;
        if (served === 3) {
          rows = rows.filter((r) => r.id % 10 !== 5); // deleted behind and ahead of every cursor
          rows = rows.map((r) => (r.id % 4 === 0 ? { ...r, active: false } : r)); // deactivated
          rows.push(...denseRows(30, 601)); // created: ids above the probe's max
        }
      },
    });
    const ids = await collect(clientFor(fake.url), { lanes: 3 });
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of stable) expect(ids).toContain(id);
    // The open-ended last lane picks up what was created meanwhile.
    for (const id of range(601, 630)) expect(ids).toContain(id);
  });

  it('breaking out of the loop stops the lanes', async () => {
    const rows = denseRows(2000);
    fake = await startFake({
      api: async (req, res) => {
        await new Promise((r) => setTimeout(r, 30));
        serveIndex(rows, req, res);
      },
    });
    const c = clientFor(fake.url);
    for await (const page of c.paginate('/api/users', { itemSchema: Item, lanes: 4 })) {
      expect(page.length).toBe(50);
      break;
    }
    const after = fake.apiRequests().length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.apiRequests().length).toBeLessThanOrEqual(after + 4);
    expect(fake.apiRequests().length).toBeLessThan(1 + 40);
  });

  it('a failing lane fails the walk and stops the others', async () => {
    const rows = denseRows(2000);
    fake = await startFake({
      api: async (req, res) => {
        if (req.url.searchParams.get('id[gt]') === '1000')
          return json(res, 400, { errors: { base: ['bad filter'] } });
        await new Promise((r) => setTimeout(r, 20));
        serveIndex(rows, req, res);
      },
    });
    const err = await collect(clientFor(fake.url), { lanes: 4 }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaApiError);
    expect(err.message).toContain('bad filter');
    const count = fake.apiRequests().length;
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.apiRequests().length).toBeLessThanOrEqual(count + 3);
  });

  it('items are validated with the user schema', async () => {
    const rows = denseRows(60);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const users = [];
    for await (const page of clientFor(fake.url).paginate('/api/users', { itemSchema: UserSchema, lanes: 2 }))
      users.push(...page);
    expect(users.map((u) => u.login).sort()).toEqual(rows.map((r) => r.login).sort());
  });
});

describe('laneRanges', () => {
  it('cuts [0, max] into widths that are multiples of the page size, last lane open', () => {
    expect(laneRanges(1000, 5)).toEqual([
      { lo: 0, hi: 200 },
      { lo: 200, hi: 400 },
      { lo: 400, hi: 600 },
      { lo: 600, hi: 800 },
      { lo: 800, hi: undefined },
    ]);
    expect(laneRanges(120, 5)).toEqual([
      { lo: 0, hi: 50 },
      { lo: 50, hi: 100 },
      { lo: 100, hi: undefined },
    ]);
    expect(laneRanges(7, 5)).toEqual([{ lo: 0, hi: undefined }]);
  });
});

describe('property: any id set, any lane count, any drift → each surviving id exactly once', () => {
  it('holds for the in-memory walker', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 3000 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 7 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 3000 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 3001, max: 4000 }), { maxLength: 30 }),
        async (initial, lanes, deletions, creations) => {
          let ids = new Set(initial);
          let calls = 0;
          let openPageAfterCreation = false;
          const fetchPage = async (req: PageRequest) => {
            calls++;
            if (calls === 2) {
              for (const d of deletions) ids.delete(d);
              for (const c of creations) ids.add(c);
            }
            const q = req.query;
            if (calls >= 2 && !req.probe && !q['id[lt_or_eq]']) openPageAfterCreation = true;
            let list = [...ids].sort((a, b) => a - b);
            if (q.dir === 'desc') list.reverse();
            if (q['id[gt]']) list = list.filter((id) => id > Number(q['id[gt]']));
            if (q['id[lt_or_eq]']) list = list.filter((id) => id <= Number(q['id[lt_or_eq]']));
            await Promise.resolve();
            return list.slice(0, Number(q.limit)).map((id) => ({ id }));
          };
          const seen: number[] = [];
          for await (const page of paginateById(fetchPage, { lanes })) seen.push(...page.map((p) => p.id));
          expect(new Set(seen).size).toBe(seen.length);
          const survivors = initial.filter((id) => !deletions.includes(id));
          for (const id of survivors) expect(seen).toContain(id);
          for (const id of seen) expect(initial.includes(id) || creations.includes(id)).toBe(true);
          // Creations land above every pre-existing id, i.e. in the open-ended last lane: seen
          // whenever that lane was still reading after they were made.
          if (openPageAfterCreation) for (const id of creations) expect(seen).toContain(id);
          // Request count: the floor plus at most two pages per lane (+ the probe): the usual empty
          // end page, and on sparse ids one page confirming that a short page really ended the lane.
          expect(calls).toBeLessThanOrEqual(
            Math.ceil((initial.length + creations.length) / PAGE_SIZE) + 2 * lanes + 1,
          );
          ids = new Set();
        },
      ),
      { numRuns: 200 },
    );
  });
});
