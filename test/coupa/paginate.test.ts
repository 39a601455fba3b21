import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CoupaApiError,
  CoupaClient,
  CoupaResponseValidationError,
  UserSchema,
} from '../../src/coupa/index.js';
import {
  newWalkStats,
  PageEvidence,
  paginateById,
  PAGE_SIZE,
  type PageRequest,
} from '../../src/coupa/paginate.js';
import { json, startFake, type FakeServer, caught, unexpected, fakeClient } from './helpers/fake-coupa.js';
import { denseRows, serveIndex, type Row } from './helpers/user-table.js';

const Item = z.object({ id: z.number(), login: z.string() });
let fake: FakeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function collect(
  c: CoupaClient,
  opts: {
    query?: Record<string, string>;
    onEstimate?: (n: number) => void;
  } = {},
) {
  const ids: number[] = [];
  for await (const page of c.paginate('/api/users', { itemSchema: Item, fields: ['id', 'login'], ...opts })) {
    ids.push(...page.map((u) => u.id));
  }
  return ids;
}

/** A fake answering after `delayMs`, counting the most requests it ever had open at once. */
async function startSlowFake(
  rows: Row[],
  delayMs: number,
): Promise<{ url: string; maxInFlight: () => number }> {
  let inFlight = 0;
  let most = 0;
  fake = await startFake({
    api: async (req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, delayMs));
      inFlight--;
      serveIndex(rows, req, res);
    },
  });
  return { url: fake.url, maxInFlight: () => most };
}

/** Rows with ids spread like a real tenant's: far from 1, gaps, a run of holes, one very large id. */
function sparseRows(n: number, seed = 1): Row[] {
  const rows: Row[] = [];
  let id = 10_000 + seed * 17;
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    rows.push({ id, login: `user${id}` });
    id += 1 + (x % 4) + (i % 97 === 96 ? 5000 : 0);
  }
  if (n > 10) rows[n - 1] = { id: 2 ** 51 + seed, login: 'huge' };
  return rows;
}

/** Pages that hold n records, at least 1 (issue 12's floor is one more when n is a multiple of 50). */
const pagesFor = (n: number) => Math.max(1, Math.ceil(n / PAGE_SIZE));

const qp = (r: { url: URL }, k: string) => r.url.searchParams.get(k);

/**
 * A list of `ids` in memory as the walk's fetcher: each answer after floor(rand() × 4) ms (so answers
 * can come back out of order), `onServe` told the request's number first, pages capped at `cap`.
 */
function memoryIndex(
  ids: Set<number>,
  opts: { cap: number; repeatEdge: boolean; rand: () => number; onServe: (calls: number) => void },
) {
  let calls = 0;
  const fetchPage = async (req: PageRequest) => {
    calls++;
    // Random latency: answers are evaluated in a different order than they were asked.
    await new Promise((r) => setTimeout(r, Math.floor(opts.rand() * 4)));
    opts.onServe(calls);
    const q = req.query;
    let list = [...ids].sort((a, b) => a - b);
    if (q.dir === 'desc') list.reverse();
    const slack = opts.repeatEdge ? 1 : 0;
    if (q['id[gt]']) list = list.filter((id) => id > Number(q['id[gt]']) - slack);
    if (q['id[lt_or_eq]']) list = list.filter((id) => id <= Number(q['id[lt_or_eq]']));
    const offset = Number(q.offset ?? 0);
    return list.slice(offset, offset + Math.min(opts.cap, Number(q.limit))).map((id) => ({ id }));
  };
  return { fetchPage, calls: () => calls };
}

