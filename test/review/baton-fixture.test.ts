import { describe, expect, it } from 'vitest';
import { AccessDirectory } from '../../src/c1z/directory.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { runQuery } from '../../src/c1z/review-queries.js';
import { FIXTURE, openRawDb, useTempDirs } from '../c1z/helpers.js';

const tempDir = useTempDirs();

describe('review questions on a baton-coupa file', () => {
  it('api-users: no finding can be trusted, so a note says why and names the users the file lacks', async () => {
    const db = openRawDb(FIXTURE, tempDir());
    const absent = (
      db
        .prepare(
          `select count(distinct g.principal_resource_id) n from v1_grants g
           left join v1_resources r on r.external_id = 'user:' || g.principal_resource_id
           where g.principal_resource_type_id = 'user' and r.id is null`,
        )
        .get() as { n: number }
    ).n;
    db.close();
    expect(absent).toBeGreaterThan(0);
    const reader = await C1zReader.open(FIXTURE);
    let dir: AccessDirectory;
    try {
      dir = AccessDirectory.load(reader);
    } finally {
      reader.close();
    }
    const r = runQuery(dir, 'api-users');
    expect(r.findings).toEqual([]);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/no user in this file says whether it is an API user/i);
    expect(r.notes[0]).toContain(`${absent} user(s) hold grants but are absent from the file`);
  });
});
