import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { cli, simulatorFlags } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { openRawDb } from '../c1z/helpers.js';
import { testSimulator } from '../helpers/simulator.js';

/**
 * Acceptance for issue 15: sync, change the tenant (grants added and removed, a user deactivated),
 * sync again into the same file; `diff` reports exactly those changes, and baton's reader rules
 * (plain SQL on the raw file, no code of ours) still pick the new sync.
 */
describe('sync twice, then diff', () => {
  let sim: Simulator;
  const tmp = tempDir();
  const out = join(tmp.dir, 'sync.c1z');
  const syncIds: string[] = [];
  const changed = {} as {
    gainer: { id: number; email: string };
    role: { id: number; name: string };
    loser: { id: number; email: string };
    lostRole: { id: number; name: string };
    licensee: { id: number };
    license: string;
    deactivated: { id: number; email: string };
  };

  const sync = async () => {
    const run = await cli([
      'sync',
      ...simulatorFlags(sim),
      '-f',
      out,
      '--log-format',
      'json',
      '--no-progress',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const done = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; syncId: string })
      .find((l) => l.msg === 'sync finished');
    return done!.syncId;
  };

  beforeAll(async () => {
    sim = await testSimulator({ tenant: { seed: 15, users: 80 } });
    syncIds.push(await sync());

    const gt = sim.groundTruth();
    const people = gt.users.filter((u) => !u.apiUser && u.active);
    const rolesOf = (uid: number) => gt.memberships.roles.filter(([u]) => u === uid).map(([, r]) => r);
    // A user who gains a role they do not hold.
    const gainer = people.find((u) => gt.roles.some((r) => !rolesOf(u.id).includes(r.id)))!;
    const role = gt.roles.find((r) => !rolesOf(gainer.id).includes(r.id))!;
    sim.tenant.updateUser(
      gainer.id,
      { roles: [...rolesOf(gainer.id), role.id].map((id) => ({ id })) },
      { arrayMode: 'replace' },
    );
    // Another loses one of theirs.
    const loser = people.find((u) => u.id !== gainer.id && rolesOf(u.id).length > 0)!;
    const lostRole = rolesOf(loser.id)[0]!;
    sim.tenant.updateUser(
      loser.id,
      {
        roles: rolesOf(loser.id)
          .slice(1)
          .map((id) => ({ id })),
      },
      { arrayMode: 'replace' },
    );
    // A third gets a license.
    const licensesOf = (uid: number) => gt.memberships.licenses.filter(([u]) => u === uid).map(([, f]) => f);
    const licensee = people.find(
      (u) =>
        u.id !== gainer.id && u.id !== loser.id && gt.licenseFlags.some((f) => !licensesOf(u.id).includes(f)),
    )!;
    const license = gt.licenseFlags.find((f) => !licensesOf(licensee.id).includes(f))!;
    sim.tenant.setLicense(licensee.id, license, true);
    // A fourth is deactivated.
    const deactivated = people.find((u) => ![gainer.id, loser.id, licensee.id].includes(u.id))!;
    sim.tenant.updateUser(deactivated.id, { active: false });
    Object.assign(changed, {
      gainer,
      role,
      loser,
      lostRole: gt.roles.find((r) => r.id === lostRole)!,
      licensee,
      license,
      deactivated,
    });

    syncIds.push(await sync());
  }, 120_000);
  afterAll(async () => {
    await sim.close();
    tmp.cleanup();
  });

  const licenseId = (flag: string) => (flag === 'treasury-user' ? 'treasury_user' : flag);

  it("baton's reader rules pick the second sync; the first is the previous one", () => {
    const db = openRawDb(out, tmp.dir);
    try {
      const picks = db
        .prepare(`select sync_id from v1_sync_runs where ended_at is not null order by ended_at desc`)
        .all() as { sync_id: string }[];
      expect(picks.map((p) => p.sync_id)).toEqual([syncIds[1], syncIds[0]]);
    } finally {
      db.close();
    }
  });

  it('-o json is exactly the changes, in baton C1ZDiffOutput shape', async () => {
    const run = await cli(['diff', '-f', out, '-o', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const d = JSON.parse(run.stdout) as {
      resources: { created?: unknown[]; deleted?: unknown[]; modified?: { id: { resource: string } }[] };
      entitlements: { created?: unknown[]; deleted?: unknown[]; modified?: unknown[] };
      grants: { created?: { id: string }[]; deleted?: { id: string }[]; modified?: unknown[] };
    };
    expect(Object.keys(d).sort()).toEqual(['entitlements', 'grants', 'resources']);
    expect(d.entitlements).toEqual({});
    expect(d.resources.created).toBeUndefined();
    expect(d.resources.deleted).toBeUndefined();
    expect(d.resources.modified!.map((r) => r.id.resource)).toEqual([String(changed.deactivated.id)]);
    expect(d.grants.created!.map((g) => g.id).sort()).toEqual(
      [
        `role:${changed.role.id}:member:user:${changed.gainer.id}`,
        `license:${licenseId(changed.license)}:assigned:user:${changed.licensee.id}`,
      ].sort(),
    );
    expect(d.grants.deleted!.map((g) => g.id)).toEqual([
      `role:${changed.lostRole.id}:member:user:${changed.loser.id}`,
    ]);
    expect(d.grants.modified).toBeUndefined();
  });

  it('the console reads like a change report', async () => {
    const run = await cli(['diff', '-f', out]);
    expect(run.code, run.stderr).toBe(0);
    const text = run.stdout;
    expect(text).toContain(`Changes from sync ${syncIds[0]}`);
    expect(text).toContain(`to sync ${syncIds[1]}`);
    expect(text).toContain(
      `user ${changed.gainer.id} ${changed.gainer.email} gained role ${changed.role.name}`,
    );
    expect(text).toContain(
      `user ${changed.loser.id} ${changed.loser.email} lost role ${changed.lostRole.name}`,
    );
    expect(text).toContain(`user ${changed.deactivated.id} ${changed.deactivated.email} was deactivated`);
    expect(text).toMatch(new RegExp(`user ${changed.licensee.id} \\S+ gained license `));
    expect(text).toContain('grants: 2 added, 1 removed');
    // Four changes, four sentences: nothing else is reported.
    expect(text.split('\n').filter((l) => /^ {2}\S/.test(l))).toHaveLength(4);
  });

  it('csv has one row per change; filters by principal and type narrow it', async () => {
    const csv = (await cli(['diff', '-f', out, '-o', 'csv'])).stdout.trim().split('\n');
    expect(csv[0]).toMatch(/^Change,Object,ID,/);
    expect(csv).toHaveLength(1 + 4);
    const mine = JSON.parse(
      (await cli(['diff', '-f', out, '-o', 'json', '--principal', `user:${changed.gainer.id}`])).stdout,
    );
    expect(mine.grants.created.map((g: { id: string }) => g.id)).toEqual([
      `role:${changed.role.id}:member:user:${changed.gainer.id}`,
    ]);
    expect(mine.grants.deleted).toBeUndefined();
    expect(mine.resources).toEqual({});
    const licenses = JSON.parse((await cli(['diff', '-f', out, '-o', 'json', '-t', 'license'])).stdout);
    expect(licenses.grants.created).toHaveLength(1);
    expect(licenses.grants.deleted).toBeUndefined();
    expect(licenses.resources).toEqual({});
  });

  it('--exit-code: 1 when something changed, 0 when nothing did', async () => {
    expect((await cli(['diff', '-f', out, '--exit-code'])).code).toBe(1);
    expect((await cli(['diff', '-f', out])).code).toBe(0);
    const same = await cli(['diff', '-f', out, '--base-sync', syncIds[1]!, '--exit-code']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('No changes.');
    // Reversed, the changes swap sides.
    const back = JSON.parse(
      (
        await cli([
          'diff',
          '-f',
          out,
          '-o',
          'json',
          '--base-sync',
          syncIds[1]!,
          '--applied-sync',
          syncIds[0]!,
        ])
      ).stdout,
    );
    expect(back.grants.deleted).toHaveLength(2);
    expect(back.grants.created).toHaveLength(1);
  });

  it('syncs lists both runs; two files compare like two syncs', async () => {
    const runs = JSON.parse((await cli(['syncs', '-f', out, '-o', 'json'])).stdout) as {
      syncs: { id: string }[];
    };
    expect(runs.syncs.map((s) => s.id)).toEqual(syncIds);
    const first = join(tmp.dir, 'first.c1z');
    const keepOne = await cli(
      ['sync', ...simulatorFlags(sim), '-f', first, '--no-progress', '--log-level', 'error'],
      {
        env: { BATON_KEEP_SYNC_COUNT: '1' },
      },
    );
    expect(keepOne.code, keepOne.stderr).toBe(0);
    // The tenant has not changed since the second sync: the files agree.
    const two = await cli(['diff', out, first, '--exit-code']);
    expect(two.stdout).toContain('No changes.');
    expect(two.code).toBe(0);
  });

  it('one finished sync: a clear usage error that names the way forward', async () => {
    const single = join(tmp.dir, 'first.c1z');
    const run = await cli(['diff', '-f', single]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('holds one finished sync');
    expect(run.stderr).toContain('coupa-connector diff old.c1z new.c1z');
  });
});
