/**
 * Finds the principal a reviewer means: `user:41`, a bare id, a login or an email. A principal that
 * is neither in the file nor referenced by any grant is an error (exit 2), so a typo never reads
 * as "this user holds nothing".
 */
import { ConfigError } from '../errors.js';
import type { C1zReader } from './reader.js';
import type { Resource } from './messages.js';
import { userFacts } from './user-facts.js';

export interface ResolvedPrincipal {
  type: string;
  id: string;
  /** Absent when only grants reference it (a dangling principal). */
  resource?: Resource;
  /** How the text matched. */
  by: 'id' | 'login' | 'email';
}

export class UnknownPrincipalError extends ConfigError {}

export function resolvePrincipal(reader: C1zReader, text: string): ResolvedPrincipal {
  const value = text.trim();
  if (!value) throw new UnknownPrincipalError('--principal is empty.', 'Pass user:ID, a login or an email.');
  const colon = value.indexOf(':');
  let typeProblem: string | undefined;
  if (colon > 0) {
    const type = value.slice(0, colon);
    const id = value.slice(colon + 1);
    if (reader.getResourceType(type)) {
      const resource = reader.getResource(type, id);
      if (resource) return { type, id, resource, by: 'id' };
      if (hasGrants(reader, type, id)) return { type, id, by: 'id' };
      throw new UnknownPrincipalError(
        `There is no ${type} ${id} in ${reader.path}, and no grant names it.`,
        `List the ${type}s with \`resources -f ${reader.path} --resource-type ${type}\`, or pass a login or an email.`,
      );
    }
    typeProblem = `"${type}" is not a resource type in ${reader.path} (it has ${typeList(reader)})`;
  } else if (reader.getResource('user', value)) {
    return { type: 'user', id: value, resource: reader.getResource('user', value), by: 'id' };
  } else if (/^\d+$/.test(value) && hasGrants(reader, 'user', value)) {
    return { type: 'user', id: value, by: 'id' };
  }

  // A login or an email: one pass over the users, case-insensitive as Coupa's logins are.
  const wanted = value.toLowerCase();
  const hits: ResolvedPrincipal[] = [];
  for (const r of reader.resources({ resourceType: 'user' })) {
    const f = userFacts(r);
    const by =
      f.login.toLowerCase() === wanted ? 'login' : f.email.toLowerCase() === wanted ? 'email' : undefined;
    if (by) hits.push({ type: 'user', id: f.id, resource: r, by });
  }
  // A login equal to someone else's email is possible; the login wins, as Coupa signs in by login.
  const logins = hits.filter((h) => h.by === 'login');
  const best = logins.length ? logins : hits;
  if (best.length === 1) return best[0]!;
  if (best.length > 1) {
    throw new UnknownPrincipalError(
      `"${value}" matches ${best.length} users (${best.map((h) => `user:${h.id}`).join(', ')}).`,
      'Pass one of them as user:ID.',
    );
  }
  throw new UnknownPrincipalError(
    typeProblem
      ? `Unknown principal "${value}": ${typeProblem}, and no user has it as login or email.`
      : `Unknown principal "${value}": no user in ${reader.path} has that id, login or email.`,
    'Pass user:ID (e.g. user:41), a login or an email.',
  );
}

function hasGrants(reader: C1zReader, type: string, id: string): boolean {
  for (const _ of reader.grants({ principalType: type, principalId: id })) return true;
  return false;
}

function typeList(reader: C1zReader): string {
  const ids = [...reader.resourceTypes()].map((rt) => rt.id);
  return ids.length ? ids.join(', ') : 'no resource types';
}
