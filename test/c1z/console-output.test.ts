import { describe, expect, it } from 'vitest';
import { render } from '../../src/cli/commands/inspect-output.js';
import type { Listing, Row } from '../../src/c1z/inspect.js';

describe('console output of a large listing', () => {
  it('aligns 200,000 rows without overflowing the call stack', async () => {
    const n = 200_000;
    function* rows(): Generator<Row> {
      for (let i = 0; i < n; i++) {
        const id = `role:3:member:user:${i}`;
        yield { cells: { id, principal: `user:${i}` }, json: () => ({ id }) };
      }
    }
    const listing: Listing = {
      name: 'grants',
      columns: [
        { key: 'id', header: 'Grant' },
        { key: 'principal', header: 'Principal' },
      ],
      rows: rows(),
      dangling: { grants: 0, entitlement: 0, principal: 0, resource: 0 },
    };
    let text = '';
    const count = await render(listing, 'console', { out: (t) => void (text += t), err: () => {} });
    expect(count).toBe(n);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(n + 2);
    // The widest id decides the first column: every principal starts at the same offset.
    const widest = `role:3:member:user:${n - 1}`.length;
    expect(lines[2]).toBe(`${'role:3:member:user:0'.padEnd(widest)}  user:0`);
    expect(lines.at(-1)).toBe(`role:3:member:user:${n - 1}  user:${n - 1}`);
  });
});
