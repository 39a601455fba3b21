import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CoupaApiError,
  CoupaClient,
  CoupaResponseValidationError,
  UserSchema,
} from '../../src/coupa/index.js';
import { laneRanges, paginateById, PAGE_SIZE, type PageRequest } from '../../src/coupa/paginate.js';
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
    lanes?: number;
    topFirst?: boolean;
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

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('keyset pagination, one lane', () => {
  it('reads every item once, in id order, at ceil(n/50) requests, with id[gt]=<last id>', async () => {
    const rows = denseRows(237);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(fakeClient(fake.url));
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
    expect(await collect(fakeClient(fake.url))).toEqual(range(1, 100));
    expect(fake.apiRequests()).toHaveLength(3);
  });

  it('an empty index is one request', async () => {
    fake = await startFake({ api: (req, res) => serveIndex([], req, res) });
    expect(await collect(fakeClient(fake.url))).toEqual([]);
    expect(fake.apiRequests()).toHaveLength(1);
  });

  it("passes the caller's filters on every page", async () => {
    const rows = denseRows(120).map((r) => ({ ...r, active: r.id % 3 !== 0 }));
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(fakeClient(fake.url), { query: { active: 'true' } });
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
    const ids = await collect(fakeClient(fake.url));
    expect(ids).toEqual(range(1, 130));
  });
});

describe('top first (topFirst), one lane: a walk down from the highest id', () => {
  async function top(rows: Row[]) {
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(fakeClient(fake.url), { topFirst: true });
    const reqs = fake
      .apiRequests()
      .map((r) => [r.url.searchParams.get('dir'), r.url.searchParams.get('id[lt]')]);
    return { ids, reqs };
  }

  it.each([
    // A page that reaches id 1 ends the walk: exactly 50 costs one page, where walking up needs an
    // empty second one.
    [50, 1],
    [100, 2],
    [120, 3],
    [7, 1],
    [0, 1],
  ])('%i records with ids 1..n: %i request(s), every id once', async (n, requests) => {
    const { ids, reqs } = await top(denseRows(n));
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, n));
    expect(reqs).toHaveLength(requests);
    expect(reqs.every(([dir]) => dir === 'desc')).toBe(true);
    expect(reqs.map(([, lt]) => lt)).toEqual([
      null,
      ...range(1, requests - 1).map((k) => String(n - 50 * k + 1)),
    ]);
  });

  it('a short page above id 1 is followed down, in case the server caps pages', async () => {
    const { ids, reqs } = await top(denseRows(30, 971));
    expect(ids.sort((a, b) => a - b)).toEqual(range(971, 1000));
    expect(reqs).toEqual([
      ['desc', null],
      ['desc', '971'],
    ]);
  });

  it('a full page above id 1 is followed down', async () => {
    const { ids, reqs } = await top(denseRows(50, 11));
    expect(ids.sort((a, b) => a - b)).toEqual(range(11, 60));
    expect(reqs).toEqual([
      ['desc', null],
      ['desc', '11'],
    ]);
  });
});

