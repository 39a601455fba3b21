import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { C1zReader } from '../../src/c1z/reader.js';
import { changeCount, diffSyncs } from '../../src/c1z/diff.js';
import { EntitlementSchema } from '../../src/c1z/messages.js';
import { CHANGE_KINDS, changesFromDiff, type SyncChanges } from '../../src/report/changes.js';
import { CLIENT_JS } from '../../src/report/client.js';
import { sampleData, useTempDirs, withMembership, writeSync, type Sample } from '../c1z/helpers.js';

const tempDir = useTempDirs();

/** The report's changes between the last two syncs written to a fresh file. */
async function changesOf(before: Sample, after: Sample): Promise<{ c: SyncChanges; diffTotal: number }> {
  const file = join(tempDir(), 'two.c1z');
  await writeSync(file, before);
  await writeSync(file, after);
  const reader = await C1zReader.open(file);
  try {
    const prev = reader.syncRuns()[1]!;
    const d = diffSyncs(reader.forSync(prev.syncId), reader);
    return { c: changesFromDiff(d), diffTotal: changeCount(d) };
  } finally {
    reader.close();
  }
}

const kindOf = (row: (string | number)[]) => CHANGE_KINDS[row[0] as number];

describe('report changes', () => {
  it('4 roles and groups added: 4 resources added (not 8), each listed once, with its grant', async () => {
    const base = sampleData(2);
    let after = base;
    after = withMembership(after, 'role', '71', 'Auditor');
    after = withMembership(after, 'role', '72', 'Approver');
    after = withMembership(after, 'group', '73', 'Finance');
    after = withMembership(after, 'group', '74', 'Legal', '2');
    const { c } = await changesOf(base, after);
    expect(c.counts['resource added']).toBe(4);
    expect(c.counts['grant added']).toBe(4);
    const nonZero = Object.entries(c.counts).filter(([, n]) => n > 0);
    expect(Object.fromEntries(nonZero)).toEqual({ 'resource added': 4, 'grant added': 4 });
    const added = c.rows.filter((r) => kindOf(r) === 'resource added').map((r) => r[1]);
    expect(added.sort()).toEqual(['group:73', 'group:74', 'role:71', 'role:72']);
  });

  it('a new entitlement on a resource that stays (a group becomes approver) is its own change', async () => {
    const base = sampleData(2);
    const group = base.resources.find((r) => r.id!.resourceType === 'group' && r.id!.resource === '10')!;
    const approver = create(EntitlementSchema, {
      resource: group,
      id: 'group:10:approver',
      displayName: 'Buyers approver',
      slug: 'approver',
    });
    const { c } = await changesOf(base, { ...base, entitlements: [...base.entitlements, approver] });
    expect(c.counts['resource added']).toBe(0);
    expect(c.counts['entitlement added']).toBe(1);
    const row = c.rows.find((r) => kindOf(r) === 'entitlement added')!;
    expect(row[1]).toBe('group:10');
    expect(row[3]).toBe('group:10:approver');
  });

  it("the page's script names the change kinds in the same order as the data's codes", () => {
    const m = /var CHANGE_KINDS = (\[[^\]]*\]);/.exec(CLIENT_JS);
    expect(JSON.parse(m![1]!.replace(/'/g, '"'))).toEqual([...CHANGE_KINDS]);
  });
});
