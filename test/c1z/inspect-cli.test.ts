import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { createInspectCommand } from '../../src/cli/commands/inspect.js';
import { csvField, type InspectIo } from '../../src/cli/commands/inspect-output.js';
import { ConfigError, ExitCode, formatError } from '../../src/errors.js';
import { createPrincipalsCommand } from '../../src/cli/commands/principals.js';
import { FIXTURE, openRawDb, sampleData, useTempDirs } from './helpers.js';
import { C1zWriter } from '../../src/c1z/writer.js';
import { GrantSchema } from '../../src/c1z/messages.js';
import { create } from '@bufbuild/protobuf';

const tempDir = useTempDirs();
const REPO = resolve(import.meta.dirname, '../..');

/** Runs one inspector command in-process and captures what it prints. */
async function inspect(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: InspectIo = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  };
  const program = new Command('coupa-connector').exitOverride();
  createInspectCommand(io).register(program);
  await program.parseAsync(args, { from: 'user' });
  return { out, err };
}

/** inspect(), with the principals command registered too. */
async function inspectAll(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: InspectIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const program = new Command('coupa-connector').exitOverride();
  createInspectCommand(io).register(program);
  createPrincipalsCommand(io).register(program);
  await program.parseAsync(args, { from: 'user' });
  return { out, err };
}