describe('top first (topFirst) with lanes: the top page, then lanes below it', () => {
  it.each([
    [1003, 21],
    [1000, 20],
    [120, 3],
    [50, 1],
    [30, 1],
    [0, 1],
  ])(
    '%i records with ids 1..n: %i request(s), every id once, nothing above the top page',
    async (n, requests) => {
      const rows = denseRows(n);
      fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
      let estimate = -1;
      const got = await collect(fakeClient(fake.url), {
        topFirst: true,
        lanes: 4,
        onEstimate: (e) => (estimate = e),
      });
      expect(got.sort((a, b) => a - b)).toEqual(range(1, n));
      expect(estimate).toBe(n);
      const reqs = fake.apiRequests();
      expect(reqs).toHaveLength(requests);
      const first = reqs[0]!.url.searchParams;
      expect([first.get('dir'), first.get('offset'), first.get('id[gt]')]).toEqual(['desc', null, null]);
      // Below the top page only: bounded lanes, none above it.
      expect(reqs.slice(1).every(bounded)).toBe(true);
      expect(Math.max(0, ...reqs.slice(1).map((r) => Number(r.url.searchParams.get('id[lt_or_eq]'))))).toBe(
        Math.max(0, n - 50),
      );
    },
  );

  it('a server capping pages at 25 is still read to the end', async () => {
    const rows = denseRows(130);
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.set('limit', '25');
        serveIndex(rows, req, res);
      },
    });
    const got = await collect(fakeClient(fake.url), { topFirst: true, lanes: 4 });
    expect(got.sort((a, b) => a - b)).toEqual(range(1, 130));
  });

  it('a short top page above id 1 is confirmed below it: one empty page', async () => {
    const rows = denseRows(30, 971);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const got = await collect(fakeClient(fake.url), { topFirst: true, lanes: 4 });
    expect(got.sort((a, b) => a - b)).toEqual(range(971, 1000));
    expect(fake.apiRequests().map((r) => r.url.searchParams.get('id[lt_or_eq]'))).toEqual([null, '970']);
  });

  it('runs its lanes concurrently', async () => {
    const slow = await startSlowFake(denseRows(1003), 100);
    const got = await collect(fakeClient(slow.url), { topFirst: true, lanes: 4 });
    expect(got).toHaveLength(1003);
    expect(slow.maxInFlight()).toBe(4);
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

const bounded = (r: { url: URL }) => r.url.searchParams.has('id[lt_or_eq]');

describe('keyset pagination with lanes', () => {
  it.each([
    // Dense ids: the probe (ranks 51..100 from the top), bounded lanes of whole pages below it and
    // the top page last make exactly ceil(n/50) pages. A list of 50 or fewer costs the empty probe
    // and the top page.
    [1000, 5, 20],
    [1000, 4, 20],
    [1037, 5, 21],
    [120, 5, 3],
    [100, 5, 2],
    [51, 5, 2],
    [50, 5, 2],
    [49, 5, 2],
    [10_000, 5, 200],
    [9_999, 5, 200],
  ])('%i dense users over %i lanes: every id once in %i requests', async (n, lanes, requests) => {
    expect(requests).toBe(n <= 50 ? 2 : Math.ceil(n / 50));
    const rows = denseRows(n);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    let estimate = -1;
    const ids = await collect(fakeClient(fake.url), { lanes, onEstimate: (e) => (estimate = e) });
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
    expect(estimate).toBe(n);
    const reqs = fake.apiRequests();
    expect(reqs).toHaveLength(requests);
    // The probe is a real page, ranks 51..100 from the top, with the caller's projection.
    const probe = reqs[0]!.url.searchParams;
    expect([probe.get('order_by'), probe.get('dir'), probe.get('offset'), probe.get('limit')]).toEqual([
      'id',
      'desc',
      '50',
      '50',
    ]);
    expect(JSON.parse(probe.get('fields')!)).toEqual(['id', 'login']);
    expect(probe.has('id[gt]') || probe.has('id[lt_or_eq]')).toBe(false);
    // Then bounded lanes below the probe's smallest id, and last the top, read downwards down to
    // the probe's largest id.
    const rest = reqs.slice(1, -1);
    expect(rest.every(bounded)).toBe(true);
    const highest = rest.map((r) => Number(r.url.searchParams.get('id[lt_or_eq]')));
    expect(highest.length ? Math.max(...highest) : 0).toBe(Math.max(0, n - 100));
    const top = reqs.at(-1)!.url.searchParams;
    expect([top.get('dir'), top.get('id[gt]'), top.get('id[lt]'), top.get('offset')]).toEqual([
      'desc',
      n <= 50 ? null : String(n - 50),
      null,
      null,
    ]);
  });

  it('yields the probe page and never asks for any record twice', async () => {
    const rows = denseRows(1000);
    const served: number[] = [];
    fake = await startFake({
      api: (req, res) => {
        servedIds(res, served);
        serveIndex(rows, req, res);
      },
    });
    const pages: number[][] = [];
    for await (const page of fakeClient(fake.url).paginate('/api/users', { itemSchema: Item, lanes: 4 }))
      pages.push(page.map((u) => u.id));
    // The first page out is the probe's: ranks 51..100 from the top, as the server sent them.
    expect(pages[0]).toEqual(range(901, 950).reverse());
    // The last is the top, read after every lane.
    expect(pages.at(-1)).toEqual(range(951, 1000).reverse());
    expect(pages.flat().sort((a, b) => a - b)).toEqual(range(1, 1000));
    // Every record crossed the wire once: lanes stop below the probe, the top stops above it.
    expect(served).toHaveLength(1000);
    expect(new Set(served).size).toBe(1000);
  });

  it('a short probe page that reaches id 1 leaves only the top to read: two requests', async () => {
    const rows = denseRows(80);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    let estimate = -1;
    const ids = await collect(fakeClient(fake.url), { lanes: 4, onEstimate: (e) => (estimate = e) });
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, 80));
    expect(estimate).toBe(80);
    expect(fake.apiRequests().map((r) => r.url.searchParams.get('id[gt]'))).toEqual([null, '30']);
  });

  it('a list that fits in one page: the empty probe, then the top', async () => {
    const rows = denseRows(30);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    let estimate = -1;
    const ids = await collect(fakeClient(fake.url), { lanes: 4, onEstimate: (e) => (estimate = e) });
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, 30));
    expect(estimate).toBe(30);
    expect(fake.apiRequests()).toHaveLength(2);
  });

  it('an empty list is two empty pages', async () => {
    fake = await startFake({ api: (req, res) => serveIndex([], req, res) });
    let estimate = -1;
    expect(await collect(fakeClient(fake.url), { lanes: 4, onEstimate: (e) => (estimate = e) })).toEqual([]);
    expect(estimate).toBe(0);
    expect(fake.apiRequests()).toHaveLength(2);
  });

  it('a short probe page above id 1 is confirmed below it (one empty page), then the top', async () => {
    const rows = denseRows(60, 971);
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    expect((await collect(fakeClient(fake.url), { lanes: 4 })).sort((a, b) => a - b)).toEqual(
      range(971, 1030),
    );
    const reqs = fake
      .apiRequests()
      .map((r) => [
        r.url.searchParams.get('dir'),
        r.url.searchParams.get('id[gt]'),
        r.url.searchParams.get('id[lt_or_eq]'),
      ]);
    expect(reqs).toEqual([
      ['desc', null, null],
      ['asc', null, '970'],
      ['desc', '980', null],
    ]);
  });

  it('a server capping pages at 25 is walked to the end, probe included', async () => {
    const rows = denseRows(300);
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.set('limit', '25');
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(fakeClient(fake.url), { lanes: 4 });
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, 300));
  });

  it('a server that ignores offset costs one page, not a record', async () => {
    const rows = denseRows(1000);
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.delete('offset');
        serveIndex(rows, req, res);
      },
    });
    const ids = await collect(fakeClient(fake.url), { lanes: 4 });
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, 1000));
    // The probe was the top page; the top walk above it finds nothing.
    expect(fake.apiRequests()).toHaveLength(21);
  });

  it('a server that ignores id[lt] on the way down is an error, not a silent stop', async () => {
    const rows = denseRows(1000).filter((r) => r.id <= 950 || r.id % 2 === 0);
    rows.push(...denseRows(25, 1001).map((r) => ({ ...r, id: r.id * 2 })));
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.delete('id[lt]');
        serveIndex(rows, req, res);
      },
    });
    const err = await collect(fakeClient(fake.url), { lanes: 4 }).then(unexpected, caught);
    expect(err.message).toMatch(/did not advance/);
  });

  describe('servers that misbehave fail loudly instead of losing records', () => {
    /** The walk's error against a fake whose every request is first bent by `tweak`. */
    const misbehaving = async (rows: Row[], tweak: (req: { url: URL }) => void, topFirst = false) => {
      fake = await startFake({
        api: (req, res) => {
          tweak(req);
          serveIndex(rows, req, res);
        },
      });
      return collect(fakeClient(fake.url), { lanes: 4, topFirst }).then(unexpected, caught);
    };

    it.each([false, true])('a server that ignores dir (always ascending), topFirst %s', async (topFirst) => {
      const err = await misbehaving(
        denseRows(1000),
        (req) => req.url.searchParams.set('dir', 'asc'),
        topFirst,
      );
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/not in descending id order; the server ignores dir/);
    });

    it.each(['id[lt]', 'id[gt]'])('a server that ignores %s while capping pages at 25', async (filter) => {
      const err = await misbehaving(denseRows(1000), (req) => {
        req.url.searchParams.set('limit', '25');
        req.url.searchParams.delete(filter);
      });
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/did not advance/);
    });

    it('a probe with more records than the limit (the top record repeated in front)', async () => {
      const rows = denseRows(1000);
      fake = await startFake({
        api: (req, res) => {
          if (req.url.searchParams.get('offset') === '50')
            return json(res, 200, [rows[999], ...rows.slice(900, 950).reverse()]);
          serveIndex(rows, req, res);
        },
      });
      const err = await collect(fakeClient(fake.url), { lanes: 4 }).then(unexpected, caught);
      expect(err).toBeInstanceOf(CoupaResponseValidationError);
      expect(err.message).toMatch(/returned 51 records for limit=50/);
    });
  });

  it('a capping server: users created while the top walk goes down are read by the look above it', async () => {
    const rows = denseRows(1000);
    let next = 1001;
    let topPages = 0;
    fake = await startFake({
      api: (req, res) => {
        req.url.searchParams.set('limit', '25');
        const top = req.url.searchParams.get('dir') === 'desc' && req.url.searchParams.has('id[gt]');
        serveIndex(rows, req, res);
        // 30 users created right after the second top page was answered: above everything the
        // top walk has seen, more than one capped page's worth.
        if (top && ++topPages === 2)
          for (let i = 0; i < 30; i++) rows.push({ id: next, login: `user${next++}` });
      },
    });
    const ids = await collect(fakeClient(fake.url), { lanes: 4 });
    expect(topPages).toBeGreaterThanOrEqual(2);
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, 1030));
  });

  it('sparse ids at the top: the gap above the probe is read until it closes', async () => {
    // Ids above 950 are even only. The probe's largest id is 1000; the top page above it holds
    // 1100 down to 1002, which does not touch 1000, so one more page confirms the gap is empty,
    // and, the top having taken two pages, one open-ended page above 1100 looks for records
    // created in between.
    const rows = denseRows(2000).filter((r) => r.id <= 950 || (r.id % 2 === 0 && r.id <= 1100));
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(fakeClient(fake.url), { lanes: 4 });
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    const after = fake
      .apiRequests()
      .slice(1)
      .filter((r) => !bounded(r))
      .map((r) => [
        r.url.searchParams.get('dir'),
        r.url.searchParams.get('id[gt]'),
        r.url.searchParams.get('id[lt]'),
      ]);
    expect(after).toEqual([
      ['desc', '1000', null],
      ['desc', '1000', '1002'],
      ['asc', '1100', null],
    ]);
  });

  it('records created at any time during the walk are read by the top walk, last', async () => {
    const rows = denseRows(1000);
    let next = 1001;
    let bounds = 0;
    fake = await startFake({
      api: (req, res) => {
        serveIndex(rows, req, res);
        // One creation after every bounded page, the last bounded page included: only a walk of
        // the top started after every lane ended sees them all.
        if (bounded(req)) {
          bounds++;
          rows.push({ id: next, login: `user${next}` });
          next++;
        }
      },
    });
    const ids = await collect(fakeClient(fake.url), { lanes: 4 });
    expect(bounds).toBe(18);
    expect(ids.sort((a, b) => a - b)).toEqual(range(1, 1018));
    // The creations push the top page's lowest id up to 969: one more page closes the gap to 951,
    // and one open-ended page above 1018 finds nothing created since.
    expect(fake.apiRequests()).toHaveLength(1 + 18 + 2 + 1);
  });

  it('probe items are validated with the item schema, and a bad one names the probe', async () => {
    const rows = denseRows(120);
    fake = await startFake({
      api: (req, res) => {
        if (req.url.searchParams.get('dir') !== 'desc') return serveIndex(rows, req, res);
        json(res, 200, [{ id: 120, login: 42 }]);
      },
    });
    const err = await collect(fakeClient(fake.url), { lanes: 4 }).then(unexpected, caught);
    expect(err).toBeInstanceOf(CoupaResponseValidationError);
    expect(err.message).toContain('(probe)');
    expect(err.message).toContain('login');
    expect(fake.apiRequests()).toHaveLength(1);
  });

  it('lanes run concurrently: the server sees several pages in flight at once', async () => {
    const slow = await startSlowFake(denseRows(1000), 200);
    expect(await collect(fakeClient(slow.url), { lanes: 5 })).toHaveLength(1000);
    // After the probe, 18 pages are cut into 5 bounded lanes; a client that walked them one after
    // another would never have more than one request open.
    expect(slow.maxInFlight()).toBeGreaterThanOrEqual(4);
  });

  it('sparse ids: every item once', async () => {
    const rows = denseRows(3000).filter((r) => r.id % 7 !== 0 && !(r.id > 800 && r.id < 1500));
    fake = await startFake({ api: (req, res) => serveIndex(rows, req, res) });
    const ids = await collect(fakeClient(fake.url), { lanes: 4 });
    expect(ids.sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    // Per-lane rounding can cost at most one page per lane over the dense count (+ the top's
    // confirming page and its look above).
    expect(fake.apiRequests().length).toBeLessThanOrEqual(Math.ceil(rows.length / 50) + 4 + 2);
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
    const ids = await collect(fakeClient(fake.url), { lanes: 3 });
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of stable) expect(ids).toContain(id);
    // The top, read after every lane, picks up what was created meanwhile.
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
    const c = fakeClient(fake.url);
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
    const err = await collect(fakeClient(fake.url), { lanes: 4 }).then(unexpected, caught);
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
    for await (const page of fakeClient(fake.url).paginate('/api/users', {
      itemSchema: UserSchema,
      lanes: 2,
    }))
      users.push(...page);
    expect(users.map((u) => u.login).sort()).toEqual(rows.map((r) => r.login).sort());
  });
});

