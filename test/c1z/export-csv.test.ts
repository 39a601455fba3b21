import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExportCsv, BATON_CSV_COLUMNS, EXTRA_CSV_COLUMNS } from '../../src/cli/commands/export.js';
import type { InspectIo } from '../../src/cli/commands/inspect-output.js';
import { FIXTURE, openRawDb, useTempDirs } from './helpers.js';
import { ExitCode, formatError } from '../../src/errors.js';

const tempDir = useTempDirs();

/** Splits one CSV line written by csvField (quoted cells may hold commas and doubled quotes). */
function cells(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let v = '';
    if (line[i] === '"') {
      // The closing quote is the first one not doubled.
      let j = i + 1;
      while (j < line.length && !(line[j] === '"' && line[j + 1] !== '"')) j += line[j] === '"' ? 2 : 1;
      v = line.slice(i + 1, j).replace(/""/g, '"');
      i = j + 1;
    } else {
      const j = line.indexOf(',', i);
      v = line.slice(i, j < 0 ? line.length : j);
      i = j < 0 ? line.length : j;
    }
    out.push(v);
    if (line[i] !== ',') return out;
    i++;
  }
}

describe('export csv on the baton-coupa fixture', () => {
  it('keeps grants whose principal the file lacks, flags them MISSING and warns once on stderr', async () => {
    const db = openRawDb(FIXTURE, tempDir());
    const all = (db.prepare(`select count(*) n from v1_grants`).get() as { n: number }).n;
    const dangling = db
      .prepare(
        `select g.external_id id, g.entitlement_id ent from v1_grants g
         left join v1_resources r on r.external_id = g.principal_resource_type_id || ':' || g.principal_resource_id
         where r.id is null`,
      )
      .all() as { id: string; ent: string }[];
    const adminRoles = (
      db.prepare(`select external_id id, data from v1_resources where resource_type_id = 'role'`).all() as {
        id: string;
        data: Buffer;
      }[]
    )
      .filter((r) => r.data.toString('latin1').includes('Admin'))
      .map((r) => `${r.id}:member`);
    db.close();
    expect(dangling.length).toBeGreaterThan(0);
    // The audit's example: a dangling grant of an admin role must not vanish from the export.
    const danglingAdmin = dangling.filter((d) => adminRoles.includes(d.ent));
    expect(danglingAdmin.length).toBeGreaterThan(0);

    let out = '';
    let err = '';
    const io: InspectIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
    await runExportCsv({ file: FIXTURE, out: '-' }, io);
    const lines = out.trimEnd().split('\n');
    const header = cells(lines[0]!);
    expect(header).toEqual([...BATON_CSV_COLUMNS, ...EXTRA_CSV_COLUMNS]);
    expect(header.at(-1)).toBe('Missing');
    const rows = lines.slice(1).map(cells);
    const grants = rows.filter((r) => r[0] === 'Grant');
    expect(grants).toHaveLength(all);
    const col = (name: string) => header.indexOf(name);
    const flagged = grants.filter((r) => r[col('Missing')] === 'MISSING: principal');
    expect(flagged.map((r) => r[col('Grant')]).sort()).toEqual(dangling.map((d) => d.id).sort());
    for (const d of danglingAdmin) {
      const row = grants.find((r) => r[col('Grant')] === d.id)!;
      expect(row[col('Entitlement')]).toBe(d.ent);
      // The user id is known from the grant even though the user is not in the file.
      expect(row[col('User ID')]).toBe(d.id.split(':').at(-1));
      expect(row[col('Principal')]).toBe(`user:${d.id.split(':').at(-1)}`);
    }
    expect(
      grants.filter((r) => r[col('Missing')] !== '' && r[col('Missing')] !== 'MISSING: principal'),
    ).toEqual([]);
    expect(err).toContain(`warning: ${dangling.length} grant(s) reference objects absent from the file`);
    expect(err.trim().split('\n')).toHaveLength(1);
  });
});

describe('export csv --out', () => {
  it('an unusable path is a usage error that does not claim anything about Coupa', async () => {
    const dir = tempDir();
    const err = await runExportCsv(
      { file: FIXTURE, out: join(dir, 'no-such-dir', 'x.csv') },
      { out: () => {}, err: () => {} },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.usage });
    expect(formatError(err)).toMatch(/--out .*no-such-dir/);
    expect(formatError(err)).not.toMatch(/Coupa/);
  });
});