function fixtureCount(sql: string): number {
  const db = openRawDb(FIXTURE, tempDir());
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Facts computed with plain SQL on the fixture, independent of the inspector code. */
function fixtureFacts() {
  const db = openRawDb(FIXTURE, tempDir());
  try {
    const dangling = db
      .prepare(
        `select g.external_id id, g.principal_resource_id pid from v1_grants g
         left join v1_resources r on r.external_id = g.principal_resource_type_id || ':' || g.principal_resource_id
         where r.id is null order by g.id`,
      )
      .all() as { id: string; pid: string }[];
    const userWithGrants = db
      .prepare(
        `select principal_resource_id pid, count(*) n from v1_grants g
         join v1_resources r on r.external_id = 'user:' || g.principal_resource_id
         group by pid order by n desc, pid limit 1`,
      )
      .get() as { pid: string; n: number };
    const role22Holders = (
      db.prepare(`select count(*) n from v1_grants where entitlement_id = 'role:22:member'`).get() as {
        n: number;
      }
    ).n;
    const danglingUser = dangling[0]!.pid;
    const danglingUserGrants = dangling.filter((d) => d.pid === danglingUser).length;
    return { dangling, userWithGrants, role22Holders, danglingUser, danglingUserGrants };
  } finally {
    db.close();
  }
}

describe('inspector commands on the Go fixture', () => {
  const facts = fixtureFacts();

  it('the fixture has dangling grants to test against (baton-coupa kept grants of skipped API users)', () => {
    expect(facts.dangling.length).toBeGreaterThan(0);
  });

  it('stats prints the README counts', async () => {
    const { out } = await inspect('stats', '-f', FIXTURE);
    expect(out).toMatch(/resources: user\s+990\n/);
    expect(out).toMatch(/resources \(total\)\s+1068\n/);
    expect(out).toMatch(/entitlements\s+78\n/);
    expect(out).toMatch(/grants \(total\)\s+6119\n/);
    const json = JSON.parse((await inspect('stats', '-f', FIXTURE, '-o', 'json')).out);
    // baton's spelling of the flag works too.
    expect((await inspect('stats', '-f', FIXTURE, '--output-format', 'json')).out).toBe(
      JSON.stringify(json, null, 2) + '\n',
    );
    expect(json.finished).toBe(true);
    expect(json.stats.grantsByResourceType).toEqual({ group: 2482, license: 2411, role: 1226 });
  });

  it('grants shows dangling grants flagged, counts them on stderr, and does not fail', async () => {
    const { out, err } = await inspect('grants', '-f', FIXTURE);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 6119);
    expect(lines[0]).toMatch(/^ID\s+Entitlement\s+Entitlement Name\s+Principal\s+Principal Name\s+Missing$/);
    const flagged = lines.filter((l) => /MISSING: principal$/.test(l));
    expect(flagged).toHaveLength(facts.dangling.length);
    for (const d of facts.dangling) expect(out).toMatch(new RegExp(`^${d.id}\\s`, 'm'));
    expect(err).toContain(
      `warning: ${facts.dangling.length} grant(s) reference objects absent from the file`,
    );
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it("-o json is baton's GrantListOutput; a dangling grant lacks the part the file lacks", async () => {
    const { out } = await inspect('grants', '-f', FIXTURE, '-o', 'json');
    const doc = JSON.parse(out) as {
      grants: {
        grant: { id: string; principal: { id: { resourceType: string } } };
        principal?: { displayName: string };
        entitlement?: { id: string };
      }[];
    };
    expect(Object.keys(doc)).toEqual(['grants']);
    expect(doc.grants).toHaveLength(6119);
    const dangling = doc.grants.filter((g) => g.principal === undefined);
    expect(dangling.map((g) => g.grant.id)).toEqual(facts.dangling.map((d) => d.id));
    expect(doc.grants.every((g) => g.entitlement !== undefined)).toBe(true);
    expect(doc.grants[0]!.grant.principal.id.resourceType).toBe('user');

    const res = JSON.parse(
      (await inspect('resources', '-f', FIXTURE, '--resource-type', 'user', '-o', 'json')).out,
    );
    expect(res.resources).toHaveLength(990);
    const trait = res.resources[0].resource.annotations[0];
    expect(trait['@type']).toBe('type.googleapis.com/c1.connector.v2.UserTrait');
    expect(trait.status.status).toMatch(/^STATUS_(ENABLED|DISABLED)$/);
    expect(res.resources[0].resourceType.id).toBe('user');
  });

  it('-o csv has a header and one quoted-safe line per row', async () => {
    const { out } = await inspect('entitlements', '-f', FIXTURE, '-o', 'csv');
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('ID,Display Name,Resource,Purpose,Slug,Members');
    expect(lines).toHaveLength(1 + 78);
    const treasury = fixtureCount(
      `select count(*) n from v1_grants where entitlement_id = 'license:treasury_user:assigned'`,
    );
    expect(lines).toContain(
      `license:treasury_user:assigned,Treasury License,license:treasury_user,assignment,assigned,${treasury}`,
    );
    // Member counts add up to the grants of the file (each grant names one entitlement).
    const total = lines.slice(1).reduce((sum, l) => sum + Number(l.split(',').at(-1)), 0);
    expect(total).toBe(6119);
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField('=cmd()')).toBe("'=cmd()");
  });

  it('filters: --resource-type, --resource, --entitlement, --principal', async () => {
    const roles = (await inspect('resources', '-f', FIXTURE, '--resource-type', 'role', '-o', 'csv')).out
      .trimEnd()
      .split('\n');
    expect(roles).toHaveLength(1 + 25);
    const ents = (
      await inspect('entitlements', '-f', FIXTURE, '--resource', 'license:treasury_user', '-o', 'csv')
    ).out;
    expect(ents.trimEnd().split('\n')).toHaveLength(2);
    const byId = (
      await inspect(
        'entitlements',
        '-f',
        FIXTURE,
        '--resource-type',
        'license',
        '--resource',
        'treasury_user',
        '-o',
        'csv',
      )
    ).out;
    expect(byId).toBe(ents);
    const { pid, n } = facts.userWithGrants;
    const mine = JSON.parse(
      (await inspect('grants', '-f', FIXTURE, '--principal', `user:${pid}`, '-o', 'json')).out,
    );
    expect(mine.grants).toHaveLength(n);
    const bare = JSON.parse((await inspect('grants', '-f', FIXTURE, '--principal', pid, '-o', 'json')).out);
    expect(bare.grants).toHaveLength(n);
    const forEnt = JSON.parse(
      (await inspect('grants', '-f', FIXTURE, '--entitlement', 'role:22:member', '-o', 'json')).out,
    );
    expect(forEnt.grants).toHaveLength(facts.role22Holders);
    await expect(inspect('entitlements', '-f', FIXTURE, '--resource', 'treasury_user')).rejects.toThrow(
      ConfigError,
    );
  });

  it('access --principal lists every entitlement the user holds, with names', async () => {
    const { pid, n } = facts.userWithGrants;
    const { out } = await inspect('access', '-f', FIXTURE, '--principal', `user:${pid}`);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Principal user:${pid} \\(.+\\)$`));
    // The second line says who it is: baton-coupa's files carry the email as login and the active flag.
    expect(lines[1]).toMatch(
      /^ {2}login \S+@\S+ {2}email \S+@\S+ {2}status (enabled|disabled) {2}type human {2}manager -$/,
    );
    expect(lines.slice(5)).toHaveLength(n);
    const json = JSON.parse(
      (await inspect('access', '-f', FIXTURE, '--principal', `user:${pid}`, '-o', 'json')).out,
    );
    expect(json.principal.missing).toBe(false);
    expect(json.entitlements).toHaveLength(n);
    for (const e of json.entitlements) {
      expect(e.entitlementDisplayName).toEqual(expect.any(String));
      expect(e.resourceDisplayName).toEqual(expect.any(String));
      expect(e.dangling).toBe(false);
    }
  });

  it('access --principal for a user absent from the file shows its grants, flagged', async () => {
    const { out, err } = await inspect('access', '-f', FIXTURE, '--principal', `user:${facts.danglingUser}`);
    expect(out.split('\n')[0]).toBe(`Principal user:${facts.danglingUser} [MISSING from the file]`);
    expect(out.match(/MISSING: principal/g)).toHaveLength(facts.danglingUserGrants);
    expect(err).toMatch(new RegExp(`warning: ${facts.danglingUserGrants} grant\\(s\\)`));
  });

  it('access --entitlement lists every principal holding it, with display names', async () => {
    const json = JSON.parse(
      (await inspect('access', '-f', FIXTURE, '--entitlement', 'role:22:member', '-o', 'json')).out,
    );
    expect(json.entitlement).toMatchObject({
      id: 'role:22:member',
      resourceType: 'role',
      resourceId: '22',
      missing: false,
    });
    expect(json.principals).toHaveLength(facts.role22Holders);
    expect(json.principals.every((p: { principalType: string }) => p.principalType === 'user')).toBe(true);
    const csv = (await inspect('access', '-f', FIXTURE, '--entitlement', 'role:22:member', '-o', 'csv')).out;
    expect(csv.split('\n')[0]).toBe(
      'Principal,Principal Name,Login,Email,Status,User Type,Manager,Grant,Missing',
    );
    // Every present holder has its login and status filled in; only dangling ones lack them.
    for (const p of json.principals as {
      dangling: boolean;
      user: { login: string; status: string } | null;
    }[]) {
      if (p.dangling) expect(p.user).toBeNull();
      else
        expect(p.user).toMatchObject({
          login: expect.stringContaining('@'),
          status: expect.stringMatching(/^(enabled|disabled)$/),
        });
    }

    // An entitlement nobody holds and the file lacks is a typo: a usage error, not an empty table.
    await expect(inspect('access', '-f', FIXTURE, '--entitlement', 'role:999:member')).rejects.toThrow(
      /There is no entitlement role:999:member/,
    );
  });

  it('access needs exactly one of --principal / --entitlement', async () => {
    await expect(inspect('access', '-f', FIXTURE)).rejects.toThrow(/exactly one of --principal/);
    await expect(
      inspect('access', '-f', FIXTURE, '--principal', 'user:1', '--entitlement', 'x'),
    ).rejects.toThrow(ConfigError);
  });
});

describe('dangling references of every kind', () => {
  it('flags a grant whose entitlement, principal and resource are all absent, and counts each', async () => {
    const dir = tempDir();
    const s = sampleData(2);
    const w = await C1zWriter.create(join(dir, 'd.c1z'));
    s.resourceTypes.forEach((x) => w.putResourceType(x));
    s.resources.filter((r) => r.id!.resourceType === 'user').forEach((r) => w.putResource(r));
    // Only the license is written; the group's and role's grants point at nothing but users.
    s.resources.filter((r) => r.id!.resourceType === 'license').forEach((r) => w.putResource(r));
    s.entitlements.filter((e) => e.id.startsWith('license:')).forEach((e) => w.putEntitlement(e));
    const ghost = create(GrantSchema, {
      id: 'group:404:member:user:999',
      entitlement: { id: 'group:404:member', resource: { id: { resourceType: 'group', resource: '404' } } },
      principal: { id: { resourceType: 'user', resource: '999' } },
    });
    w.putGrant(ghost);
    s.grants.filter((g) => g.entitlement!.id.startsWith('license:')).forEach((g) => w.putGrant(g));
    await w.finish();

    const { out, err } = await inspect('grants', '-f', join(dir, 'd.c1z'), '-o', 'csv');
    const lines = out.trimEnd().split('\n');
    expect(lines).toContain(
      'group:404:member:user:999,group:404:member,,user:999,,"MISSING: entitlement,principal,resource"',
    );
    expect(lines.filter((l) => l.includes('MISSING'))).toHaveLength(1);
    expect(err).toContain(
      '1 grant(s) reference objects absent from the file (1 missing principal, 1 missing entitlement, 1 missing resource)',
    );
  });
});

describe('the real CLI', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/cli/main.ts').then((m) => m.main(['node', 'coupa-connector', ...process.argv.slice(1)]))",
        ...args,
      ],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
    );

  it('reads BATON_FILE, prints resource types and exits 0', () => {
    const r = cli(['resource-types'], { BATON_FILE: FIXTURE });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+Display Name\s+Traits$/m);
    expect(r.stdout).toMatch(/^user\s+User\s+user$/m);
    expect(r.stdout).toMatch(/^license\s+license$/m);
  });

  it('a bad file exits with the usage code and one clear line', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'v3.c1z'), 'C1Z3\0rest');
    const r = cli(['grants', '-f', join(dir, 'v3.c1z')]);
    expect(r.status).toBe(ExitCode.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/v3 \(Pebble\) files are not supported/);
  });
});

describe('a filter naming nothing in the file is a usage error, not an empty table', () => {
  it.each([
    [
      ['resources', '-t', 'nosuchtype'],
      /There is no resource type nosuchtype in .*; `resource-types -f .*` lists them/,
    ],
    [['entitlements', '-t', 'rol'], /There is no resource type rol in /],
    [['grants', '-t', 'rol', '-o', 'json'], /There is no resource type rol in /],
    [['grants', '-e', 'role:99:member'], /There is no entitlement role:99:member in .*`entitlements -f /],
    [['grants', '-e', 'role:99:member', '-o', 'json'], /There is no entitlement role:99:member/],
    [
      ['entitlements', '-r', 'group:99999'],
      /There is no resource group:99999 in .*`resources -f .* -t group`/,
    ],
    [['grants', '-r', 'role:99999', '-o', 'csv'], /There is no resource role:99999 in /],
    [['grants', '--principal', 'user:99999999'], /There is no principal user:99999999 in .*`principals -f /],
    [['grants', '--principal', '99999999'], /There is no principal 99999999 in /],
    [['principals', '-e', 'role:99:member'], /There is no entitlement role:99:member/],
    [['principals', '-t', 'role', '-r', '99999'], /There is no resource role:99999 in /],
  ])('%j: exit 2 with where to look', async (args, message) => {
    const err = await inspectAll(...args, '-f', FIXTURE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(ExitCode.usage);
    expect(formatError(err)).toMatch(message);
  });

  it('filters that name something the file has still list it, dangling principals included', async () => {
    const facts = fixtureFacts();
    expect(
      (await inspectAll('resources', '-t', 'role', '-f', FIXTURE, '-o', 'csv')).out.split('\n'),
    ).toHaveLength(1 + 25 + 1);
    const { out } = await inspectAll(
      'grants',
      '--principal',
      `user:${facts.danglingUser}`,
      '-f',
      FIXTURE,
      '-o',
      'csv',
    );
    expect(out.trimEnd().split('\n')).toHaveLength(1 + facts.danglingUserGrants);
  });
});
