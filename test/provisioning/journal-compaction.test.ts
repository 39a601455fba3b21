import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, linesToKeep, type JournalIntent } from '../../src/connector/provisioning/journal.js';
import { acquireLockFileSync } from '../../src/connector/provisioning/lock-file.js';
import { ROOT } from '../helpers/cli.js';
import { arrange, holdings, provisionerFor, TENANT } from './helpers.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

const BASE = 'https://acme.coupahost.com';
const FIELDS = ['roles', 'user-groups', 'content-groups'] as const;

let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coupa-journal-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small deterministic generator, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function intentFor(userId: number, field: string, removed: number, baseUrl = BASE) {
  return {
    baseUrl,
    userId,
    operation: 'revoke',
    entitlementId: `role:${removed}:member`,
    field,
    intended: [{ id: 1 }, { id: 2, name: 'Buyer' }],
    removed: [{ id: removed }],
  };
}

/**
 * What `recover` reads from a scan: each unfinished entry, and the `removed` ids of the intents
 * after it on the same list (its `removedLater`), in order.
 */
function recoveryView(journal: Journal): { entryId: string; later: string[]; removedLater: number[] }[] {
  const { unfinished, all } = journal.scan();
  return unfinished.map((e) => {
    const after = all.slice(all.findIndex((x) => x.entryId === e.entryId) + 1);
    const same = after.filter((x) => x.baseUrl === e.baseUrl && x.userId === e.userId && x.field === e.field);
    return {
      entryId: e.entryId,
      later: same.map((x) => x.entryId),
      removedLater: same.flatMap((x) => x.removed.map((r) => r.id)),
    };
  });
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).toBe(0);
  return child.pid;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n !== 'journal.jsonl');
}

