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
  // Appended, not inserted: a row's kind is its index here, and the page's script has the same list.
  'entitlement added',
  'entitlement removed',
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
  // A role or group that appeared brings its entitlements along: the resource row says it once
  // (as `diff` counts it: "resources: 4 added; entitlements: 4 added"), not once more per
  // entitlement. An entitlement that appears or goes on a resource that stays (a group becoming
  // an approver group) is a change of its own.
  const resourcesChanged = new Set(
    diff.resources
      .filter((c) => c.kind !== 'modified')
      .map((c) => `${c.kind}:${c.resource.id?.resourceType ?? ''}:${c.resource.id?.resource ?? ''}`),
  );
  for (const c of diff.entitlements) {
    if (c.kind === 'modified') continue; // a renamed resource already says so
    const res = c.entitlement.resource?.id;
    const ref = `${res?.resourceType ?? ''}:${res?.resource ?? ''}`;
    if (resourcesChanged.has(`${c.kind}:${ref}`)) continue;
    add(
      c.kind === 'added' ? 'entitlement added' : 'entitlement removed',
      ref,
      c.entitlement.resource?.displayName ?? '',
      c.entitlement.id,
      c.entitlement.displayName,
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
