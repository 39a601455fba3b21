/**
 * One user on one screen: who they are, whether they can sign in and how, their approval limits,
 * and everything they hold, grouped by kind. `demo` shows it for sample users, `user <login|id>`
 * for the one asked for.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import type { C1zReader } from './reader.js';
import { safeText } from '../util/safe-text.js';
import { roleOmnipotent, approvalLimitLabel, approvalLimitText, type UserFacts } from './user-facts.js';

/** Plural labels of the kinds a Coupa user can hold, in the order the card shows them. */
export const HOLDING_LABELS: Readonly<Record<string, string>> = {
  role: 'roles',
  group: 'user groups',
  license: 'licenses',
  content_group: 'content groups',
  account_group: 'account groups',
};

export interface Holding {
  entitlementId: string;
  resourceType: string;
  resourceId: string;
  name: string;
  omnipotent?: boolean;
}

export interface UserCard {
  user: UserFacts;
  manager?: { id: string; login: string; displayName: string };
  holdings: Holding[];
}

export function buildUserCard(reader: C1zReader, user: UserFacts): UserCard {
  const holdings: Holding[] = [];
  const names = new Map<string, { name: string; omnipotent?: boolean }>();
  for (const g of reader.grants({ principalType: 'user', principalId: user.id })) {
    const res = g.entitlement?.resource?.id;
    const type = res?.resourceType ?? '';
    const rid = res?.resource ?? '';
    const key = `${type}:${rid}`;
    let info = names.get(key);
    if (!info) {
      const r = reader.getResource(type, rid);
      info = {
        name: r?.displayName || g.entitlement?.resource?.displayName || key,
        omnipotent: r ? roleOmnipotent(r) : undefined,
      };
      names.set(key, info);
    }
    const entId = g.entitlement?.id ?? '';
    // A second entitlement on one resource (a group's `approver` beside its `member`) says which.
    const slug = entId.slice(entId.lastIndexOf(':') + 1);
    holdings.push({
      entitlementId: entId,
      resourceType: type,
      resourceId: rid,
      name: slug && slug !== 'member' && slug !== 'assigned' ? `${info.name} (${slug})` : info.name,
      ...(info.omnipotent ? { omnipotent: true } : {}),
    });
  }
  holdings.sort((a, b) => a.resourceType.localeCompare(b.resourceType) || a.name.localeCompare(b.name));
  let manager: UserCard['manager'];
  if (user.managerId) {
    const m = reader.getResource('user', user.managerId);
    manager = {
      id: user.managerId,
      login: user.managerLogin ?? '',
      displayName: m?.displayName ?? '',
    };
  }
  return { user, manager, holdings };
}

const MIN_LABEL_WIDTH = 15;

function signIn(u: UserFacts): string {
  if (u.sso === undefined && !u.authenticationMethod) return 'not recorded in this file';
  const method = u.authenticationMethod ?? (u.sso ? 'SSO' : 'not SSO');
  const sso = u.sso ? 'SSO' : 'no SSO';
  return `${method} (${sso}${u.ssoIdentifier ? `, SSO id ${u.ssoIdentifier}` : ''})`;
}

/** The card as text lines for a terminal, indented by `indent` spaces (JSON: userCardJson). */
export function formatUserCard(card: UserCard, indent = 0): string {
  const pad = ' '.repeat(indent);
  const u = card.user;
  const rows: [string, string][] = [];
  const row = (label: string, value: string) => rows.push([label, value]);
  if (u.email) row('email', u.email);
  row('status', `${u.status}, ${u.accountType === 'service' ? 'API user' : u.accountType}`);
  row('sign-in', signIn(u));
  if (card.manager) {
    const m = card.manager;
    row('manager', `${m.displayName || '(not in file)'} (${m.login || 'no login'}, user ${m.id})`);
  }
  if (u.employeeNumber) row('employee no.', u.employeeNumber);
  for (const [key, limit] of Object.entries(u.approvalLimits))
    row(approvalLimitLabel(key).toLowerCase(), approvalLimitText(limit));
  const byType = new Map<string, string[]>();
  for (const h of card.holdings) {
    const list = byType.get(h.resourceType) ?? [];
    list.push(h.omnipotent ? `${h.name} (omnipotent)` : h.name);
    byType.set(h.resourceType, list);
  }
  for (const [type, label] of Object.entries(HOLDING_LABELS)) {
    const names = byType.get(type);
    if (names) row(label, names.join(', '));
    byType.delete(type);
  }
  for (const [type, names] of byType) row(type, names.join(', '));
  if (card.holdings.length === 0) row('holds', 'nothing');
  // Every name, login and label comes from Coupa or the file: escaped before the layout, so a line
  // break in a role name shows as \x0a inside its row instead of starting a forged row of its own.
  const safeRows = rows.map(([label, value]) => [safeText(label), safeText(value)] as const);
  // Labels line up at the longest one present: short for most users, wide when limits are shown.
  const width = Math.max(MIN_LABEL_WIDTH, ...safeRows.map(([label]) => label.length));
  const head = `${pad}${safeText(u.displayName || '(no name)')} (${safeText(u.login || 'no login')}, user ${safeText(u.id)})${u.missing ? ' [MISSING from the file: only grants name it]' : ''}`;
  return (
    [head, ...safeRows.map(([label, value]) => `${pad}  ${label.padEnd(width)} ${value}`)].join('\n') + '\n'
  );
}

export function userCardJson(card: UserCard): JsonValue {
  const u = card.user;
  return {
    id: u.id,
    displayName: u.displayName,
    login: u.login || null,
    email: u.email || null,
    status: u.status,
    accountType: u.accountType,
    authenticationMethod: u.authenticationMethod ?? null,
    ssoIdentifier: u.ssoIdentifier ?? null,
    sso: u.sso ?? null,
    employeeNumber: u.employeeNumber ?? null,
    manager: card.manager ?? null,
    approvalLimits: Object.fromEntries(
      Object.entries(u.approvalLimits).map(([k, v]) => [
        k,
        { amount: v.amount ?? null, currency: v.currency ?? null },
      ]),
    ),
    missing: u.missing ?? false,
    holdings: card.holdings.map((h) => ({
      entitlementId: h.entitlementId,
      resourceType: h.resourceType,
      resourceId: h.resourceId,
      name: h.name,
      omnipotent: h.omnipotent ?? false,
    })),
  };
}
