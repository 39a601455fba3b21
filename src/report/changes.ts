/**
 * "Changes since last sync": what differs between two syncs of one file, as the report shows it.
 * Any diff source can fill this shape; `diffDirectories` computes it from two loaded directories.
 */
import type { AccessDirectory } from '../c1z/directory.js';
import type { SyncRun } from '../c1z/reader.js';

export const CHANGE_KINDS = [
  'grant added',
  'grant removed',
  'user added',
  'user removed',
  'status changed',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface SyncChanges {
  previous: { id: string; startedAt: string; endedAt: string | null };
  current: { id: string; startedAt: string; endedAt: string | null };
  counts: Record<ChangeKind, number>;
  /** [kind code (index into CHANGE_KINDS), user id, user name, entitlement id, entitlement name, detail] */
  rows: (string | number)[][];
}

const run = (r: SyncRun | null) =>
  r ? { id: r.syncId, startedAt: r.startedAt, endedAt: r.endedAt } : { id: '', startedAt: '', endedAt: null };

export function diffDirectories(previous: AccessDirectory, current: AccessDirectory): SyncChanges {
  const counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>;
  const rows: (string | number)[][] = [];
  const add = (kind: ChangeKind, userId: string, userName: string, entId = '', entName = '', detail = '') => {
    counts[kind]++;
    rows.push([CHANGE_KINDS.indexOf(kind), userId, userName, entId, entName, detail]);
  };
  const holdings = (dir: AccessDirectory) => {
    const set = new Set<string>();
    dir.users.forEach((u, i) => {
      for (const e of dir.heldBy(i)) set.add(`${dir.entitlements[e]!.id}\u0000${u.id}`);
    });
    return set;
  };
  const entName = (dir: AccessDirectory, id: string) => {
    const i = dir.indexOfEntitlement(id);
    const e = i === undefined ? undefined : dir.entitlements[i];
    return e ? e.displayName || e.resourceName : '';
  };
  const userName = (id: string) => (current.userById(id) ?? previous.userById(id))?.displayName ?? '';

  for (const u of current.users) {
    if (u.missing) continue;
    const before = previous.userById(u.id);
    if (!before || before.missing) add('user added', u.id, u.displayName, '', '', u.status);
    else if (before.status !== u.status)
      add('status changed', u.id, u.displayName, '', '', `${before.status} → ${u.status}`);
  }
  for (const u of previous.users) {
    if (u.missing) continue;
    const now = current.userById(u.id);
    if (!now || now.missing) add('user removed', u.id, u.displayName);
  }
  const before = holdings(previous);
  const after = holdings(current);
  for (const key of after) {
    if (before.has(key)) continue;
    const [ent, uid] = key.split('\u0000') as [string, string];
    add('grant added', uid, userName(uid), ent, entName(current, ent));
  }
  for (const key of before) {
    if (after.has(key)) continue;
    const [ent, uid] = key.split('\u0000') as [string, string];
    add('grant removed', uid, userName(uid), ent, entName(previous, ent) || entName(current, ent));
  }
  return { previous: run(previous.sync), current: run(current.sync), counts, rows };
}
