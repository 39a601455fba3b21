import { normalizeKeys, type Tenant, type UserRecord, type UserWriteOptions } from './tenant.js';
import { ASSOC_KEYS, association, type AssocKey } from './associations.js';
import type { Table } from './table.js';

/**
 * How the simulator validates a user write (POST/PUT /api/users) the way Coupa does: required
 * and unique fields, enumerations, manager and association references by id or name. The result
 * is a plan the tenant applies only when there are no errors, so a 400 changes nothing.
 */

const UNIQUE_USER_FIELDS = [
  ['login', 'login', 'Login'],
  ['email', 'email', 'Email'],
  ['employee-number', 'employeeNumber', 'Employee number'],
  ['sso-identifier', 'ssoIdentifier', 'Sso identifier'],
  ['mention-name', 'mentionName', 'Mention name'],
] as const;
const STRING_USER_FIELDS = [
  ['login', 'login'],
  ['email', 'email'],
  ['firstname', 'firstname'],
  ['lastname', 'lastname'],
  ['middlename', 'middlename'],
  ['employee-number', 'employeeNumber'],
  ['sso-identifier', 'ssoIdentifier'],
  ['mention-name', 'mentionName'],
  ['authentication-method', 'authenticationMethod'],
  ['default-locale', 'defaultLocale'],
] as const;
export const REQUIRED_USER_FIELDS = [
  ['login', 'Login'],
  ['email', 'Email'],
  ['firstname', 'Firstname'],
  ['lastname', 'Lastname'],
] as const;
const AUTH_METHODS = ['coupa_credentials', 'ldap', 'saml'];

export function planUserChange(
  tenant: Tenant,
  user: UserRecord,
  body: Record<string, unknown>,
  opts: UserWriteOptions,
  errors: string[],
  creating: boolean,
): UserPlan {
  if (creating) {
    for (const [key, label] of REQUIRED_USER_FIELDS) {
      const v = body[key];
      if (typeof v !== 'string' || v.trim() === '') errors.push(`${label} can't be blank`);
    }
  }
  const plan: UserPlan = { scalars: {}, licenses: user.licenses, assoc: {} };
  for (const [key, prop] of STRING_USER_FIELDS) {
    if (!(key in body)) continue;
    const v = body[key];
    if (v === null || v === '') {
      const required = REQUIRED_USER_FIELDS.find(([k]) => k === key);
      if (required) {
        if (!creating) errors.push(`${required[1]} can't be blank`);
        continue;
      }
      (plan.scalars as Record<string, unknown>)[prop] =
        prop === 'authenticationMethod' ? 'coupa_credentials' : null;
    } else if (typeof v === 'string' || typeof v === 'number') {
      (plan.scalars as Record<string, unknown>)[prop] = String(v);
    } else {
      errors.push(`${key} must be a string`);
    }
  }
  const method = plan.scalars.authenticationMethod;
  if (method !== undefined && method !== null && !AUTH_METHODS.includes(method)) {
    errors.push(`Authentication method is not included in the list (${AUTH_METHODS.join(', ')})`);
  }
  for (const [key, prop, label] of UNIQUE_USER_FIELDS) {
    const v = (plan.scalars as Record<string, unknown>)[prop];
    if (typeof v !== 'string') continue;
    const other = tenant.findUserBy(prop, v);
    if (other && other.id !== user.id) errors.push(`${label} has already been taken`);
    void key;
  }
  if ('active' in body) {
    const b = toBool(body['active']);
    if (b === undefined) errors.push('Active must be true or false');
    else plan.scalars.active = b;
  }
  const unrevokable = new Set(opts.unrevokableLicenses ?? []);
  tenant.licenseFlags.forEach((flag, bit) => {
    if (!(flag in body)) return;
    const b = toBool(body[flag]);
    if (b === undefined) {
      errors.push(`${flag} must be true or false`);
      return;
    }
    if (b) plan.licenses |= 1 << bit;
    else if (!(unrevokable.has(flag) && (user.licenses & (1 << bit)) !== 0)) plan.licenses &= ~(1 << bit);
  });
  if ('manager' in body) {
    const m = body['manager'];
    if (m === null) plan.managerId = null;
    else {
      const ref =
        typeof m === 'object' && !Array.isArray(m) ? normalizeKeys(m as Record<string, unknown>) : undefined;
      const byId = ref && ref['id'] !== undefined ? tenant.users.get(Number(ref['id'])) : undefined;
      const byLogin =
        ref && typeof ref['login'] === 'string' ? tenant.findUserBy('login', ref['login']) : undefined;
      const found = byId ?? byLogin;
      if (!found) errors.push(unableToFind('User', 'manager', ref ?? m, ['id', 'login']));
      else if (found.id === user.id && !creating) errors.push('Manager cannot be the user itself');
      else plan.managerId = found.id;
    }
  }
  for (const key of ASSOC_KEYS) {
    if (!(key in body)) continue;
    const ids = resolveAssoc(tenant, key, body[key], errors);
    if (ids) plan.assoc[key] = ids;
  }
  plan.arrayMode = opts.arrayMode ?? 'merge';
  return plan;
}

function resolveAssoc(tenant: Tenant, key: AssocKey, value: unknown, errors: string[]): number[] | undefined {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    errors.push(`${key} must be an array`);
    return undefined;
  }
  const { typeName, table, accepts } = association(key);
  const records = tenant[table] as Table<{ id: number; name: string }>;
  const ok = (r: { id: number; name: string } | undefined) => (r && (!accepts || accepts(r)) ? r : undefined);
  const lookup = {
    byId: (id: number) => ok(records.get(id))?.id,
    byName: (n: string) => records.find((r) => r.name === n && ok(r) !== undefined)?.id,
  };
  const ids: number[] = [];
  for (const item of value) {
    const ref =
      item && typeof item === 'object' && !Array.isArray(item)
        ? normalizeKeys(item as Record<string, unknown>)
        : undefined;
    let id: number | undefined;
    if (ref && ref['id'] !== undefined && ref['id'] !== null) id = lookup.byId(Number(ref['id']));
    else if (ref && typeof ref['name'] === 'string') id = lookup.byName(ref['name']);
    if (id === undefined) {
      errors.push(unableToFind(typeName, key, ref ?? item, ['id', 'name']));
      continue;
    }
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

export interface UserPlan {
  scalars: Partial<
    Pick<
      UserRecord,
      | 'login'
      | 'email'
      | 'firstname'
      | 'lastname'
      | 'middlename'
      | 'employeeNumber'
      | 'ssoIdentifier'
      | 'mentionName'
      | 'authenticationMethod'
      | 'defaultLocale'
      | 'active'
    >
  >;
  licenses: number;
  managerId?: number | null;
  assoc: Partial<Record<AssocKey, number[]>>;
  arrayMode?: 'merge' | 'replace';
}

function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 0 || v === '0') return false;
  return undefined;
}

export function refId(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (v && typeof v === 'object' && 'id' in v) return refId((v as { id: unknown }).id);
  return undefined;
}

function unableToFind(typeName: string, attr: string, ref: unknown, possible: string[]): string {
  const keys =
    ref && typeof ref === 'object'
      ? Object.entries(ref as Record<string, unknown>)
          .map(([k, v]) => `"${k}"=>${JSON.stringify(v)}`)
          .join(', ')
      : JSON.stringify(ref);
  return (
    `Unable to find valid ${typeName} record for ${attr} with keys {${keys}}. ` +
    `Possible keys are [${possible.map((p) => `"${p}"`).join(', ')}]`
  );
}