describe('journal compaction', () => {
  it('stays bounded, and keeps an early unfinished entry with every later line on its list', () => {
    const dir = scratch();
    const threshold = 8192;
    const journal = new Journal(join(dir, 'journal.jsonl'), { compactAboveBytes: threshold });
    const early = journal.begin(intentFor(7, 'roles', 3)); // never finished: a crash after the clear
    const laterOnItsList: string[] = [];
    const random = rng(20261128);
    let maxSize = 0;
    let cycleBytes = 0;
    for (let i = 0; i < 600; i++) {
      const before = statSync(journal.path).size;
      // Five removals early on hit the early entry's own list (user 7, roles): those must all
      // stay; everything else goes to other users, whose finished lines nobody needs.
      const onItsList = i % 20 === 0 && i < 100;
      const userId = onItsList ? 7 : 8 + Math.floor(random() * 12);
      const field = onItsList ? 'roles' : FIELDS[Math.floor(random() * FIELDS.length)]!;
      const e = journal.begin(intentFor(userId, field, 100 + i));
      if (onItsList) laterOnItsList.push(e.entryId);
      const grown = statSync(journal.path).size;
      journal.finish(e.entryId, 'done');
      const after = statSync(journal.path).size;
      if (after > before) cycleBytes = Math.max(cycleBytes, after - before);
      maxSize = Math.max(maxSize, grown, after);
    }
    const uncompacted = 600 * cycleBytes;
    console.log(
      `journal compaction: 600 cycles, ${journal.compactions} compactions, largest file ${maxSize} B ` +
        `(threshold ${threshold} B, one cycle ${cycleBytes} B; ~${uncompacted} B without compaction), ` +
        `final ${statSync(journal.path).size} B`,
    );
    expect(journal.compactions).toBeGreaterThan(10);
    expect(maxSize).toBeLessThanOrEqual(threshold + cycleBytes);
    // The unfinished entry survived every compaction, with every later intent on its list in order.
    const view = recoveryView(journal);
    expect(view.map((v) => v.entryId)).toEqual([early.entryId]);
    expect(view[0]!.later).toEqual(laterOnItsList);
    expect(view[0]!.removedLater).toEqual([100, 120, 140, 160, 180]);
    expect(journal.scan().badLines).toEqual([]);
    // Once it is finished, its list is no longer needed: the next compaction drops it all.
    journal.finish(early.entryId, 'restored');
    journal.compact();
    expect(readFileSync(journal.path, 'utf8')).toBe('');
  });

  it('gives recover the same answers as the uncompacted journal (random mix of finished and unfinished)', () => {
    const dir = scratch();
    const compacted = new Journal(join(dir, 'a.jsonl'), { compactAboveBytes: 2048 });
    const full = new Journal(join(dir, 'b.jsonl'), { compactAboveBytes: Infinity });
    const random = rng(7);
    const open: [JournalIntent, JournalIntent][] = [];
    const pairOf = new Map<string, string>(); // full entryId -> compacted entryId
    for (let i = 0; i < 800; i++) {
      if (open.length && random() < 0.45) {
        // Finish a random open pair (recover finishing an old entry, or an ordinary revoke).
        const [a, b] = open.splice(Math.floor(random() * open.length), 1)[0]!;
        if (random() < 0.9) {
          compacted.finish(a.entryId, 'done');
          full.finish(b.entryId, 'done');
        }
        continue;
      }
      const intent = intentFor(1 + Math.floor(random() * 6), FIELDS[Math.floor(random() * 3)]!, i);
      const a = compacted.begin(intent);
      const b = full.begin(intent);
      pairOf.set(b.entryId, a.entryId);
      open.push([a, b]);
    }
    expect(compacted.compactions).toBeGreaterThan(5);
    const viewA = recoveryView(compacted);
    const viewB = recoveryView(full);
    expect(viewB.length).toBeGreaterThan(10);
    expect(viewA.map((v) => v.entryId)).toEqual(viewB.map((v) => pairOf.get(v.entryId)));
    expect(viewA.map((v) => v.later)).toEqual(viewB.map((v) => v.later.map((id) => pairOf.get(id))));
    expect(viewA.map((v) => v.removedLater)).toEqual(viewB.map((v) => v.removedLater));
    expect(statSync(compacted.path).size).toBeLessThan(statSync(full.path).size);
  });

  it('recover still keeps off what a later removal on the same list took off, after compactions', async () => {
    const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'merge' });
    cleanup.push(t.stop);
    const { sim, dir } = t;
    const journal = new Journal(join(dir, 'journal.jsonl'), { compactAboveBytes: 2048 });
    // As if: revoke of role 3 from [2,3,4] died after the clear; later a revoke of role 4 finished.
    journal.begin({ ...intentFor(9, 'roles', 3, sim.url), intended: [{ id: 2 }, { id: 4 }] });
    const later = journal.begin({ ...intentFor(9, 'roles', 4, sim.url), intended: [{ id: 2 }] });
    journal.finish(later.entryId, 'done');
    for (let i = 0; i < 100; i++) {
      const e = journal.begin(intentFor(1 + (i % 5), 'user-groups', 3, sim.url));
      journal.finish(e.entryId, 'done');
    }
    expect(journal.compactions).toBeGreaterThan(3);
    arrange(sim, 9, 'role', [5]); // cleared, then someone granted role 5
    const report = await provisionerFor(sim, dir).recover();
    expect(report.entries.map((x) => [x.userId, x.outcome])).toEqual([[9, 'restored']]);
    // Role 4 stays off (the later removal's line survived), role 5 is kept, role 2 restored.
    expect(holdings(sim, 9, 'role')).toEqual([2, 5]);
  });

  it('starts a new line after a torn one, so the next entry stays readable', () => {
    const dir = scratch();
    const path = join(dir, 'journal.jsonl');
    writeFileSync(path, '{"type":"intent","entryId":"torn', { mode: 0o600 }); // a crash mid-write
    const journal = new Journal(path);
    const e = journal.begin(intentFor(4, 'roles', 3));
    const scan = journal.scan();
    expect(scan.unfinished.map((x) => x.entryId)).toEqual([e.entryId]);
    expect(scan.badLines).toEqual([1]);
    // A compaction keeps what it cannot read (someone may mean to repair it) and the entry.
    journal.compact();
    expect(journal.scan()).toMatchObject({ badLines: [1], unfinished: [{ entryId: e.entryId }] });
  });

  it('keeps unreadable lines and drops finished intents before and after unfinished ones', () => {
    const line = (o: object) => JSON.stringify(o);
    const i1 = line({ type: 'intent', entryId: 'a', time: 't', ...intentFor(1, 'roles', 3) });
    const d1 = line({ type: 'done', entryId: 'a', time: 't', result: 'done' });
    const i2 = line({ type: 'intent', entryId: 'b', time: 't', ...intentFor(2, 'roles', 3) });
    const i3 = line({ type: 'intent', entryId: 'c', time: 't', ...intentFor(1, 'roles', 4) });
    const d3 = line({ type: 'done', entryId: 'c', time: 't', result: 'done' });
    const i4 = line({ type: 'intent', entryId: 'd', time: 't', ...intentFor(2, 'roles', 5) });
    const d4 = line({ type: 'done', entryId: 'd', time: 't', result: 'done' });
    const i5 = line({ type: 'intent', entryId: 'e', time: 't', ...intentFor(2, 'user-groups', 5) });
    const d5 = line({ type: 'done', entryId: 'e', time: 't', result: 'done' });
    const text = [i1, '{oops', i2, i3, d1, d3, i4, i5, d5, d4, ''].join('\n');
    // a: finished, nothing open on its list before it → dropped (its `done` too, though it comes
    // after b); c: finished, user 1 has no open entry → dropped; d: after open b on user 2 roles →
    // kept with its `done`; e: other field → dropped.
    expect(linesToKeep(text)).toEqual(['{oops', i2, i4, d4]);
  });
});

