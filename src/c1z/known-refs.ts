/**
 * A filter that names nothing in the file (`-t rol`, `-e role:99:member`) is a typo, and an empty
 * table would read as "nobody has it". These checks turn it into a usage error that says where
 * the real names are listed. Something the file lacks but a grant still names (a dangling
 * principal or entitlement) is not a typo: its grants are shown, flagged.
 */
import { ConfigError } from '../errors.js';
import type { ObjectRef } from './inspect.js';
import type { C1zReader } from './reader.js';

const any = (items: Iterable<unknown>): boolean => {
  for (const _ of items) return true;
  return false;
};

export function knownResourceType(reader: C1zReader, type: string): string {
  const types = [...reader.resourceTypes()].map((rt) => rt.id);
  if (types.includes(type) || any(reader.resources({ resourceType: type }))) return type;
  throw new ConfigError(
    `There is no resource type ${type} in ${reader.path}; \`resource-types -f ${reader.path}\` lists them.`,
    types.length ? `This file has: ${types.join(', ')}.` : undefined,
  );
}

/** A resource the file holds, or one an entitlement or grant still names. */
export function knownResource(reader: C1zReader, ref: { type: string; id: string }): void {
  if (
    reader.getResource(ref.type, ref.id) ||
    any(reader.entitlements({ resourceType: ref.type, resourceId: ref.id })) ||
    any(reader.grants({ resourceType: ref.type, resourceId: ref.id }))
  )
    return;
  knownResourceType(reader, ref.type);
  throw new ConfigError(
    `There is no resource ${ref.type}:${ref.id} in ${reader.path}, and no entitlement or grant names it.`,
    `\`resources -f ${reader.path} -t ${ref.type}\` lists them.`,
  );
}

/** An entitlement id nobody holds and the file lacks is a typo, not an empty answer. */
export function knownEntitlement(reader: C1zReader, id: string): string {
  if (reader.getEntitlement(id) || any(reader.grants({ entitlementId: id }))) return id;
  throw new ConfigError(
    `There is no entitlement ${id} in ${reader.path}, and no grant names it.`,
    `List them with \`entitlements -f ${reader.path}\` (ids look like role:3:member or license:purchasing-user:assigned).`,
  );
}

/** A principal of a grant filter: `type:id`, or a bare id of any type. */
export function knownPrincipal(reader: C1zReader, ref: ObjectRef): void {
  if (ref.type !== undefined) {
    if (reader.getResource(ref.type, ref.id)) return;
    if (any(reader.grants({ principalType: ref.type, principalId: ref.id }))) return;
  } else {
    if (any(reader.grants({ principalId: ref.id }))) return;
    for (const rt of reader.resourceTypes()) if (reader.getResource(rt.id, ref.id)) return;
  }
  const shown = ref.type !== undefined ? `${ref.type}:${ref.id}` : ref.id;
  throw new ConfigError(
    `There is no principal ${shown} in ${reader.path}, and no grant names it.`,
    `\`principals -f ${reader.path}\` lists who holds grants; \`resources -f ${reader.path} -t user\` lists the users.`,
  );
}

/** Checks every filter a listing was given, before any row is printed. */
export function checkFilters(
  reader: C1zReader,
  f: { resourceType?: string; resource?: ObjectRef; entitlement?: string; principal?: ObjectRef },
): void {
  if (f.resource?.type !== undefined) knownResource(reader, { type: f.resource.type, id: f.resource.id });
  else if (f.resourceType !== undefined) knownResourceType(reader, f.resourceType);
  if (f.entitlement !== undefined) knownEntitlement(reader, f.entitlement);
  if (f.principal !== undefined) knownPrincipal(reader, f.principal);
}
