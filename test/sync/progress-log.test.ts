import { describe, expect, it } from 'vitest';
import { createProgressLog } from '../../src/cli/progress.js';

describe('a sync without a progress bar logs where it is', () => {
  it('every 30 s, with users read, the estimate and requests; nothing for a shorter sync', () => {
    let t = 1_000;
    const records: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const log = createProgressLog(
      {
        info: (fields: object, msg?: string) =>
          void records.push({ fields: fields as Record<string, unknown>, msg: msg! }),
      } as never,
      30_000,
      () => t,
    );
    const at = (seconds: number, usersSynced: number, usersEstimated?: number) => {
      t = 1_000 + seconds * 1000;
      log.update({
        phase: 'users',
        usersSynced,
        usersEstimated,
        requests: usersSynced / 50,
        elapsedMs: seconds * 1000,
      });
    };
    at(0, 0);
    at(10, 500, 20_000);
    at(29.9, 1_500, 20_000);
    expect(records).toEqual([]);
    at(30, 1_550, 20_000);
    at(45, 2_300, 20_000);
    at(61, 3_000, 19_000);
    expect(records.map((r) => r.msg)).toEqual(['sync progress', 'sync progress']);
    expect(records[0]!.fields).toEqual({
      phase: 'users',
      users: 1_550,
      usersEstimated: 20_000,
      requests: 31,
      elapsedMs: 30_000,
    });
    expect(records[1]!.fields).toMatchObject({ users: 3_000, usersEstimated: 19_000, elapsedMs: 61_000 });
  });
});