describe('journal shared by several processes', () => {
  /** Runs `count` children that each do `pairs` begin/finish pairs on one journal, started together. */
  async function runChildren(
    path: string,
    count: number,
    pairs: number,
  ): Promise<{ unfinished: string[]; compactions: number }[]> {
    const moduleUrl = pathToFileURL(join(ROOT, 'src/connector/provisioning/journal.ts')).href;
    const go = `${path}.go`;
    const script = `
      import { existsSync } from 'node:fs';
      const { Journal } = await import(${JSON.stringify(moduleUrl)});
      const idx = Number(process.argv[1]);
      const j = new Journal(${JSON.stringify(path)}, { compactAboveBytes: 1500 });
      process.stdout.write('ready\\n');
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
      const unfinished = [];
      for (let i = 0; i < ${pairs}; i++) {
        // Every 9th stays open, on a list of its own; the rest are finished on shared users.
        const keep = i % 9 === 4;
        const e = j.begin({
          baseUrl: ${JSON.stringify(BASE)}, userId: keep ? idx * 1000 + i : 1 + (i % 7),
          operation: 'revoke', entitlementId: 'role:3:member', field: 'roles',
          intended: [{ id: 1 }], removed: [{ id: 3 }],
        });
        if (keep) unfinished.push(e.entryId);
        else j.finish(e.entryId, 'done');
      }
      process.stdout.write(JSON.stringify({ unfinished, compactions: j.compactions }) + '\\n');
    `;
    let ready = 0;
    const runs = Array.from(
      { length: count },
      (_, idx) =>
        new Promise<{ code: number | null; out: string; err: string }>((done) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', '--input-type=module', '-e', script, String(idx + 1)],
            { cwd: ROOT },
          );
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => {
            out += String(d);
            if (String(d).includes('ready') && ++ready === count) writeFileSync(go, '');
          });
          child.stderr.on('data', (d) => (err += String(d)));
          child.on('close', (code) => done({ code, out, err }));
        }),
    );
    const results = await Promise.all(runs);
    rmSync(go, { force: true });
    return results.map((r) => {
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.out.split('\n').filter(Boolean).at(-1)!) as {
        unfinished: string[];
        compactions: number;
      };
    });
  }

  it('loses no line while compactions race with appends from other processes', async () => {
    // One round shows a loss about every other run without the journal lock; the test after this
    // one shows, deterministically, that an append waits for the lock.
    for (const round of [1]) {
      const dir = scratch();
      const path = join(dir, 'journal.jsonl');
      const results = await runChildren(path, 4, 360);
      const expected = results.flatMap((r) => r.unfinished);
      const compactions = results.reduce((n, r) => n + r.compactions, 0);
      const text = readFileSync(path, 'utf8');
      const scan = new Journal(path).scan();
      const found = new Set(scan.unfinished.map((e) => e.entryId));
      const lost = expected.filter((id) => !found.has(id)).length;
      console.log(
        `journal concurrency round ${round}: 4 processes x 360 pairs, ${compactions} compactions, ` +
          `${expected.length} unfinished expected, ${scan.unfinished.length} found, ${lost} intents lost, ` +
          `${found.size - (expected.length - lost)} finished ones whose done line was lost, ` +
          `${scan.badLines.length} bad lines, final file ${Buffer.byteLength(text)} B`,
      );
      expect(compactions).toBeGreaterThan(10);
      expect(expected).toHaveLength(4 * 40);
      expect(scan.badLines).toEqual([]);
      expect(scan.unfinished.map((e) => e.entryId).sort()).toEqual([...expected].sort());
      for (const id of expected) expect(text.split(id).length - 1).toBe(1); // exactly once
      expect(leftovers(dir)).toEqual([]); // no lock, temp or marker file left behind
    }
  }, 30_000);

  it('makes an append from another process wait while the journal lock is held', async () => {
    const dir = scratch();
    const path = join(dir, 'journal.jsonl');
    const journal = new Journal(path);
    const release = acquireLockFileSync(journal.lockPath, {
      name: 'journal',
      timeoutMs: 1_000,
      maxAgeMs: 30_000,
    });
    const moduleUrl = pathToFileURL(join(ROOT, 'src/connector/provisioning/journal.ts')).href;
    const script = `
      const { Journal } = await import(${JSON.stringify(moduleUrl)});
      process.stdout.write('ready\\n');
      new Journal(${JSON.stringify(path)}).begin({
        baseUrl: ${JSON.stringify(BASE)}, userId: 1, operation: 'revoke', entitlementId: 'role:3:member',
        field: 'roles', intended: [], removed: [{ id: 3 }],
      });
      process.stdout.write('appended\\n');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 300));
      expect(out).not.toContain('appended');
      expect(existsSync(path) ? readFileSync(path, 'utf8') : '').toBe('');
    } finally {
      release();
    }
    expect(await closed).toBe(0);
    expect(out).toContain('appended');
    expect(new Journal(path).scan().unfinished).toHaveLength(1);
  }, 30_000);

  it('survives a process killed at any point: nothing it had journaled is lost, its lock is broken', async () => {
    const dir = scratch();
    const path = join(dir, 'journal.jsonl');
    const moduleUrl = pathToFileURL(join(ROOT, 'src/connector/provisioning/journal.ts')).href;
    // Reports every open entry only after begin() returned, i.e. after it was fsynced.
    const script = `
      const { Journal } = await import(${JSON.stringify(moduleUrl)});
      const j = new Journal(${JSON.stringify(path)}, { compactAboveBytes: 1500 });
      for (let i = 0; ; i++) {
        const e = j.begin({
          baseUrl: ${JSON.stringify(BASE)}, userId: i % 11 === 0 ? 100000 + i : 1 + (i % 5),
          operation: 'revoke', entitlementId: 'role:3:member', field: 'roles',
          intended: [{ id: 1 }], removed: [{ id: 3 }],
        });
        if (i % 11 === 0) process.stdout.write(e.entryId + '\\n');
        else j.finish(e.entryId, 'done');
      }
    `;
    const reported: string[] = [];
    const random = rng(3);
    const seen = { lockHeld: 0, lockEmpty: 0, tempLeft: 0 };
    const lockPath = `${path}.lock`;
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      // Wait until it is well into its loop, then kill it without warning at a random moment.
      while (out.split('\n').length < 4) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20 + random() * 80));
      child.kill('SIGKILL');
      await closed;
      reported.push(...out.split('\n').filter((l) => /^[0-9a-f-]{36}$/.test(l)));
      const scan = new Journal(path).scan();
      const open = new Set(scan.unfinished.map((e) => e.entryId));
      expect(reported.filter((id) => !open.has(id))).toEqual([]);
      if (leftovers(dir).some((n) => n.includes('.compact-'))) seen.tempLeft++;
      if (existsSync(lockPath)) {
        seen.lockHeld++;
        if (readFileSync(lockPath, 'utf8') === '') {
          // Killed between creating the lock file and writing its holder: a live creator could be
          // there too, so it is only broken after 10 s. Age it instead of waiting in the test.
          seen.lockEmpty++;
          const past = new Date(Date.now() - 11_000);
          utimesSync(lockPath, past, past);
        }
      }
    }
    console.log(
      `journal kill test: 4 kills, lock held at ${seen.lockHeld} (empty at ${seen.lockEmpty}), ` +
        `compaction temp file left by ${seen.tempLeft}, ${reported.length} open entries reported`,
    );
    // The next writer breaks the last child's lock (dead pid) and its compaction cleans up.
    const journal = new Journal(path, { compactAboveBytes: 1 });
    const started = Date.now();
    const e = journal.begin(intentFor(1, 'roles', 3));
    journal.finish(e.entryId, 'done');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(journal.compactions).toBe(1);
    const open = journal.scan().unfinished.map((x) => x.entryId);
    // Everything reported is there; at most one more per kill (begun, killed before the report or the finish).
    expect(reported.filter((id) => !open.includes(id))).toEqual([]);
    expect(open.length - reported.length).toBeLessThanOrEqual(4);
    expect(new Set(open).size).toBe(open.length);
    expect(leftovers(dir)).toEqual([]);
  }, 30_000);

  it('ignores and removes a temp file left by an interrupted compaction, and breaks a dead holder lock', () => {
    const dir = scratch();
    const path = join(dir, 'journal.jsonl');
    const journal = new Journal(path, { compactAboveBytes: 600 });
    const open = journal.begin(intentFor(9, 'roles', 3));
    // A compaction that died between writing its temp file and the rename, holding the lock.
    const temp = `${path}.compact-${deadPid()}-deadbeef.tmp`;
    writeFileSync(temp, '{"type":"done","entryId":"' + open.entryId + '"}\n');
    writeFileSync(
      journal.lockPath,
      JSON.stringify({
        pid: deadPid(),
        hostname: hostname(),
        startedAt: new Date().toISOString(),
        name: 'journal',
        token: 'dead-holder',
      }),
    );
    expect(journal.scan().unfinished.map((e) => e.entryId)).toEqual([open.entryId]);
    const started = Date.now();
    for (let i = 0; i < 4; i++) journal.finish(journal.begin(intentFor(1, 'roles', 3)).entryId, 'done');
    expect(Date.now() - started).toBeLessThan(2_000); // broken at once, not after the 30 s max age
    expect(journal.compactions).toBeGreaterThan(0);
    expect(existsSync(temp)).toBe(false);
    expect(existsSync(journal.lockPath)).toBe(false);
    expect(journal.scan()).toMatchObject({ badLines: [], unfinished: [{ entryId: open.entryId }] });
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
