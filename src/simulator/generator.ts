import { layoutIds, resolveLayout, type IdLayout } from './id-layout.js';
import { ALL_LICENSE_FLAGS, LICENSE_SHARE } from './license-flags.js';
import { mulberry32, pick, pickIds, type Random } from './prng.js';
import { APPROVAL_LIMIT_KEYS, Tenant, type UserRecord } from './tenant.js';
import type { TenantSpec } from './types.js';

export const DEFAULT_TENANT_SPEC: Required<Omit<TenantSpec, 'licenseFlags' | 'ids'>> = {
  seed: 1,
  users: 200,
  userGroups: 12,
  roles: 10,
  contentGroups: 6,
  accountGroups: 5,
};

/** Fixed clock for generated data, so the same seed yields byte-identical responses. */
const EPOCH = Date.UTC(2019, 0, 1);
const DAY = 86_400_000;

const FIRST = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Margaret',
  'Ken',
  'Barbara',
  'Dennis',
  'Frances',
  'John',
  'Radia',
  'Tim',
  'Hedy',
  'Edsger',
  'Katherine',
  'Niklaus',
  'Sophie',
  'Bjarne',
  'Carol',
  'Guido',
  'Mary',
  'James',
  'Anita',
  'Donald',
  'Lynn',
  'Vint',
  'Shafi',
  'Whitfield',
  'Jean',
  'Leslie',
];
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Ritchie',
  'Allen',
  'McCarthy',
  'Perlman',
  'Berners-Lee',
  'Lamarr',
  'Dijkstra',
  'Johnson',
  'Wirth',
  'Wilson',
  'Stroustrup',
  'Shaw',
  'van Rossum',
  'Kenneth',
  'Gosling',
  'Borg',
  'Knuth',
  'Conway',
  'Cerf',
  'Goldwasser',
  'Diffie',
  'Bartik',
  'Lamport',
];
const MIDDLE = ['J.', 'M.', 'K.', 'A.', 'R.'];
const DEPARTMENTS = [
  'Finance',
  'Procurement',
  'IT',
  'Legal',
  'Marketing',
  'Sales',
  'Operations',
  'HR',
  'Facilities',
  'Engineering',
  'Logistics',
  'Research',
];
const REGIONS = ['EMEA', 'NA', 'LATAM', 'APAC', 'DACH', 'Nordics', 'UK&I', 'Benelux', 'Iberia', 'ANZ'];
const CUSTOM_ROLES = [
  'Approver Plus',
  'Expense Admin',
  'Procurement Manager',
  'AP Clerk',
  'Contract Manager',
  'Inventory Manager',
  'Sourcing Lead',
  'Analytics Viewer',
  'Supplier Manager',
  'Integration Admin',
  'Budget Owner',
  'Travel Booker',
];

