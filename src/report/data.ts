/**
 * What the HTML report embeds: the directory and the review findings as compact JSON (arrays of
 * rows, small codes for repeated words, member lists as gaps between sorted user numbers), so a
 * 100k-user, 700k-grant tenant fits in a file a browser opens in a second or two.
 */
import type { AccessDirectory } from '../c1z/directory.js';
import type { QueryResult } from '../c1z/review-queries.js';
import type { UserStatus, AccountType } from '../c1z/user-facts.js';
import { approvalLimitLabel, approvalLimitText } from '../c1z/user-facts.js';
import type { SyncChanges } from './changes.js';

export const STATUS_CODES: readonly UserStatus[] = ['enabled', 'disabled', 'deleted', 'unknown'];
export const TYPE_CODES: readonly AccountType[] = ['human', 'service', 'system', 'unknown'];

/** Kinds of resources the report gives a tab each, in tab order, with their plural labels. */
export const KIND_LABELS: Readonly<Record<string, string>> = {
  role: 'Roles',
  license: 'Licenses',
  group: 'User groups',
  content_group: 'Content groups',
  account_group: 'Account groups',
};

export interface ReportSummary {
  users: number;
  activeUsers: number;
  inactiveUsers: number;
  apiUsers: number;
  /** Users referenced by grants but absent from the file. */
  missingUsers: number;
  grants: number;
  entitlements: number;
  /** Resources with at least one entitlement, by resource type. */
  resourcesByKind: Record<string, number>;
  grantsByKind: Record<string, number>;
  findings: Record<string, number>;
}

export interface ReportData {
  version: 1;
  title: string;
  file: string;
  generatedAt: string;
  sync: { id: string; startedAt: string; endedAt: string | null } | null;
  summary: ReportSummary;
  kinds: { id: string; label: string }[];
  /** [id, name, login, email, status code, type code, manager user number or -1, auth method, sso 1/0/-1, sso identifier, employee number, missing 1/0] */
  users: (string | number)[][];
  /** Approval limits per user number that has any: [[label, text], …]. */
  limits: Record<number, [string, string][]>;
  /** [id, display name, resource type, resource id, resource name, omnipotent 1/0/-1, missing 1/0] */
  entitlements: (string | number)[][];
  /** Per entitlement: its holders' user numbers, sorted, each written as the gap from the previous one. */
  members: number[][];
  queries: {
    id: string;
    title: string;
    description: string;
    reasonLabel: string;
    notes: string[];
    parameters: unknown;
    users: number;
    /** Distinct reason texts; findings point into this. */
    reasons: string[];
    /** [user number, entitlement number or -1, other entitlement number or -1, reason number] */
    findings: number[][];
  }[];
  changes: SyncChanges | null;
}

export function buildReportData(
  dir: AccessDirectory,
  queries: QueryResult[],
  meta: { title: string; file: string; generatedAt: Date; changes: SyncChanges | null },
): ReportData {
  const userNumber = new Map<string, number>();
  dir.users.forEach((u, i) => userNumber.set(u.id, i));
  const limits: Record<number, [string, string][]> = {};
  const users = dir.users.map((u, i) => {
    const l = Object.entries(u.approvalLimits);
    if (l.length) limits[i] = l.map(([k, v]) => [approvalLimitLabel(k), approvalLimitText(v)]);
    return [
      u.id,
      u.displayName,
      u.login,
      u.email,
      STATUS_CODES.indexOf(u.status),
      TYPE_CODES.indexOf(u.accountType),
      u.managerId !== undefined ? (userNumber.get(u.managerId) ?? -1) : -1,
      u.authenticationMethod ?? '',
      u.sso === undefined ? -1 : u.sso ? 1 : 0,
      u.ssoIdentifier ?? '',
      u.employeeNumber ?? '',
      u.missing ? 1 : 0,
    ];
  });
  const entitlements = dir.entitlements.map((e) => [
    e.id,
    e.displayName,
    e.resourceType,
    e.resourceId,
    e.resourceName,
    e.omnipotent === undefined ? -1 : e.omnipotent ? 1 : 0,
    e.missing ? 1 : 0,
  ]);
  const members = dir.entitlements.map((_, i) => {
    const holders = Array.from(dir.holdersOf(i)).sort((a, b) => a - b);
    const gaps: number[] = new Array<number>(holders.length);
    let prev = 0;
    for (let k = 0; k < holders.length; k++) {
      gaps[k] = holders[k]! - prev;
      prev = holders[k]!;
    }
    return gaps;
  });
  return {
    version: 1,
    title: meta.title,
    file: meta.file,
    generatedAt: meta.generatedAt.toISOString(),
    sync: dir.sync ? { id: dir.sync.syncId, startedAt: dir.sync.startedAt, endedAt: dir.sync.endedAt } : null,
    summary: summarise(dir, queries),
    kinds: kindsOf(dir),
    users,
    limits,
    entitlements,
    members,
    queries: queries.map((q) => {
      const reasons: string[] = [];
      const reasonIndex = new Map<string, number>();
      const findings = q.findings.map((f) => {
        let r = reasonIndex.get(f.reason);
        if (r === undefined) {
          r = reasons.length;
          reasons.push(f.reason);
          reasonIndex.set(f.reason, r);
        }
        return [f.user, f.entitlement ?? -1, f.other ?? -1, r];
      });
      return {
        id: q.id,
        title: q.title,
        description: q.description,
        reasonLabel: q.reasonLabel,
        notes: q.notes,
        parameters: q.parameters,
        users: q.users,
        reasons,
        findings,
      };
    }),
    changes: meta.changes,
  };
}

function kindsOf(dir: AccessDirectory): { id: string; label: string }[] {
  const present = new Set(dir.entitlements.map((e) => e.resourceType));
  const known = Object.keys(KIND_LABELS).filter((k) => present.has(k));
  const other = [...present].filter((k) => !(k in KIND_LABELS)).sort();
  return [...known.map((id) => ({ id, label: KIND_LABELS[id]! })), ...other.map((id) => ({ id, label: id }))];
}

export function summarise(dir: AccessDirectory, queries: QueryResult[]): ReportSummary {
  const s: ReportSummary = {
    users: 0,
    activeUsers: 0,
    inactiveUsers: 0,
    apiUsers: 0,
    missingUsers: 0,
    grants: dir.grantCount,
    entitlements: dir.entitlements.length,
    resourcesByKind: {},
    grantsByKind: {},
    findings: {},
  };
  for (const u of dir.users) {
    if (u.missing) {
      s.missingUsers++;
      continue;
    }
    s.users++;
    if (u.status === 'enabled') s.activeUsers++;
    else if (u.status === 'disabled' || u.status === 'deleted') s.inactiveUsers++;
    if (u.accountType === 'service') s.apiUsers++;
  }
  const resources = new Map<string, Set<string>>();
  dir.entitlements.forEach((e, i) => {
    const set = resources.get(e.resourceType) ?? new Set<string>();
    set.add(e.resourceId);
    resources.set(e.resourceType, set);
    s.grantsByKind[e.resourceType] = (s.grantsByKind[e.resourceType] ?? 0) + dir.holdersOf(i).length;
  });
  for (const [k, set] of resources) s.resourcesByKind[k] = set.size;
  for (const q of queries) s.findings[q.id] = q.findings.length;
  return s;
}
