import { describe, expect, it } from 'vitest';
import { requestFloor, userFields } from '../../src/connector/reads.js';

describe('the request floor', () => {
  it('is one token plus ⌊n/50⌋ + 1 pages per list: a list ends on a page shorter than 50', () => {
    // 1 + 201 + 3 + 2 + 2 + 2
    expect(
      requestFloor({
        users: 10_000,
        lists: { group: 120, role: 60, content_group: 55, account_group: 50 },
      }),
    ).toBe(211);
    // 1 + 21 + 1 + 1 + 1 (account groups skipped)
    expect(requestFloor({ users: 1000, lists: { group: 12, role: 10, content_group: 6 } })).toBe(25);
  });

  it('counts one request for an empty list, since only asking tells it is empty', () => {
    expect(requestFloor({ users: 0, lists: { group: 0, role: 0, content_group: 0, account_group: 0 } })).toBe(
      6,
    );
  });
});

describe("the users' fields projection", () => {
  const flat = (spec: unknown): string => JSON.stringify(spec);

  it('asks for identity, manager, approval limits, memberships and all 19 license flags', () => {
    const fields = userFields();
    for (const name of [
      'id',
      'login',
      'email',
      'firstname',
      'lastname',
      'fullname',
      'active',
      'api-user',
      'employee-number',
      'created-at',
      'updated-at',
    ]) {
      expect(fields).toContain(name);
    }
    expect(fields).toContainEqual({ manager: ['id', 'login'] });
    expect(fields).toContainEqual({ 'requisition-approval-limit': ['id', 'amount', { currency: ['code'] }] });
    for (const rel of ['roles', 'user-groups', 'content-groups', 'account-groups']) {
      expect(fields).toContainEqual({ [rel]: ['id', 'name'] });
    }
    const flags = fields.filter(
      (f): f is string => typeof f === 'string' && f.endsWith('-user') && f !== 'api-user',
    );
    expect(flags).toHaveLength(19);
    expect(flags).toContain('treasury-user');
    expect(flags).toContain('coupa-navi-ai-agent-user');
  });

  it('leaves account groups out when they are skipped', () => {
    expect(flat(userFields(['account_group']))).not.toContain('account-groups');
    expect(flat(userFields(['account_group']))).toContain('content-groups');
  });
});