/** Deterministic: the same spec always produces the same tenant, record for record. */
export function generateTenant(spec: TenantSpec = {}): Tenant {
  const s = { ...DEFAULT_TENANT_SPEC, ...spec };
  const rand = mulberry32(s.seed);
  const tenant = new Tenant(spec.licenseFlags ?? ALL_LICENSE_FLAGS);
  const at = (days: number) => EPOCH + Math.floor(days * DAY);
  // Each list draws its ids from its own PRNG, so a layout changes ids and nothing else.
  const layout = resolveLayout(spec.ids);
  const idsOf = (count: number, salt: number, l: IdLayout = layout) =>
    layoutIds(l, Math.max(0, count), (Math.imul(s.seed + 1, 0x9e3779b1) ^ salt) >>> 0);
  const roleIds = idsOf(s.roles - 4, 1, { ...layout, start: Math.max(5, layout.start) });
  const groupIds = idsOf(s.userGroups, 2);
  const contentIds = idsOf(s.contentGroups, 3);
  const accountIds = idsOf(s.accountGroups, 4);
  const userIds = idsOf(s.users, 5);
  const ids: ListIds = {
    roles: roleIds,
    userGroups: groupIds,
    contentGroups: contentIds,
    accountGroups: accountIds,
  };

  // Built-in roles take ids 1..4 so that Admin = 2, User = 3, Buyer = 4 as seen on real instances.
  const builtIns: Array<[string, string, boolean]> = [
    ['Approver', 'Approves requisitions and expenses routed to them', false],
    ['Admin', 'Full access to every part of Coupa', true],
    ['User', 'Every user gets this role', false],
    ['Buyer', 'Processes requisitions into purchase orders', false],
  ];
  for (const [name, description, omnipotent] of builtIns) {
    tenant.roles.insert((id) => ({
      id,
      name,
      description,
      omnipotent,
      systemRole: true,
      createdAt: EPOCH,
      updatedAt: EPOCH,
    }));
  }
  for (let i = 4; i < s.roles; i++) {
    const base = CUSTOM_ROLES[(i - 4) % CUSTOM_ROLES.length]!;
    const round = Math.floor((i - 4) / CUSTOM_ROLES.length);
    const name = round ? `${base} ${round + 1}` : base;
    tenant.roles.insert(
      (id) => ({
        id,
        name,
        description: `Custom role: ${name}`,
        // Real tenants grant admin rights to an integration role or two: a few omnipotent custom roles.
        omnipotent: base === 'Integration Admin',
        systemRole: false,
        createdAt: at(i),
        updatedAt: at(i + 30),
      }),
      roleIds[i - 4],
    );
  }
  for (let i = 0; i < s.userGroups; i++) {
    const dept = DEPARTMENTS[i % DEPARTMENTS.length]!;
    const round = Math.floor(i / DEPARTMENTS.length);
    const canApprove = i % 3 === 0;
    const name = `${dept}${canApprove ? ' Approvers' : ' Team'}${round ? ` ${round + 1}` : ''}`;
    tenant.userGroups.insert(
      (id) => ({
        id,
        name,
        description: `${name} (generated)`,
        active: i % 17 !== 16,
        canApprove,
        open: i % 4 === 1,
        mentionName: name.replace(/[^A-Za-z0-9]/g, ''),
        createdAt: at(i),
        updatedAt: at(i + 60),
      }),
      groupIds[i],
    );
  }
  for (let i = 0; i < s.contentGroups; i++) {
    const region = REGIONS[i % REGIONS.length]!;
    const round = Math.floor(i / REGIONS.length);
    const name = `${region}${round ? ` ${round + 1}` : ''}`;
    tenant.contentGroups.insert(
      (id) => ({
        id,
        name,
        description: `Content group for ${name}`,
        createdAt: at(i),
        updatedAt: at(i + 10),
      }),
      contentIds[i],
    );
  }
  for (let i = 0; i < s.accountGroups; i++) {
    const name = `Account Group ${i + 1} - ${DEPARTMENTS[i % DEPARTMENTS.length]}`;
    tenant.accountGroups.insert(
      (id) => ({
        id,
        name,
        accountGroupType: 1 + (i % 2),
        accountTypeName: 'Default Chart of Accounts',
        createdAt: at(i),
        updatedAt: at(i + 5),
      }),
      accountIds[i],
    );
  }
  const limitAmounts = ['1000.00', '5000.00', '25000.00', '100000.00'];
  for (const [i, amount] of limitAmounts.entries()) {
    tenant.approvalLimits.insert((id) => ({
      id,
      name: `USD ${amount}`,
      amount,
      currencyCode: 'USD',
      subject: 'requisition',
      createdAt: at(i),
      updatedAt: at(i),
    }));
  }

  const managers: number[] = [];
  const flagShares = tenant.licenseFlags.map((f) => LICENSE_SHARE[f] ?? 0.02);
  for (let n = 1; n <= s.users; n++) {
    const user = makeUser(rand, n, userIds[n - 1]!, flagShares, s, ids);
    tenant.users.insert(() => user, user.id);
    if (rand() < 0.1) {
      managers.push(user.id);
      user.approvalLimits = {
        [pick(rand, APPROVAL_LIMIT_KEYS.slice(0, 1))]: 1 + Math.floor(rand() * limitAmounts.length),
        'expense-approval-limit': 1 + Math.floor(rand() * limitAmounts.length),
      };
      // Some approvers may also approve their own requisitions up to a small amount: the limit
      // reviewers look for. Derived from the id, not drawn, so the rest of the tenant stays the same.
      if (user.id % 3 === 0) user.approvalLimits['requisition-self-approval-limit'] = 1;
    }
    const picked = pickIds(rand, s.userGroups, weightedCount(rand, [0.2, 0.45, 0.25, 0.1]));
    for (const g of picked) tenant.linkGroup(user, groupIds[g - 1]!, user.createdAt);
  }
  // Managers are chosen after all users exist so that a manager may have a higher id.
  if (managers.length) {
    for (const user of tenant.users.list) {
      if (user.apiUser || rand() < 0.15) continue;
      const m = pick(rand, managers);
      if (m !== user.id) user.managerId = m;
    }
  }
  return tenant;
}