describe('laneRanges', () => {
  it('cuts (0, bound] into bounded ranges starting at multiples of the page size', () => {
    expect(laneRanges(950, 4)).toEqual([
      { lo: 0, hi: 250 },
      { lo: 250, hi: 500 },
      { lo: 500, hi: 750 },
      { lo: 750, hi: 950 },
    ]);
    expect(laneRanges(987, 5)).toEqual([
      { lo: 0, hi: 200 },
      { lo: 200, hi: 400 },
      { lo: 400, hi: 600 },
      { lo: 600, hi: 800 },
      { lo: 800, hi: 987 },
    ]);
    expect(laneRanges(70, 5)).toEqual([
      { lo: 0, hi: 50 },
      { lo: 50, hi: 70 },
    ]);
    expect(laneRanges(7, 5)).toEqual([{ lo: 0, hi: 7 }]);
    expect(laneRanges(0, 5)).toEqual([]);
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
          const fetchPage = async (req: PageRequest) => {
            calls++;
            if (calls === 2) {
              for (const d of deletions) ids.delete(d);
              for (const c of creations) ids.add(c);
            }
            const q = req.query;
            let list = [...ids].sort((a, b) => a - b);
            if (q.dir === 'desc') list.reverse();
            if (q['id[gt]']) list = list.filter((id) => id > Number(q['id[gt]']));
            if (q['id[lt]']) list = list.filter((id) => id < Number(q['id[lt]']));
            if (q['id[lt_or_eq]']) list = list.filter((id) => id <= Number(q['id[lt_or_eq]']));
            await Promise.resolve();
            const offset = Number(q.offset ?? 0);
            return list.slice(offset, offset + Number(q.limit)).map((id) => ({ id }));
          };
          const seen: number[] = [];
          for await (const page of paginateById(fetchPage, { lanes })) seen.push(...page.map((p) => p.id));
          expect(new Set(seen).size).toBe(seen.length);
          const survivors = initial.filter((id) => !deletions.includes(id));
          for (const id of survivors) expect(seen).toContain(id);
          for (const id of seen) expect(initial.includes(id) || creations.includes(id)).toBe(true);
          // Creations land above every pre-existing id. Made at the second request, they are
          // before the open-ended walk's first page (the top, read last, with lanes; the next page
          // with one), so every one is seen unless the walk had already ended.
          if (calls >= 2) for (const id of creations) expect(seen).toContain(id);
          // Request count: the floor plus at most two pages per lane (+ one for the top walk): the
          // usual empty end page, and on sparse ids one page confirming that a short page really
          // ended the lane, or that a gap below the top page is empty.
          expect(calls).toBeLessThanOrEqual(
            Math.ceil((initial.length + creations.length) / PAGE_SIZE) + 2 * lanes + 1,
          );
          ids = new Set();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds with pages capped below 50, top first or not, and a record repeated at page edges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(50, 30, 10),
        fc.boolean(),
        fc.boolean(),
        fc.uniqueArray(fc.integer({ min: 1, max: 2000 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 2001, max: 3000 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 12 }),
        async (initial, lanes, cap, topFirst, repeatEdge, deletions, creations, changeAt) => {
          // A plain one-lane walk up trusts its first short page (documented); capping is only
          // promised for the walks the sync uses.
          fc.pre(cap === 50 || lanes > 1 || topFirst);
          const ids = new Set(initial);
          let calls = 0;
          const fetchPage = async (req: PageRequest) => {
            calls++;
            if (calls === changeAt) {
              for (const d of deletions) ids.delete(d);
              for (const c of creations) ids.add(c);
            }
            const q = req.query;
            let list = [...ids].sort((a, b) => a - b);
            if (q.dir === 'desc') list.reverse();
            // A sloppy boundary: the cursor's own record comes back too.
            const slack = repeatEdge ? 1 : 0;
            if (q['id[gt]']) list = list.filter((id) => id > Number(q['id[gt]']) - slack);
            if (q['id[lt]']) list = list.filter((id) => id < Number(q['id[lt]']) + slack);
            if (q['id[lt_or_eq]']) list = list.filter((id) => id <= Number(q['id[lt_or_eq]']));
            await Promise.resolve();
            const offset = Number(q.offset ?? 0);
            return list.slice(offset, offset + Math.min(cap, Number(q.limit))).map((id) => ({ id }));
          };
          const seen: number[] = [];
          for await (const page of paginateById(fetchPage, { lanes, topFirst }))
            seen.push(...page.map((p) => p.id));
          expect(new Set(seen).size).toBe(seen.length);
          for (const id of initial.filter((i) => !deletions.includes(i))) expect(seen).toContain(id);
          for (const id of seen) expect(initial.includes(id) || creations.includes(id)).toBe(true);
          // Without topFirst, whatever was created before the last request is read.
          if (!topFirst && changeAt < calls) for (const id of creations) expect(seen).toContain(id);
        },
      ),
      { numRuns: 300 },
    );
  });
});
