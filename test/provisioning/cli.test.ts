import { stateRoot, tenantStatePaths } from '../../src/connector/provisioning/state-dir.js';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { main } from '../../src/cli/main.js';
import { Journal } from '../../src/connector/provisioning/index.js';
import { cli as spawnCli, simulatorFlags } from '../helpers/cli.js';
import { arrange, holdings, writeCount, TENANT } from './helpers.js';
import { testSimulatorWithDir } from '../helpers/simulator.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in this process (the simulator must keep serving, and a spawn per case would cost
 * a second each), capturing what it prints and the exit code it sets.
 */
async function cli(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)),
    true
  )) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    await main(['node', 'coupa-connector', ...args]);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

let sim: Simulator;
let dir: string;
let stop: () => Promise<void>;
let conn: string[];
let files: string[];
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  // Only what a test passes may reach the CLI.
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('BATON_')) {
      savedEnv[k] = process.env[k];
      delete process.env[k];
    }
  }
  const t = await testSimulatorWithDir({ tenant: TENANT, arrayMode: 'merge' });
  ({ sim, dir, stop } = t);
  conn = simulatorFlags(sim);
  files = [
    '--journal',
    join(dir, 'journal.jsonl'),
    '--audit-log',
    join(dir, 'audit.jsonl'),
    '--log-level',
    'warn',
  ];
});
afterAll(async () => {
  await stop();
  Object.assign(process.env, savedEnv);
});

/** A one-shot provisioning run (-p) against the test simulator, with this file's journal and audit log. */
function provisioned(...args: string[]): Promise<Run> {
  return cli([...conn, ...files, '-p', ...args]);
}

beforeEach(() => sim.faults.clear());

describe('one-shot flags on the root command', () => {
  it('refuses every one-shot action without -p, before contacting Coupa', async () => {
    sim.resetCounters();
    for (const action of [
      ['--grant-entitlement', 'role:3:member', '--grant-principal', '2', '--grant-principal-type', 'user'],
      ['--revoke-grant', 'role:3:member:user:2'],
      ['--create-account-login', 'x', '--create-account-email', 'x@example.com'],
      ['--invoke-action', 'disable_user', '--invoke-action-args', '{"user_id":"2"}'],
    ]) {
      const r = await cli([...conn, ...files, ...action]);
      expect(r.code, action.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/refused without -p\/--provisioning/);
    }
    expect(sim.counters().total).toBe(0);
  });

  it('grants and revokes with baton-style flags', async () => {
    arrange(sim, 2, 'role', [2, 4]);
    const g = await provisioned(
      '--grant-entitlement',
      'role:3:member',
      '--grant-principal',
      '2',
      '--grant-principal-type',
      'user',
    );
    expect(g).toMatchObject({ code: 0 });
    expect(g.stdout).toContain('Granted role 3 to user 2.');
    expect(holdings(sim, 2, 'role')).toEqual([2, 3, 4]);
    const r = await provisioned('--revoke-grant', 'role:2:member:user:2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Revoked role 2 from user 2.');
    expect(holdings(sim, 2, 'role')).toEqual([3, 4]);
    const again = await provisioned('--revoke-grant', 'role:2:member:user:2');
    expect(again.stdout).toContain('does not have role 2; nothing to do');
  });

  it('prints the plan and writes nothing with --dry-run', async () => {
    arrange(sim, 3, 'group', [1, 2]);
    sim.resetCounters();
    const r = await provisioned('--dry-run', '--revoke-grant', 'group:1:member:user:3');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PUT /api/users/3 {"user-groups":[{"id":2}]}');
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    expect(writeCount(sim)).toBe(0);
    expect(holdings(sim, 3, 'group')).toEqual([1, 2]);
  });

  it('creates an account and prints its id', async () => {
    const r = await provisioned(
      '--create-account-login',
      'grace.h',
      '--create-account-email',
      'grace@example.com',
      '--create-account-profile',
      '{"firstname":"Grace","lastname":"Hopper","licenses":{"expense-user":true}}',
    );
    expect(r.code).toBe(0);
    const id = Number(/with id (\d+)/.exec(r.stdout)?.[1]);
    expect(sim.groundTruth().users.find((u) => u.id === id)?.login).toBe('grace.h');
    expect(holdings(sim, id, 'license')).toEqual(['expense-user']);
  });

  it('disables and enables through --invoke-action', async () => {
    const d = await provisioned('--invoke-action', 'disable_user', '--invoke-action-args', '{"user_id":"5"}');
    expect(d.code).toBe(0);
    expect(sim.groundTruth().users.find((u) => u.id === 5)?.active).toBe(false);
    const e = await provisioned('--invoke-action', 'enable_user', '--invoke-action-args', '{"user_id":5}');
    expect(e.code).toBe(0);
    expect(sim.groundTruth().users.find((u) => u.id === 5)?.active).toBe(true);
    const bad = await provisioned('--invoke-action', 'disable_user', '--invoke-action-args', '{"id":5}');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('user_id');
  });

  it('rejects principals that are not users and unknown entitlements with usage errors', async () => {
    const t = await provisioned(
      '--grant-entitlement',
      'role:3:member',
      '--grant-principal',
      '2',
      '--grant-principal-type',
      'group',
    );
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--grant-principal-type must be "user"');
    const u = await provisioned('--grant-entitlement', 'badge:3:member', '--grant-principal', '2');
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('Unknown entitlement "badge:3:member"');
  });
});