describe('one walk for every list', () => {
  it.each([
    ['dense', 0],
    ['dense', 7],
    ['dense', 49],
    ['dense', 50],
    ['dense', 120],
    ['dense', 237],
    ['dense', 1000],
    ['dense', 1037],
    ['sparse', 30],
    ['sparse', 120],
    ['sparse', 1000],
    ['sparse', 2345],
  ] as const)(
    '%s ids, %i records: every id once, within the floor + 3 requests (the look above the top included)',
    async (layout, n) => {
      const rows = layout === 'dense' ? denseRows(n) : sparseRows(n);
      fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
      const estimates: number[] = [];
      const ids = await collect(fakeClient(fake.url), { onEstimate: (e) => estimates.push(e) });
      const estimate = estimates.at(-1) ?? -1;
      expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
      const reqs = fake.apiRequests();
      expect(reqs.length).toBeLessThanOrEqual(pagesFor(n) + 3);
      // Every page in id order with the caller's projection, 50 at most.
      for (const r of reqs) {
        expect(qp(r, 'order_by')).toBe('id');
        expect(['asc', 'desc']).toContain(qp(r, 'dir'));
        expect(qp(r, 'limit')).toBe('50');
        expect(JSON.parse(qp(r, 'fields')!)).toEqual(['id', 'login']);
      }
      // The first page is the top, read downwards.
      expect([qp(reqs[0]!, 'dir'), qp(reqs[0]!, 'offset'), qp(reqs[0]!, 'id[gt]')]).toEqual([
        'desc',
        null,
        null,
      ]);
      // Runs of holes (every 97 records here) fool the first estimate, made from the ids at both
      // ends; the density of what the walk reads inside the list corrects it before the end.
      if (n > 100) expect(Math.abs(estimate - n) / n).toBeLessThan(0.25);
      expect(estimates.length).toBeLessThanOrEqual(n > 100 ? 5 : 1);
    },
  );

  it('a list that fits in its top page costs that page once the server has shown it sends full pages', async () => {
    const big = sparseRows(300);
    const small = sparseRows(30, 2);
    fake = await startFake({
      api: (req, res) => serveIndex(req.url.pathname.endsWith('/users') ? big : small, req, res),
    });
    const c = fakeClient(fake.url);
    // Both walks at once, as the sync reads its lists while the users walk starts: the short
    // top page of /api/roles waits for the users walk's first full page instead of a request.
    const roles: number[] = [];
    const walk = async () => {
      for await (const p of c.paginate('/api/roles', { itemSchema: Item })) roles.push(...p.map((r) => r.id));
    };
    const [, users] = await Promise.all([walk(), collect(c)]);
    expect(users).toHaveLength(300);
    expect(roles.sort((a, b) => a - b)).toEqual(small.map((r) => r.id));
    expect(fake.apiRequests().filter((r) => r.url.pathname.endsWith('/roles'))).toHaveLength(1);
  });

  it('alone, a short top page on a server not yet seen sending 50 is confirmed below: one request', async () => {
    const rows = sparseRows(30);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    expect((await collect(fakeClient(fake.url))).sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    const reqs = fake.apiRequests();
    expect(reqs.map((r) => [qp(r, 'dir'), qp(r, 'id[lt_or_eq]')])).toEqual([
      ['desc', null],
      ['asc', String(rows[0]!.id)],
    ]);
  });

  it("passes the caller's filters on every page", async () => {
    const rows = denseRows(320).map((r) => ({ ...r, active: r.id % 3 !== 0 }));
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(fakeClient(fake.url), { query: { active: 'true' } });
    expect(ids.sort((a, b) => a - b)).toEqual(rows.filter((r) => r.active).map((r) => r.id));
    expect(fake.apiRequests().every((r) => qp(r, 'active') === 'true')).toBe(true);
  });

  it('a record repeated at page edges comes out once', async () => {
    const rows = sparseRows(700);
    fake = await startFake({
      api: (req, res) => {
        // A sloppy server: "id[gt]=x" also returns x again.
        const gt = qp(req, 'id[gt]');
        if (gt) req.url.searchParams.set('id[gt]', String(Number(gt) - 1));
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(fakeClient(fake.url));
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
  });

  it('items are validated with the item schema, and a bad one names its page', async () => {
    const rows = denseRows(120);
    fake = await startFake({
      api: (req, res) => {
        if (qp(req, 'dir') !== 'desc') return serveIndex(rows, req, res);
        json(res, 200, [{ id: 120, login: 42 }]);
      },
    });
    const err = await collect(fakeClient(fake.url)).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toContain('(top)');
    expect(err.message).toContain('login');
    expect(fake.apiRequests()).toHaveLength(1);
  });

  it('items are validated with the user schema', async () => {
    const rows = denseRows(160);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const users = [];
    for await (const page of fakeClient(fake.url).paginate('/api/users', { itemSchema: UserSchema }))
      users.push(...page);
    expect(users.map((u) => u.login).sort()).toEqual(rows.map((r) => r.login).sort());
  });

  it('offset pages ("seeds") land inside gaps, and keyset pages close the junctions with one record read twice', async () => {
    const rows = sparseRows(3000);
    const served: number[] = [];
    fake = await startFake({
      api: (req, res) => {
        servedIds(res, served);
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(fakeClient(fake.url));
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    const reqs = fake.apiRequests();
    const seeds = reqs.filter((r) => qp(r, 'offset'));
    expect(seeds.length).toBeGreaterThan(10);
    for (const r of seeds) expect(qp(r, 'id[gt]')).not.toBeNull();
    // Records crossed the wire at most ~2% more often than once.
    expect(served.length).toBeLessThanOrEqual(rows.length * 1.02 + 2 * PAGE_SIZE);
    expect(reqs.length).toBeLessThanOrEqual(pagesFor(rows.length) * 1.02 + 2);
  });
});

describe('probes past what is confirmed', () => {
  /** `per` records at each gap of `gaps` in turn, from id 5000: ids that grow denser towards the top. */
  const denserTowardsTop = (per: number, gaps: number[]) => {
    const ids: number[] = [];
    let id = 5000;
    for (const g of gaps) for (let i = 0; i < per; i++) ids.push((id += g));
    return ids;
  };

  it.each([
    [700, [64, 32, 16, 8, 4, 2, 1]],
    [400, [256, 64, 16, 4, 1]],
    [1000, [9, 7, 5, 3, 1]],
    [300, [50, 40, 30, 20, 10, 5, 1]],
  ])('%i records at each of the gaps %j: no probe lands past the end of the list', async (per, gaps) => {
    // Each size estimate falls short here (the ids ahead are denser than those read), so the walk
    // keeps doubling how far its probes go; near the top, the ids left between the last page
    // read and the top page hold fewer records than that, and a probe there would be empty.
    const ids = denserTowardsTop(per, gaps);
    const all = new Set(ids);
    const idx = memoryIndex(all, { cap: PAGE_SIZE, repeatEdge: false, rand: () => 0, onServe: () => {} });
    const stats = newWalkStats();
    const got: number[] = [];
    for await (const page of paginateById(idx.fetchPage, { bothEnds: true, stats })) {
      got.push(...page.map((r) => r.id));
    }
    expect(got.sort((a, b) => a - b)).toEqual(ids);
    expect(stats.seeds).toBeGreaterThan(10);
    expect(stats.emptySeeds).toBe(0);
    expect(idx.calls()).toBeLessThanOrEqual(pagesFor(ids.length) * 1.02 + 2);
  });
});

/** The ids each answer carried, to tell whether any record was read twice. */
function servedIds(res: { write: unknown; end: unknown }, into: number[]): void {
  const end = res.end as (chunk?: unknown) => unknown;
  (res as { end: (chunk?: unknown) => unknown }).end = (chunk?: unknown) => {
    if (chunk) for (const r of JSON.parse(String(chunk)) as Row[]) into.push(r.id);
    return end.call(res, chunk);
  };
}

describe('requests in flight: rate × latency, never more than the limiter allows', () => {
  it('without a rate limit, pages go out in parallel (up to 8)', async () => {
    const slow = await startSlowFake(sparseRows(2000), 60);
    expect(await collect(fakeClient(slow.url))).toHaveLength(2000);
    expect(slow.maxInFlight()).toBeGreaterThanOrEqual(4);
    expect(slow.maxInFlight()).toBeLessThanOrEqual(8);
  });

  it('with a limiter of 40/s and 300 ms per page, about 40 × 0.3 = 12 in flight, and no request waits in the limiter', async () => {
    const slow = await startSlowFake(sparseRows(4000), 300);
    const c = fakeClient(slow.url, { rateLimit: { perSecond: 40, burst: 4 } });
    const stats = newWalkStats();
    const ids: number[] = [];
    for await (const p of c.paginate('/api/users', { itemSchema: Item, stats }))
      ids.push(...p.map((u) => u.id));
    expect(ids).toHaveLength(4000);
    // Little's law: 40/s × 0.3 s = 12 (with slack for the spread; more when the machine is busy
    // and answers come back late): far more than one at a time, and never past the walk's cap.
    expect(slow.maxInFlight()).toBeGreaterThanOrEqual(8);
    expect(slow.maxInFlight()).toBeLessThanOrEqual(64);
    expect(c.stats().throttled).toBe(0);
  });

  it('breaking out of the loop stops the walk', async () => {
    const rows = sparseRows(3000);
    fake = await startFake({
      api: async (req, res) => {
        await new Promise((r) => setTimeout(r, 30));
        serveIndex(rows, req, res);
      },
    });
    const c = fakeClient(fake.url);
    for await (const page of c.paginate('/api/users', { itemSchema: Item })) {
      expect(page.length).toBeGreaterThan(0);
      break;
    }
    const after = fake.apiRequests().length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.apiRequests().length).toBeLessThanOrEqual(after + 8);
    expect(fake.apiRequests().length).toBeLessThan(30);
  });

  it('a failing page fails the walk and stops the others', async () => {
    const rows = sparseRows(3000);
    fake = await startFake({
      api: async (req, res) => {
        if (qp(req, 'offset')) return json(res, 400, { errors: { base: ['bad filter'] } });
        await new Promise((r) => setTimeout(r, 20));
        serveIndex(rows, req, res);
      },
    });
    const err = await collect(fakeClient(fake.url)).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaApiError);
    expect(err.message).toContain('bad filter');
    const count = fake.apiRequests().length;
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.apiRequests().length).toBeLessThanOrEqual(count + 8);
  });
});

describe('the end of a walk', () => {
  it('says once that all is asked for, while the last pages are still out, and asks for nothing after', async () => {
    const slow = await startSlowFake(sparseRows(3000), 40);
    const c = fakeClient(slow.url, { rateLimit: { perSecond: 100, burst: 10 } });
    const stats = newWalkStats();
    let said = 0;
    let askedWhenSaid = -1;
    let usersAfter = 0;
    const ids: number[] = [];
    const onAllAsked = () => {
      said++;
      askedWhenSaid = stats.requests;
    };
    for await (const page of c.paginate('/api/users', { itemSchema: Item, stats, onAllAsked })) {
      ids.push(...page.map((u) => u.id));
      if (said) usersAfter += page.length;
    }
    expect(new Set(ids).size).toBe(3000);
    expect(said).toBe(1);
    // Every request of the walk was out by then (nothing changed in the list meanwhile)...
    expect(askedWhenSaid).toBe(stats.requests);
    // ...and it came early enough to be of use: pages were still on their way.
    expect(usersAfter).toBeGreaterThan(0);
  });
});

describe('many requests in flight at once', () => {
  it('a walk with 40 requests out prints no MaxListenersExceededWarning (each listens on its signal)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      // 20 ms per page (rand() × 4 ms, floored), every record 1..4000 present.
      const idx = memoryIndex(new Set(Array.from({ length: 4000 }, (_, i) => i + 1)), {
        cap: PAGE_SIZE,
        repeatEdge: false,
        rand: () => 5,
        onServe: () => {},
      });
      const fetchPage = async (req: PageRequest) => {
        // What fetch does with the signal it is given.
        const onAbort = () => {};
        req.signal.addEventListener('abort', onAbort);
        try {
          return await idx.fetchPage(req);
        } finally {
          req.signal.removeEventListener('abort', onAbort);
        }
      };
      const stats = newWalkStats();
      let read = 0;
      for await (const page of paginateById(fetchPage, { maxInFlight: 40, stats })) read += page.length;
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      expect(read).toBe(4000);
      expect(stats.maxInFlight).toBeGreaterThan(10);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('servers that cap, ignore or repeat', () => {
  it.each(['dense', 'sparse'] as const)(
    'a server capping pages at 25 is read to the end (%s)',
    async (layout) => {
      const rows = layout === 'dense' ? denseRows(300) : sparseRows(300);
      fake = await startFake({
        api: (req, res) => {
          req.url.searchParams.set('limit', '25');
          serveIndex(rows, req, res);
        },
      });
      const ids = await collect(fakeClient(fake.url));
      expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    },
  );

  it('a capping server, small list: the short top page is confirmed, not trusted', async () => {
    const rows = sparseRows(40);
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.set('limit', '25');
        serveIndex(rows, req, res);
      },
    });
    expect((await collect(fakeClient(fake.url))).sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
  });

  it('a server that ignores offset costs pages, not a record', async () => {
    const rows = sparseRows(1500);
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.delete('offset');
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(fakeClient(fake.url));
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    // The walk stops seeding after two seeds that bring nothing new.
    expect(fake.apiRequests().length).toBeLessThanOrEqual(pagesFor(1500) + 8 + 4);
  });

  it('a server that ignores the upper bound (id[lt_or_eq]) costs nothing extra and loses nothing', async () => {
    const rows = sparseRows(1200);
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.delete('id[lt_or_eq]');
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(fakeClient(fake.url));
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
  });

  describe('servers that misbehave fail loudly instead of losing records', () => {
    /** The walk's error against a fake whose every request is first bent by `tweak`. */
    const misbehaving = async (rows: Row[], tweak: (req: { url: URL }) => void) => {
      fake = await startFake({
        api: (req, res) => {
          tweak(req);
          serveIndex(rows, req, res);
        },
      });
      return collect(fakeClient(fake.url)).then(unexpected, caught);
    };

    it('a server that ignores dir (always ascending)', async () => {
      const err = await misbehaving(denseRows(1000), (req) => req.url.searchParams.set('dir', 'asc'));
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/not in descending id order; the server ignores dir/);
    });

    it('a server that ignores dir (always descending)', async () => {
      const err = await misbehaving(sparseRows(1000), (req) => req.url.searchParams.set('dir', 'desc'));
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/ignores dir|did not advance/);
    });

    it.each([50, 25])('a server that ignores id[gt] (pages capped at %i)', async (cap) => {
      const err = await misbehaving(sparseRows(1000), (req) => {
        req.url.searchParams.set('limit', String(cap));
        req.url.searchParams.delete('id[gt]');
      });
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/did not advance|ignores/);
    });

    it('a page with more records than the limit (the top record repeated in front)', async () => {
      const rows = denseRows(1000);
      fake = await startFake({
        api: (req, res) => {
          if (qp(req, 'dir') === 'desc')
            return json(res, 200, [rows[999], ...rows.slice(950, 1000).reverse()]);
          serveIndex(rows, req, res);
        },
      });
      const err = await collect(fakeClient(fake.url)).then(unexpected, caught);
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/returned 51 records for limit=50/);
    });
  });
});

describe('drift: records created, deactivated and deleted while the walk reads', () => {
  it('creations at any time before the look above the top are read; stable records exactly once', async () => {
    const rows = sparseRows(1500);
    const topAtStart = rows.at(-1)!.id;
    let next = topAtStart + 1;
    let lookedAbove = false;
    const created: number[] = [];
    fake = await startFake({
      api: (req, res) => {
        serveIndex(rows, req, res);
        // The look above the top: a cursor at or past the highest id of the start.
        if (Number(req.url.searchParams.get('id[gt]') ?? 0) >= topAtStart) lookedAbove = true;
        // One creation after every page; those before the look above must be read.
        rows.push({ id: next, login: `user${next}` });
        if (!lookedAbove) created.push(next);
        next++;
      },
    });
    const ids = await collect(fakeClient(fake.url));
    expect(lookedAbove).toBe(true);
    expect(created.length).toBeGreaterThan(20);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of rows.slice(0, 1500)) expect(ids).toContain(r.id);
    for (const id of created) expect(ids).toContain(id);
  });

  it('deletions and deactivations behind and ahead of every page never skip a stable record', async () => {
    let rows: Row[] = sparseRows(1600);
    const deleted = new Set(rows.filter((_, i) => i % 10 === 5).map((r) => r.id));
    let served = 0;
    fake = await startFake({
      api: (req, res) => {
        serveIndex(rows, req, res);
        if (++served === 4) {
          rows = rows.filter((r) => !deleted.has(r.id)); // shifts every offset after them
          rows = rows.map((r, i) => (i % 4 === 0 ? { ...r, active: false } : r));
        }
      },
    });
    const ids = await collect(fakeClient(fake.url));
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of rows) expect(ids).toContain(r.id);
  });
});

