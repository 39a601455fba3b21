/**
 * The reviewer's views on a synced simulator tenant: `access` with who each principal is, lookups
 * by login and email, typos as usage errors (exit 2 from the real CLI), member counts, and the
 * per-user card, all checked against the simulator's ground truth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInspectCommand } from '../../src/cli/commands/inspect.js';
import { createUserCommand } from '../../src/cli/commands/user.js';
import { ExitCode } from '../../src/errors.js';
import { cli } from '../helpers/cli.js';
import { holdingsOf, parseCsv, runCaptured, syncedTenant, type GroundTruth } from './helpers.js';

let tenant: Awaited<ReturnType<typeof syncedTenant>>;
let gt: GroundTruth;

beforeAll(async () => {
  tenant = await syncedTenant({ seed: 23, users: 400 });
  gt = tenant.gt;
});
afterAll(async () => {
  await tenant?.close();
});

const inspect = (...args: string[]) => runCaptured(createInspectCommand, ...args);

/** An inactive user with a manager and some access: the reviewer's typical question. */
function inactiveWithManager() {
  const holdings = holdingsOf(gt);
  const u = gt.users.find((x) => !x.active && x.managerId !== null && holdings.get(x.id)!.length > 2);
  if (!u) throw new Error('seed 23 has no inactive managed user with access; pick another seed');
  return { user: u, manager: gt.users.find((m) => m.id === u.managerId)!, held: holdings.get(u.id)! };
}

describe('access', () => {
  it('--entitlement lists each holder with login, email, status, user type and manager', async () => {
    const admins = new Set(gt.memberships.roles.filter(([, r]) => r === 2).map(([u]) => u));
    const rows = parseCsv(
      (await inspect('access', '-f', tenant.file, '--entitlement', 'role:2:member', '-o', 'csv')).out,
    );
    expect(rows[0]).toEqual([
      'Principal',
      'Principal Name',
      'Login',
      'Email',
      'Status',
      'User Type',
      'Manager',
      'Grant',
      'Missing',
    ]);
    const body = rows.slice(1).filter((r) => r.length > 1);
    expect(body.map((r) => Number(r[0]!.replace('user:', ''))).sort((a, b) => a - b)).toEqual(
      [...admins].sort((a, b) => a - b),
    );
    for (const r of body) {
      const u = gt.users.find((x) => `user:${x.id}` === r[0])!;
      const manager = u.managerId === null ? '' : gt.users.find((m) => m.id === u.managerId)!.login;
      expect(r.slice(2, 7)).toEqual([
        u.login,
        u.email,
        u.active ? 'enabled' : 'disabled',
        u.apiUser ? 'service' : 'human',
        manager,
      ]);
    }
  });

  it('--principal takes user:ID, a bare id, a login or an email, and says who it is', async () => {
    const { user, manager, held } = inactiveWithManager();
    const outs = await Promise.all(
      [`user:${user.id}`, String(user.id), user.login, user.email.toUpperCase()].map(
        async (p) => (await inspect('access', '-f', tenant.file, '--principal', p, '-o', 'json')).out,
      ),
    );
    for (const out of outs) expect(out).toBe(outs[0]);
    const json = JSON.parse(outs[0]!);
    expect(json.principal).toMatchObject({
      resourceType: 'user',
      id: String(user.id),
      user: { login: user.login, email: user.email, status: 'disabled', managerLogin: manager.login },
    });
    expect(json.entitlements.map((e: { entitlementId: string }) => e.entitlementId).sort()).toEqual(
      [...held].sort(),
    );
    const text = (await inspect('access', '-f', tenant.file, '--principal', user.login)).out.split('\n');
    expect(text[1]).toContain(`status disabled`);
    expect(text[1]).toContain(`manager ${manager.login}`);
  });

  it('an unknown or mistyped principal is a usage error (exit 2) that says what to pass', async () => {
    const { user } = inactiveWithManager();
    const typo = await cli(['access', '-f', tenant.file, '--principal', `usr:${user.id}`]);
    expect(typo.code).toBe(ExitCode.usage);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toMatch(/"usr" is not a resource type/);
    expect(typo.stderr).toMatch(/Pass user:ID/);
    const unknown = await cli(['access', '-f', tenant.file, '--principal', 'nobody@example.com']);
    expect(unknown.code).toBe(ExitCode.usage);
    expect(unknown.stderr).toMatch(/Unknown principal "nobody@example\.com"/);
    const noId = await cli(['access', '-f', tenant.file, '--principal', 'user:99999999']);
    expect(noId.code).toBe(ExitCode.usage);
    expect(noId.stderr).toMatch(/There is no user 99999999/);
    const ok = await cli(['access', '-f', tenant.file, '--principal', user.login]);
    expect(ok.code).toBe(0);
  });
});

describe('entitlements', () => {
  it('shows how many hold each one', async () => {
    const rows = parseCsv((await inspect('entitlements', '-f', tenant.file, '-o', 'csv')).out).slice(1);
    const members = new Map(rows.filter((r) => r.length > 1).map((r) => [r[0]!, Number(r.at(-1))]));
    const expected = new Map<string, number>();
    for (const held of holdingsOf(gt).values())
      for (const e of held) expected.set(e, (expected.get(e) ?? 0) + 1);
    for (const [id, n] of expected) expect([id, members.get(id)]).toEqual([id, n]);
    // Entitlements nobody holds (licenses with no users, say) show 0, not a blank.
    for (const [id, n] of members) if (!expected.has(id)) expect(n).toBe(0);
  });
});

describe('user <login|id>', () => {
  it('prints the card: identity, status, manager, and everything held, grouped by kind', async () => {
    const { user, manager, held } = inactiveWithManager();
    const card = (await runCaptured(createUserCommand, 'user', user.login, '-f', tenant.file)).out;
    const lines = card.split('\n');
    expect(lines[0]).toBe(`${user.fullname} (${user.login}, user ${user.id})`);
    expect(card).toMatch(new RegExp(`email +${user.email}`));
    expect(card).toMatch(/status +disabled, human/);
    expect(card).toMatch(
      new RegExp(`manager +${manager.fullname} \\(${manager.login}, user ${manager.id}\\)`),
    );
    const json = JSON.parse(
      (await runCaptured(createUserCommand, 'user', `user:${user.id}`, '-f', tenant.file, '-o', 'json')).out,
    );
    expect(json.holdings.map((h: { entitlementId: string }) => h.entitlementId).sort()).toEqual(
      [...held].sort(),
    );
    const roleNames = gt.memberships.roles
      .filter(([u]) => u === user.id)
      .map(([, r]) => gt.roles.find((x) => x.id === r)!.name)
      .sort();
    expect(card).toMatch(new RegExp(`roles +${roleNames.join(', ')}\\n`));
  });

  it('an unknown user exits 2', async () => {
    const run = await cli(['user', 'no.such.login', '-f', tenant.file]);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toMatch(/Unknown principal "no\.such\.login"/);
  });
});