describe('incomplete or misplaced one-shot and service-mode flags', () => {
  // Each used to be ignored: the root ran a whole sync into -f and exited 0.
  it.each([
    [['-p', '--grant-principal', '42'], /--grant-principal needs --grant-entitlement/],
    [['-p', '--grant-principal-type', 'user'], /--grant-principal-type needs --grant-entitlement/],
    [['--grant-principal', '42'], /--grant-principal needs --grant-entitlement/],
    [['-p', '--invoke-action-args', '{"user_id":"5"}'], /--invoke-action-args needs --invoke-action/],
    [
      ['-p', '--revoke-grant', 'role:2:member:user:2', '--grant-principal', '3'],
      /--grant-principal needs --grant-entitlement/,
    ],
    [['--dry-run'], /--dry-run .*provisioning action/],
    [['-p', '--dry-run'], /--dry-run .*provisioning action/],
    [['--skip-full-sync'], /--skip-full-sync is for service mode.*--client-id/],
    [['--health-check'], /--health-check is for service mode.*--client-id/],
    [
      ['--health-check-port', '9999', '--task-concurrency', '2'],
      /--task-concurrency and --health-check-port are for service mode/,
    ],
  ])('%j: exit 2 saying what is missing, no request, no file', async (args, message) => {
    sim.resetCounters();
    const out = join(dir, 'never-synced.c1z');
    const r = await cli([...conn, ...files, '-f', out, ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(sim.counters().total).toBe(0);
    expect(existsSync(out)).toBe(false);
  });

  it('a service-mode variable without the client id names the variable', async () => {
    process.env.BATON_HEALTH_CHECK = 'true';
    try {
      const out = join(dir, 'never-synced.c1z');
      const r = await cli([...conn, ...files, '-f', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--health-check \(BATON_HEALTH_CHECK\) is for service mode/);
      expect(existsSync(out)).toBe(false);
    } finally {
      delete process.env.BATON_HEALTH_CHECK;
    }
  });
});

describe('subcommands', () => {
  it('refuses each without -p', async () => {
    for (const args of [
      ['grant', 'role:3:member', '2'],
      ['revoke', 'role:3:member', '2'],
      ['create-account', '--login', 'x', '--email', 'x@example.com'],
      ['enable-user', '2'],
      ['disable-user', '2'],
      ['recover'],
    ]) {
      const r = await cli([...args, ...conn, ...files]);
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toContain(`${args[0]} changes Coupa and is refused without -p/--provisioning`);
    }
  });

  it('grant, revoke (entitlement + user, or grant id), enable-user and disable-user', async () => {
    arrange(sim, 6, 'content_group', [1]);
    expect((await cli(['grant', 'content_group:2:member', '6', '-p', ...conn, ...files])).code).toBe(0);
    expect(holdings(sim, 6, 'content_group')).toEqual([1, 2]);
    expect((await cli(['revoke', 'content_group:1:member', '6', '-p', ...conn, ...files])).code).toBe(0);
    expect(holdings(sim, 6, 'content_group')).toEqual([2]);
    expect((await cli(['revoke', 'content_group:2:member:user:6', '-p', ...conn, ...files])).code).toBe(0);
    expect(holdings(sim, 6, 'content_group')).toEqual([]);
    expect((await cli(['disable-user', '6', '-p', ...conn, ...files])).code).toBe(0);
    expect(sim.groundTruth().users.find((u) => u.id === 6)?.active).toBe(false);
    expect((await cli(['enable-user', '6', '-p', ...conn, ...files])).code).toBe(0);
    expect(sim.groundTruth().users.find((u) => u.id === 6)?.active).toBe(true);
  });

  it('treats the approver of a group that cannot approve as an unknown entitlement (exit 2), for revoke as for grant', async () => {
    const group = sim.tenant.userGroups.list.find((g) => !g.canApprove)!;
    arrange(sim, 8, 'group', []);
    const writes = writeCount(sim);
    for (const verb of ['revoke', 'grant']) {
      const r = await cli([verb, `group:${group.id}:approver`, '8', '-p', ...conn, ...files]);
      expect(r.code, verb).toBe(2);
      expect(r.stderr, verb).toContain(`Unknown entitlement "group:${group.id}:approver"`);
      expect(r.stderr, verb).toContain('cannot approve');
      expect(r.stdout, verb).not.toContain('nothing to do');
    }
    // The revoke wrote nothing; the grant's one write was Coupa's 400.
    expect(writeCount(sim)).toBe(writes + 1);
    expect(holdings(sim, 8, 'group')).toEqual([]);
  });

  it('exits 5 naming the list when a removal is left half-done, and recover finishes it', async () => {
    // A first revoke teaches the CLI (array-modes.json next to the journal) that this tenant merges.
    arrange(sim, 7, 'account_group', [1, 2, 3, 4]);
    expect((await cli(['revoke', 'account_group:4:member', '7', '-p', ...conn, ...files])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'array-modes.json'), 'utf8'))).toEqual({ [sim.url]: 'merge' });
    // So now: 1 GET, the clear (PUT #1), then every PUT fails.
    sim.faults.add({ match: { method: 'PUT' }, afterRequests: 1, kind: 'status', status: 500 });
    const r = await cli([
      'revoke',
      'account_group:2:member',
      '7',
      '-p',
      ...conn,
      ...files,
      '--max-retries',
      '0',
    ]);
    sim.faults.clear();
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(
      /user 7 may now hold less than intended in `account-groups`\. The list to restore is: 1 \(.*\), 3 \(.*\)\./,
    );
    expect(r.stderr).toContain(`coupa-connector recover -p --journal ${join(dir, 'journal.jsonl')}`);
    expect(holdings(sim, 7, 'account_group')).toEqual([]);

    const rec = await cli(['recover', '-p', ...conn, ...files]);
    expect(rec.code).toBe(0);
    expect(rec.stdout).toMatch(/restored +user 7 account_group:2:member/);
    expect(holdings(sim, 7, 'account_group')).toEqual([1, 3]);
    expect(new Journal(join(dir, 'journal.jsonl')).scan(sim.url).unfinished).toEqual([]);
  });

  it('recover with a --journal that does not exist: exit 2, and nothing created there', async () => {
    const missing = join(dir, 'no-such-folder', 'journal.jsonl');
    const r = await cli([
      'recover',
      '-p',
      ...conn,
      '--journal',
      missing,
      '--audit-log',
      join(dir, 'audit.jsonl'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`The journal ${missing} does not exist`);
    expect(r.stdout).not.toContain('Nothing to recover');
    // It used to create the folder and an empty journal, and report that all was well.
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });

  it('recover with unreadable journal lines: recovers what it can, then exits 5 naming the lines', async () => {
    const path = join(dir, 'torn-journal.jsonl');
    const journal = new Journal(path);
    arrange(sim, 11, 'role', []);
    writeFileSync(path, '{"type":"intent","entryId":"torn\n');
    journal.begin({
      baseUrl: sim.url,
      userId: 11,
      operation: 'revoke',
      entitlementId: 'role:3:member',
      field: 'roles',
      intended: [{ id: 2 }],
      removed: [{ id: 3 }],
    });
    appendFileSync(path, 'not json at all\n');
    const r = await cli([
      'recover',
      '-p',
      ...conn,
      '--journal',
      path,
      '--audit-log',
      join(dir, 'audit.jsonl'),
    ]);
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/restored +user 11 role:3:member/);
    expect(holdings(sim, 11, 'role')).toEqual([2]);
    expect(r.stderr).toMatch(/Lines 1 and 3 of .*torn-journal\.jsonl could not be read/);

    // Only unreadable lines: nothing to do, but still not "all is well".
    const only = join(dir, 'garbage-journal.jsonl');
    writeFileSync(only, 'garbage\n');
    const g = await cli([
      'recover',
      '-p',
      ...conn,
      '--journal',
      only,
      '--audit-log',
      join(dir, 'audit.jsonl'),
    ]);
    expect(g.code).toBe(5);
    expect(g.stderr).toMatch(/Line 1 of .*garbage-journal\.jsonl could not be read/);
  });

  it('keeps the client secret out of output and the audit log, even at debug level', async () => {
    arrange(sim, 8, 'role', [2]);
    const r = await cli([
      'grant',
      'role:3:member',
      '8',
      '-p',
      ...conn,
      '--journal',
      join(dir, 'journal.jsonl'),
      '--audit-log',
      join(dir, 'audit.jsonl'),
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('coupa request'); // debug logging really was on
    for (const text of [r.stdout, r.stderr, readFileSync(join(dir, 'audit.jsonl'), 'utf8')]) {
      expect(text).not.toContain(sim.clientSecret);
    }
  });
});

describe('the built bin', () => {
  async function spawnBin(args: string[], env: Record<string, string>): Promise<Run> {
    const run = await spawnCli(args, { env, cwd: dir });
    return { code: run.code ?? -1, stdout: run.stdout, stderr: run.stderr };
  }

  it('takes the one-shot flags and -p from BATON_* variables', async () => {
    arrange(sim, 9, 'license', []);
    const env = {
      BATON_BASE_URL: sim.url,
      BATON_COUPA_CLIENT_ID: sim.clientId,
      BATON_COUPA_CLIENT_SECRET: sim.clientSecret,
      BATON_GRANT_ENTITLEMENT: 'license:treasury_user:assigned',
      BATON_GRANT_PRINCIPAL: '9',
      BATON_GRANT_PRINCIPAL_TYPE: 'user',
    };
    for (const provisioning of [undefined, 'false', '0']) {
      const refused = await spawnBin([], provisioning ? { ...env, BATON_PROVISIONING: provisioning } : env);
      expect(refused.code, `BATON_PROVISIONING=${provisioning}`).toBe(2);
      expect(refused.stderr).toContain('refused without -p/--provisioning');
    }
    expect(holdings(sim, 9, 'license')).toEqual([]);
    const ok = await spawnBin([], { ...env, BATON_PROVISIONING: '1' });
    // stderr carries one thing: baton-style (zap-shaped) info record of the change, nothing else.
    const records = ok.stderr
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toEqual([
      expect.objectContaining({
        level: 'info',
        ts: expect.any(Number),
        msg: 'provisioning change finished',
        caller: 'provisioning/audit',
        operation: 'grant',
        userId: 9,
        entitlementId: 'license:treasury_user:assigned',
        outcome: 'granted',
        durationMs: expect.any(Number),
      }),
    ]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('Granted the treasury-user license to user 9.');
    expect(holdings(sim, 9, 'license')).toEqual(['treasury-user']);
    // Journal and audit log default to the tenant's folder in the state dir, not the working directory.
    expect(existsSync(join(dir, '.coupa-connector'))).toBe(false);
    const tenant = tenantStatePaths(sim.url, stateRoot(undefined, process.env));
    expect(existsSync(tenant.auditLog)).toBe(true);
  });
});

describe('usage errors say what to fix, with exit 2', () => {
  const sub = (...args: string[]) => cli([...args, '-p', ...conn, ...files]);

  it('a user id Coupa does not know is a usage error (2), as an unknown entitlement is', async () => {
    sim.resetCounters();
    for (const args of [
      ['grant', 'role:3:member', '4242'],
      ['revoke', 'role:3:member', '4242'],
      ['revoke', 'role:3:member:user:4242'],
      ['enable-user', '4242'],
      ['disable-user', '4242'],
    ]) {
      const r = await sub(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Coupa has no user "4242"');
    }
    expect(writeCount(sim)).toBe(0);
    const ent = await sub('grant', 'role:99999:member', '2');
    expect(ent.code).toBe(2);
  });

  it('revoke: a forgotten <user-id>, or one given with a grant id, is named as such', async () => {
    sim.resetCounters();
    const missing = await sub('revoke', 'role:1:member');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/revoke role:1:member: missing <user-id>/);
    expect(missing.stderr).not.toContain('not a grant id');
    const extra = await sub('revoke', 'role:1:member:user:2', '5');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/a grant id takes no <user-id>/);
    expect(extra.stderr).not.toContain('Unknown entitlement');
    expect(sim.counters().total).toBe(0);
  });

  it('create-account names its own flags (--login, --email, --profile), not the root one-shot ones', async () => {
    sim.resetCounters();
    const cases: [string[], RegExp][] = [
      [['--email', 'a@example.com'], /--login is required/],
      [['--login', 'ada', '--email', 'nope'], /--email must be an email address/],
      [['--login', 'ada', '--email', 'a@example.com', '--profile', '{'], /--profile is not valid JSON/],
      [['--login', 'ada', '--email', 'a@example.com'], /--profile must give firstname and lastname/],
    ];
    for (const [args, message] of cases) {
      const r = await sub('create-account', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('--create-account-');
    }
    expect(sim.counters().total).toBe(0);
  });

  it('a malformed user id is refused before the state folder is created', async () => {
    const stateDir = join(dir, 'state-untouched');
    for (const args of [
      ['grant', 'role:1:member', 'bob'],
      ['revoke', 'role:1:member', 'bob'],
      ['enable-user', 'bob'],
      ['disable-user', 'bob'],
    ]) {
      const r = await cli([...args, '-p', ...conn, '--state-dir', stateDir, '--log-level', 'warn']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Coupa has no user "bob"');
      expect(existsSync(stateDir), args.join(' ')).toBe(false);
    }
  });
});
