/**
 * The questions an access review asks of a sync, answered from an AccessDirectory: who is inactive
 * yet still holds access, who holds admin-like roles, what API users hold, who signs in without
 * SSO, and who holds both sides of a separation-of-duties pair. The CLI prints the findings, the
 * HTML report embeds them; both get the same answers from here.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import type { AccessDirectory, EntitlementFacts } from './directory.js';

export const QUERY_IDS = ['inactive-access', 'admin-access', 'api-users', 'no-sso', 'sod-conflicts'] as const;
export type QueryId = (typeof QUERY_IDS)[number];

/** One thing a reviewer must look at: a user, usually with the entitlement that makes it a finding. */
export interface Finding {
  /** Index into AccessDirectory.users. */
  user: number;
  /** Index into AccessDirectory.entitlements. */
  entitlement?: number;
  /** The other side of a separation-of-duties pair. */
  other?: number;
  /** Why it is a finding, in a few words (the rule, the admin marker, the sign-in method). */
  reason: string;
}

export interface QueryResult {
  id: QueryId;
  title: string;
  description: string;
  /** What the reason column holds, for table headers. */
  reasonLabel: string;
  parameters: Record<string, JsonValue>;
  findings: Finding[];
  /** Distinct users among the findings. */
  users: number;
  /** Things the reviewer should know about the answer (facts the file lacks, rules that matched nothing). */
  notes: string[];
}

export interface SodRule {
  name: string;
  description?: string;
  /** Selectors: `role:Buyer` (type and name or id), or a whole entitlement id (`role:4:member`). */
  left: string[];
  right: string[];
}

/**
 * Classic purchase-to-pay conflicts, by role name: whoever raises a purchase or keeps the supplier
 * list must not also pay the invoice. Tenants name roles differently; pass a rules file to fit.
 */
export const BUILT_IN_SOD_RULES: readonly SodRule[] = [
  {
    name: 'Buyer + AP Clerk',
    description: 'Can turn requisitions into purchase orders and also process the invoices that pay them',
    left: ['role:Buyer'],
    right: ['role:AP Clerk'],
  },
  {
    name: 'Supplier Manager + AP Clerk',
    description: 'Can create or change suppliers and also pay them',
    left: ['role:Supplier Manager'],
    right: ['role:AP Clerk'],
  },
];

/** Role names that read as administration; matched case-insensitively. */
export const DEFAULT_ADMIN_PATTERN = 'admin|super ?user';

export interface ReviewOptions {
  /** Regular expression (source) for admin-like role names. */
  adminPattern?: string;
  sodRules?: readonly SodRule[];
  /** True when the rules are the built-in example (rules that match nothing are then not worth a note). */
  builtInRules?: boolean;
}

const TITLES: Record<QueryId, { title: string; description: string; reasonLabel: string }> = {
  'inactive-access': {
    title: 'Inactive users still holding access',
    description:
      'Users that are deactivated (or deleted) in Coupa but still hold licenses, roles or groups: remove the access or confirm the account is gone for good.',
    reasonLabel: 'Status',
  },
  'admin-access': {
    title: 'Holders of admin-like roles',
    description:
      'Users holding a role Coupa marks omnipotent, or whose name matches the admin pattern: each such holder needs a reason.',
    reasonLabel: 'Why admin-like',
  },
  'api-users': {
    title: 'API users and what they hold',
    description:
      'Integration accounts (api-user) and their access; one row per grant, or one row if they hold nothing.',
    reasonLabel: 'Status',
  },
  'no-sso': {
    title: 'Active users signing in without SSO',
    description:
      "Active human users whose authentication method is not SAML SSO: they sign in with a Coupa password (or LDAP) and bypass the identity provider's controls.",
    reasonLabel: 'Authentication method',
  },
  'sod-conflicts': {
    title: 'Separation-of-duties conflicts',
    description: 'Users holding both sides of a forbidden pair.',
    reasonLabel: 'Rule',
  },
};

export function runQuery(dir: AccessDirectory, id: QueryId, opts: ReviewOptions = {}): QueryResult {
  const meta = TITLES[id];
  const base = { id, ...meta, notes: [] as string[], parameters: {} as Record<string, JsonValue> };
  let findings: Finding[];
  switch (id) {
    case 'inactive-access':
      findings = inactiveAccess(dir);
      break;
    case 'admin-access': {
      const pattern = opts.adminPattern ?? DEFAULT_ADMIN_PATTERN;
      base.parameters.adminPattern = pattern;
      findings = adminAccess(dir, adminRegExp(pattern), base.notes);
      break;
    }
    case 'api-users':
      findings = apiUsers(dir, base.notes);
      break;
    case 'no-sso':
      findings = withoutSso(dir, base.notes);
      break;
    case 'sod-conflicts': {
      const rules = opts.sodRules ?? BUILT_IN_SOD_RULES;
      base.parameters.rules = rules.map((r) => ({
        name: r.name,
        left: r.left,
        right: r.right,
        ...(r.description ? { description: r.description } : {}),
      }));
      findings = sodConflicts(dir, rules, opts.builtInRules ?? opts.sodRules === undefined, base.notes);
      break;
    }
  }
  return { ...base, findings, users: new Set(findings.map((f) => f.user)).size };
}

