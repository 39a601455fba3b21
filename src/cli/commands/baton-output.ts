/**
 * `-o json` for the commands baton has (resource-types, resources, entitlements, grants,
 * principals): one document in baton's outputs.proto shape (`{"resources": [ResourceOutput…]}`),
 * streamed row by row. Objects a row points at are looked up as baton's store cache does; one the
 * file lacks is left out of its row (protojson leaves an unset message out), where baton would
 * fail the whole command.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import type { C1zReader, GrantFilter } from '../../c1z/reader.js';
import { entitlementOutput, grantOutput, resourceOutput, resourceTypeOutput } from '../../c1z/baton-json.js';
import { create } from '@bufbuild/protobuf';
import { ResourceSchema, type Entitlement, type Resource, type ResourceType } from '../../c1z/messages.js';
import { Option, type Command } from 'commander';
import type { InspectIo, OutputFormat } from './inspect-output.js';

/** Small caches: resource types and entitlements are few; resources are capped. */
export class StoreCache {
  private readonly types = new Map<string, ResourceType | null>();
  private readonly entitlements = new Map<string, Entitlement | null>();
  private readonly resources = new Map<string, Resource | null>();
  constructor(private readonly reader: C1zReader) {}

  resourceType(id: string | undefined): ResourceType | undefined {
    if (!id) return undefined;
    let hit = this.types.get(id);
    if (hit === undefined) this.types.set(id, (hit = this.reader.getResourceType(id) ?? null));
    return hit ?? undefined;
  }

  entitlement(id: string | undefined): Entitlement | undefined {
    if (!id) return undefined;
    let hit = this.entitlements.get(id);
    if (hit === undefined) {
      hit = this.reader.getEntitlement(id) ?? null;
      if (this.entitlements.size < 100_000) this.entitlements.set(id, hit);
    }
    return hit ?? undefined;
  }

  resource(type: string | undefined, id: string | undefined): Resource | undefined {
    if (!type || !id) return undefined;
    const key = `${type}:${id}`;
    let hit = this.resources.get(key);
    if (hit === undefined) {
      hit = this.reader.getResource(type, id) ?? null;
      // Principals are many and each is seen a few times; entitlement resources are few and
      // repeat on every grant. A bound keeps a million-user file from filling memory.
      if (this.resources.size < 20_000) this.resources.set(key, hit);
    }
    return hit ?? undefined;
  }
}

/** Streams `{"<key>": [ …rows ]}` with 2-space indentation, flushing every 64 KiB. */
export async function writeJsonList(key: string, rows: Iterable<JsonValue>, io: InspectIo): Promise<number> {
  await io.out(`{\n  ${JSON.stringify(key)}: [`);
  let n = 0;
  let chunk = '';
  for (const row of rows) {
    chunk += (n === 0 ? '\n    ' : ',\n    ') + JSON.stringify(row, null, 2).replace(/\n/g, '\n    ');
    n++;
    if (chunk.length > 1 << 16) {
      await io.out(chunk);
      chunk = '';
    }
  }
  await io.out(`${chunk}${n === 0 ? ']' : '\n  ]'}\n}\n`);
  return n;
}

export function* resourceTypeRows(reader: C1zReader): Generator<JsonValue> {
  for (const rt of reader.resourceTypes()) yield resourceTypeOutput(rt);
}

export function* resourceRows(reader: C1zReader, filter: { resourceType?: string }): Generator<JsonValue> {
  const sc = new StoreCache(reader);
  for (const r of reader.resources(filter)) {
    const parent = r.parentResourceId
      ? sc.resource(r.parentResourceId.resourceType, r.parentResourceId.resource)
      : undefined;
    yield resourceOutput(r, sc.resourceType(r.id?.resourceType), parent);
  }
}

export function* entitlementRows(
  reader: C1zReader,
  filter: { resourceType?: string; resourceId?: string },
): Generator<JsonValue> {
  const sc = new StoreCache(reader);
  for (const e of reader.entitlements(filter)) {
    const rid = e.resource?.id;
    yield entitlementOutput(
      e,
      sc.resource(rid?.resourceType, rid?.resource),
      sc.resourceType(rid?.resourceType),
    );
  }
}

export function* grantRows(reader: C1zReader, filter: GrantFilter): Generator<JsonValue> {
  const sc = new StoreCache(reader);
  for (const g of reader.grants(filter)) {
    const rid = g.entitlement?.resource?.id;
    const pid = g.principal?.id;
    yield grantOutput(g, {
      entitlement: sc.entitlement(g.entitlement?.id),
      resource: sc.resource(rid?.resourceType, rid?.resource),
      resourceType: sc.resourceType(rid?.resourceType),
      principal: pid ? reader.getResource(pid.resourceType, pid.resource) : undefined,
    });
  }
}

