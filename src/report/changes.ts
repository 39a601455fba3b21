/**
 * "Changes since last sync" as the report shows it: the file's own diff (src/c1z/diff.ts, the one
 * `diff` prints) flattened into rows a reviewer scans: who gained or lost what, who joined, left or
 * changed, and which roles, groups or licenses appeared or went.
 */
import type { SyncDiff } from '../c1z/diff.js';
import type { SyncRun } from '../c1z/reader.js';

export const CHANGE_KINDS = [
  'grant added',
  'grant removed',
  'user added',
  'user removed',
  'user changed',
  'resource added',
  'resource removed',
  'resource changed',
] as const;
export type ReportChangeKind = (typeof CHANGE_KINDS)[number];

export interface SyncChanges {
  previous: { id: string; startedAt: string; endedAt: string | null };
  current: { id: string; startedAt: string; endedAt: string | null };
  counts: Record<ReportChangeKind, number>;
  /**
   * [kind code (index into CHANGE_KINDS), principal or resource as type:id, its name,
   *  entitlement id, entitlement name, detail]
   */
  rows: (string | number)[][];
}

const run = (r: SyncRun) => ({ id: r.syncId, startedAt: r.startedAt, endedAt: r.endedAt });

export function changesFromDiff(diff: SyncDiff): SyncChanges {
  const counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ReportChangeKind, number>;
  const rows: (string | number)[][] = [];
  const add = (kind: ReportChangeKind, who: string, name: string, entId = '', entName = '', detail = '') => {
    counts[kind]++;
    rows.push([CHANGE_KINDS.indexOf(kind), who, name, entId, entName, detail]);
  };
  for (const c of diff.resources) {
    const id = c.resource.id;
    const ref = `${id?.resourceType ?? ''}:${id?.resource ?? ''}`;
    const user = id?.resourceType === 'user';
    const kind = c.kind === 'added' ? 'added' : c.kind === 'removed' ? 'removed' : 'changed';
    add(
      `${user ? 'user' : 'resource'} ${kind}` as ReportChangeKind,
      ref,
      c.resource.displayName,
      '',
      '',
      c.details.join('; '),
    );
  }
  for (const c of diff.entitlements) {
    if (c.kind === 'modified') continue; // a renamed resource already says so
    const res = c.entitlement.resource?.id;
    add(
      c.kind === 'added' ? 'resource added' : 'resource removed',
      `${res?.resourceType ?? ''}:${res?.resource ?? ''}`,
      c.entitlement.resource?.displayName ?? '',
      c.entitlement.id,
      c.entitlement.displayName,
      'entitlement',
    );
  }
  for (const c of diff.grants) {
    if (c.kind === 'modified') continue; // same holder, same entitlement: nothing a reviewer acts on
    const p = c.grant.principal?.id;
    add(
      c.kind === 'added' ? 'grant added' : 'grant removed',
      `${p?.resourceType ?? ''}:${p?.resource ?? ''}`,
      c.principal?.displayName ?? '',
      c.grant.entitlement?.id ?? '',
      c.entitlement?.displayName ?? '',
    );
  }
  return { previous: run(diff.base.sync), current: run(diff.applied.sync), counts, rows };
}