export function runAllQueries(dir: AccessDirectory, opts: ReviewOptions = {}): QueryResult[] {
  return QUERY_IDS.map((id) => runQuery(dir, id, opts));
}

/** Compiles the admin pattern; a bad one is the caller's to report (see ReviewConfigError users). */
export function adminRegExp(pattern: string): RegExp {
  return new RegExp(pattern, 'i');
}

function inactiveAccess(dir: AccessDirectory): Finding[] {
  const out: Finding[] = [];
  dir.users.forEach((u, i) => {
    if (u.status !== 'disabled' && u.status !== 'deleted') return;
    for (const e of dir.heldBy(i)) out.push({ user: i, entitlement: e, reason: u.status });
  });
  return out;
}

function adminAccess(dir: AccessDirectory, pattern: RegExp, notes: string[]): Finding[] {
  const out: Finding[] = [];
  let unknown = 0;
  dir.entitlements.forEach((e, ei) => {
    if (!e.isRole) return;
    if (e.omnipotent === undefined) unknown++;
    const name = e.resourceName || e.displayName;
    const reasons: string[] = [];
    if (e.omnipotent) reasons.push('omnipotent');
    if (pattern.test(name)) reasons.push(`name matches /${pattern.source}/i`);
    if (!reasons.length) return;
    for (const u of dir.holdersOf(ei)) out.push({ user: u, entitlement: ei, reason: reasons.join('; ') });
  });
  if (unknown > 0) {
    notes.push(
      `${unknown} role entitlement(s) carry no omnipotent flag (a file from baton-coupa or an older sync): only the name pattern applied to them.`,
    );
  }
  return out.sort((a, b) => a.user - b.user || a.entitlement! - b.entitlement!);
}

function apiUsers(dir: AccessDirectory, notes: string[]): Finding[] {
  const out: Finding[] = [];
  let known = 0;
  let absent = 0;
  dir.users.forEach((u, i) => {
    if (u.missing) absent++;
    if (u.apiUserKnown) known++;
    if (u.accountType !== 'service') return;
    const held = dir.heldBy(i);
    if (held.length === 0) out.push({ user: i, reason: u.status });
    for (const e of held) out.push({ user: i, entitlement: e, reason: u.status });
  });
  // "No API users" and "this file cannot tell" must not look alike: baton-coupa drops API users
  // from its files (keeping their grants) and marks everyone else human.
  if (known === 0 && dir.users.length > 0) {
    notes.push(
      'No user in this file says whether it is an API user (baton-coupa leaves API users out of its files and marks the rest human), so this answer may be incomplete.' +
        (absent > 0
          ? ` ${absent} user(s) hold grants but are absent from the file; in a baton-coupa file those are most likely the API users: see \`grants\` (flagged MISSING: principal) or \`access --principal user:<id>\`.`
          : ''),
    );
  }
  return out;
}

function withoutSso(dir: AccessDirectory, notes: string[]): Finding[] {
  const out: Finding[] = [];
  let unknown = 0;
  dir.users.forEach((u, i) => {
    if (u.missing || u.status !== 'enabled' || u.accountType === 'service') return;
    if (u.sso === undefined) unknown++;
    else if (!u.sso) out.push({ user: i, reason: u.authenticationMethod ?? 'not SSO' });
  });
  if (unknown > 0) {
    notes.push(
      `${unknown} active user(s) carry no sign-in method in this file (baton-coupa does not record it): they are not judged here.`,
    );
  }
  return out;
}

function sodConflicts(
  dir: AccessDirectory,
  rules: readonly SodRule[],
  builtIn: boolean,
  notes: string[],
): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules) {
    const left = selectEntitlements(dir, rule.left);
    const right = selectEntitlements(dir, rule.right);
    if (!left.length || !right.length) {
      if (!builtIn) {
        const side = !left.length ? rule.left : rule.right;
        notes.push(`Rule "${rule.name}": ${side.join(', ')} matches no entitlement in this file.`);
      }
      continue;
    }
    const rightSet = new Set(right);
    const leftSet = new Set(left);
    dir.users.forEach((_, u) => {
      const held = dir.heldBy(u);
      const l = held.find((e) => leftSet.has(e));
      if (l === undefined) return;
      const r = held.find((e) => rightSet.has(e) && e !== l);
      if (r === undefined) return;
      out.push({ user: u, entitlement: l, other: r, reason: rule.name });
    });
  }
  return out;
}

/** Entitlement indexes a rule side names. */
export function selectEntitlements(dir: AccessDirectory, selectors: readonly string[]): number[] {
  const out = new Set<number>();
  for (const sel of selectors) {
    const exact = dir.indexOfEntitlement(sel);
    if (exact !== undefined) {
      out.add(exact);
      continue;
    }
    const colon = sel.indexOf(':');
    const type = colon > 0 ? sel.slice(0, colon) : undefined;
    const value = (colon > 0 ? sel.slice(colon + 1) : sel).trim().toLowerCase();
    dir.entitlements.forEach((e: EntitlementFacts, i) => {
      if (type !== undefined && e.resourceType !== type) return;
      if (e.resourceId.toLowerCase() === value || e.resourceName.trim().toLowerCase() === value) out.add(i);
    });
  }
  return [...out];
}