/** Each list's ids in generation order (built-in roles 1..4 not included). */
interface ListIds {
  roles: number[];
  userGroups: number[];
  contentGroups: number[];
  accountGroups: number[];
}

/** The generator picks members by position (1..count); these are their ids. */
const idsAt = (positions: number[], ids: number[]) => positions.map((p) => ids[p - 1]!);

function makeUser(
  rand: Random,
  n: number,
  id: number,
  flagShares: number[],
  s: typeof DEFAULT_TENANT_SPEC,
  ids: ListIds,
): UserRecord {
  const apiUser = rand() < 0.01;
  const first = apiUser ? 'Integration' : pick(rand, FIRST);
  const last = apiUser ? `Client ${n}` : pick(rand, LAST);
  const login = apiUser
    ? `api.integration.${n}`
    : `${first}.${last}.${n}`.toLowerCase().replace(/[^a-z0-9.]/g, '');
  // Coupa stores whole seconds; so do we, or `updated_at[lt_or_eq]=<printed value>` would miss.
  const created = EPOCH + Math.floor(rand() * 1500) * DAY + Math.floor(rand() * 86_400) * 1000;
  let licenses = 0;
  if (!apiUser) flagShares.forEach((share, bit) => rand() < share && (licenses |= 1 << bit));
  const roleIds = [3];
  if (!apiUser) {
    const r = rand();
    if (r < 0.02) roleIds.push(2);
    if (rand() < 0.15) roleIds.push(4);
    if (rand() < 0.1) roleIds.push(1);
    if (s.roles > 4)
      for (const extra of pickIds(rand, s.roles - 4, weightedCount(rand, [0.6, 0.3, 0.1])))
        roleIds.push(ids.roles[extra - 1]!);
  } else {
    roleIds.push(2);
  }
  const sso = !apiUser && rand() < 0.7;
  return {
    id,
    login,
    email: `${login}@example.com`,
    firstname: first,
    lastname: last,
    middlename: rand() < 0.2 ? pick(rand, MIDDLE) : null,
    active: rand() >= 0.08,
    apiUser,
    employeeNumber: apiUser ? null : `E${100000 + n}`,
    ssoIdentifier: sso ? `${login}@idp.example.com` : null,
    mentionName: `${first}${last}${n}`.replace(/[^A-Za-z0-9]/g, ''),
    // Password sign-in bypasses the identity provider; a few tenants still run LDAP beside SAML.
    // Derived from n, not drawn, so that the rest of a seed's tenant stays as it was.
    authenticationMethod: sso ? 'saml' : !apiUser && n % 9 === 0 ? 'ldap' : 'coupa_credentials',
    defaultLocale: rand() < 0.8 ? 'en' : pick(rand, ['de', 'fr', 'es', 'ja']),
    managerId: null,
    licenses,
    roleIds: [...new Set(roleIds)].sort((a, b) => a - b).slice(),
    userGroupIds: [],
    contentGroupIds: s.contentGroups
      ? idsAt(pickIds(rand, s.contentGroups, weightedCount(rand, [0.3, 0.5, 0.2])), ids.contentGroups)
      : [],
    accountGroupIds: s.accountGroups
      ? idsAt(pickIds(rand, s.accountGroups, weightedCount(rand, [0.4, 0.45, 0.15])), ids.accountGroups)
      : [],
    approvalLimits: null,
    createdAt: created,
    updatedAt: created + Math.floor(rand() * 300) * DAY,
  };
}

/** Picks a count 0..weights.length-1 with the given probabilities. */
function weightedCount(rand: Random, weights: number[]): number {
  let r = rand();
  for (const [i, w] of weights.entries()) {
    if (r < w) return i;
    r -= w;
  }
  return weights.length - 1;
}
