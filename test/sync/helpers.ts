import { Writable } from 'node:stream';
import type { Simulator } from '../../src/simulator/index.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { findAnnotation } from '../../src/c1z/any.js';
import { UserTraitSchema, type UserTrait } from '../../src/c1z/messages.js';
import { createLogger, type Logger } from '../../src/log.js';
import { truthByType } from '../helpers/membership-truth.js';

/** A logger whose JSON lines are kept for assertions. */
export function capturingLogger(level: 'debug' | 'info' | 'warn' = 'info'): {
  logger: Logger;
  lines(): Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    logger: createLogger({ level, format: 'json', destination }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface FileContents {
  resourceTypes: Set<string>;
  /** `<type>:<id>` of every resource. */
  resources: Set<string>;
  /** Resource display names by `<type>:<id>`. */
  displayNames: Map<string, string>;
  userTraits: Map<string, UserTrait | undefined>;
  entitlements: Set<string>;
  grantIds: Set<string>;
  /** `<entitlement resource type>:<resource id>:<principal user id>` of every grant. */
  grantTuples: Set<string>;
  /** Grants whose entitlement or principal or entitlement resource is not in the file. */
  dangling: string[];
  grantRows: number;
}

/** Everything a c1z holds, read back through the reader, as sets that tests can compare. */
export async function readFile(path: string): Promise<FileContents> {
  const reader = await C1zReader.open(path);
  try {
    const out: FileContents = {
      resourceTypes: new Set(),
      resources: new Set(),
      displayNames: new Map(),
      userTraits: new Map(),
      entitlements: new Set(),
      grantIds: new Set(),
      grantTuples: new Set(),
      dangling: [],
      grantRows: 0,
    };
    for (const rt of reader.resourceTypes()) out.resourceTypes.add(rt.id);
    for (const r of reader.resources()) {
      const key = `${r.id!.resourceType}:${r.id!.resource}`;
      out.resources.add(key);
      out.displayNames.set(key, r.displayName);
      if (r.id!.resourceType === 'user')
        out.userTraits.set(r.id!.resource, findAnnotation(r.annotations, UserTraitSchema));
    }
    for (const e of reader.entitlements()) out.entitlements.add(e.id);
    for (const g of reader.grants()) {
      out.grantRows++;
      out.grantIds.add(g.id);
      const res = g.entitlement!.resource!.id!;
      const principal = g.principal!.id!;
      out.grantTuples.add(`${res.resourceType}:${res.resource}:${principal.resource}`);
      if (
        !out.entitlements.has(g.entitlement!.id) ||
        !out.resources.has(`${res.resourceType}:${res.resource}`) ||
        !out.resources.has(`${principal.resourceType}:${principal.resource}`)
      ) {
        out.dangling.push(g.id);
      }
    }
    return out;
  } finally {
    reader.close();
  }
}

/**
 * The ground truth as the sets a c1z must hold. `accountGroups: false`: a sync without the optional
 * scope, which leaves out the types read with it.
 */
export function expectedContents(gt: ReturnType<Simulator['groundTruth']>, opts: { accountGroups: boolean }) {
  const resources = new Set<string>();
  const grantTuples = new Set<string>();
  const grantIds = new Set<string>();
  const entitlements = new Set<string>();
  for (const u of gt.users) resources.add(`user:${u.id}`);
  for (const t of truthByType(gt)) {
    if (t.optional && !opts.accountGroups) continue;
    for (const o of t.objects) {
      resources.add(t.resourceOf(o));
      entitlements.add(t.entitlementOf(o));
    }
    for (const [uid, o] of t.holders) {
      grantTuples.add(`${t.resourceOf(o)}:${uid}`);
      grantIds.add(`${t.entitlementOf(o)}:user:${uid}`);
    }
  }
  return { resources, grantTuples, grantIds, entitlements };
}

export function floorOf(counts: {
  users: number;
  userGroups: number;
  roles: number;
  contentGroups: number;
  accountGroups: number;
}): number {
  // Issue 12's floor: Coupa gives no count, so a list ends on a page shorter than 50.
  const c = (n: number) => Math.floor(n / 50) + 1;
  return (
    c(counts.users) +
    c(counts.userGroups) +
    c(counts.roles) +
    c(counts.contentGroups) +
    c(counts.accountGroups) +
    1
  );
}