export interface PrincipalEntry {
  type: string;
  id: string;
  resource?: Resource;
  grants: number;
}

/**
 * The distinct principals of the grants a filter selects, in first-seen order, as baton's
 * `principals` lists them (with how many of those grants each holds).
 */
export function principalsOf(reader: C1zReader, filter: GrantFilter): PrincipalEntry[] {
  const seen = new Map<string, PrincipalEntry>();
  for (const g of reader.grants(filter)) {
    const pid = g.principal?.id;
    if (!pid) continue;
    const key = `${pid.resourceType}:${pid.resource}`;
    const hit = seen.get(key);
    if (hit) hit.grants++;
    else seen.set(key, { type: pid.resourceType, id: pid.resource, grants: 1 });
  }
  const entries = [...seen.values()];
  for (const e of entries) e.resource = reader.getResource(e.type, e.id);
  return entries;
}

export function* principalRows(reader: C1zReader, entries: PrincipalEntry[]): Generator<JsonValue> {
  const sc = new StoreCache(reader);
  for (const e of entries) {
    const r = e.resource;
    if (!r) {
      // A principal the file lacks is still named by its id, so the list stays complete.
      yield resourceOutput(
        create(ResourceSchema, { id: { resourceType: e.type, resource: e.id } }),
        sc.resourceType(e.type),
      );
      continue;
    }
    const parent = r.parentResourceId
      ? sc.resource(r.parentResourceId.resourceType, r.parentResourceId.resource)
      : undefined;
    yield resourceOutput(r, sc.resourceType(e.type), parent);
  }
}

/**
 * baton's `access -t <type> -r <id> -o json`: ResourceAccessListOutput, the principal and, per
 * resource it holds something on, the resource, its type and the entitlements held.
 */
export async function writeBatonAccess(reader: C1zReader, principal: string, io: InspectIo): Promise<void> {
  const i = principal.indexOf(':');
  const type = principal.slice(0, i);
  const id = principal.slice(i + 1);
  const sc = new StoreCache(reader);
  const byResource = new Map<
    string,
    { resource?: Resource; type?: ResourceType; entitlements: Entitlement[] }
  >();
  for (const g of reader.grants({ principalType: type, principalId: id })) {
    const e = sc.entitlement(g.entitlement?.id) ?? g.entitlement;
    const rid = e?.resource?.id;
    if (!e || !rid) continue;
    const key = `${rid.resourceType}:${rid.resource}`;
    let entry = byResource.get(key);
    if (!entry) {
      entry = {
        resource: sc.resource(rid.resourceType, rid.resource),
        type: sc.resourceType(rid.resourceType),
        entitlements: [],
      };
      byResource.set(key, entry);
    }
    entry.entitlements.push(e);
  }
  const self = reader.getResource(type, id);
  const doc: Record<string, JsonValue> = {};
  if (self) doc.principal = resourceOutput(self).resource!;
  const access: JsonValue[] = [];
  for (const a of byResource.values()) {
    const row: Record<string, JsonValue> = {};
    if (a.resource) row.resource = resourceOutput(a.resource).resource!;
    if (a.type) row.resourceType = resourceTypeOutput(a.type).resourceType!;
    row.entitlements = a.entitlements.map((e) => entitlementOutput(e).entitlement!);
    access.push(row);
  }
  if (access.length) doc.access = access;
  await io.out(JSON.stringify(doc, null, 2) + '\n');
}

/** `-o console|json|csv`, and baton's spelling `--output-format`; `json` says whose shape it is. */
export function addOutputOptions(cmd: Command, json: string, consoleView = 'aligned table'): Command {
  return cmd
    .addOption(
      new Option('-o, --output <format>', `console (${consoleView}), json (${json}) or csv`)
        .choices(['console', 'json', 'csv'])
        .default('console'),
    )
    .addOption(new Option('--output-format <format>').choices(['console', 'json', 'csv']).hideHelp());
}

/** The parsed options with `--output-format` (baton's spelling) folded into `output`. */
export function withOutput<T extends { output: OutputFormat; outputFormat?: OutputFormat }>(
  opts: T,
): Omit<T, 'outputFormat'> {
  const { outputFormat, ...rest } = opts;
  return { ...rest, output: outputFormat ?? rest.output };
}