describe('property: any id set, any drift, any answer order → each surviving id exactly once', () => {
  /** An in-memory index whose answers come back in random order, evaluated when they are served. */

  it('holds under creations, deletions and deactivations at random moments, on any layout', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 40 }), { maxLength: 600 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { maxLength: 400 }),
        fc.array(fc.nat({ max: 599 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer(),
        async (far, near, deleteAt, createCount, changeAt, seed) => {
          const initial = [...new Set([...far, ...near])];
          const ids = new Set(initial);
          const deletions = new Set(
            deleteAt.map((i) => initial[i % Math.max(1, initial.length)]!).filter(Boolean),
          );
          const top = Math.max(0, ...initial);
          const creations = Array.from({ length: createCount }, (_, i) => top + 1 + i * 3);
          let s = seed >>> 0;
          const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
          const idx = memoryIndex(ids, {
            cap: 50,
            repeatEdge: false,
            rand,
            onServe: (calls) => {
              if (calls !== changeAt) return;
              for (const d of deletions) ids.delete(d);
              for (const c of creations) ids.add(c);
            },
          });
          const seen: number[] = [];
          const stats = newWalkStats();
          for await (const page of paginateById(idx.fetchPage, { stats, evidence: new PageEvidence() }))
            seen.push(...page.map((p) => p.id));
          expect(new Set(seen).size).toBe(seen.length);
          for (const id of initial) if (!deletions.has(id)) expect(seen).toContain(id);
          for (const id of seen) expect(initial.includes(id) || creations.includes(id)).toBe(true);
          // Made at the changeAt-th request, creations are seen unless the look above had been
          // asked for by then.
          if (changeAt <= idx.calls() - stats.maxInFlight)
            for (const id of creations) expect(seen).toContain(id);
          // Requests: the floor, plus one record in 49 read twice, plus the top check, plus
          // what drift costs (pages around deletions), and seeds sized before drift shifted ranks.
          const n = initial.length + creations.length;
          expect(idx.calls()).toBeLessThanOrEqual(Math.ceil((n * 50) / 49 / PAGE_SIZE) + 3 + deletions.size);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('holds with pages capped below 50 and a record repeated at page edges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { maxLength: 300 }),
        fc.constantFrom(50, 30, 10),
        fc.boolean(),
        fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 5001, max: 6000 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer(),
        async (initial, cap, repeatEdge, deletions, creations, changeAt, seed) => {
          const ids = new Set(initial);
          let s = seed >>> 0;
          const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
          const idx = memoryIndex(ids, {
            cap,
            repeatEdge,
            rand,
            onServe: (calls) => {
              if (calls !== changeAt) return;
              for (const d of deletions) ids.delete(d);
              for (const c of creations) ids.add(c);
            },
          });
          const seen: number[] = [];
          for await (const page of paginateById(idx.fetchPage, { evidence: new PageEvidence() }))
            seen.push(...page.map((p) => p.id));
          expect(new Set(seen).size).toBe(seen.length);
          for (const id of initial.filter((i) => !deletions.includes(i))) expect(seen).toContain(id);
          for (const id of seen) expect(initial.includes(id) || creations.includes(id)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
