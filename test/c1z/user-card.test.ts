import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { runUser } from '../../src/cli/commands/user.js';
import { buildUserCard, formatUserCard } from '../../src/c1z/user-card.js';
import { userFacts } from '../../src/c1z/user-facts.js';
import { C1zReader } from '../../src/c1z/reader.js';
import { ResourceSchema } from '../../src/c1z/messages.js';
import type { InspectIo } from '../../src/cli/commands/inspect-output.js';
import { TERMINAL_UNSAFE } from '../hardening/hostile-run.js';
import { sampleData, useTempDirs, writeSync } from './helpers.js';

const tempDir = useTempDirs();

/** A role whose name holds a line break and a label, as if it were one more line of the card. */
const FORGED = 'Admin\n  status          disabled, human\x1b[2J';

async function fileWithForgedRole(): Promise<string> {
  const s = sampleData(3);
  const resources = s.resources.map((r) =>
    r.id!.resourceType === 'role' ? create(ResourceSchema, { ...r, displayName: FORGED }) : r,
  );
  const file = join(tempDir(), 'forged.c1z');
  await writeSync(file, { ...s, resources });
  return file;
}

describe('user card', () => {
  it('a line break in a role name cannot forge a card line: names are escaped before layout', async () => {
    const file = await fileWithForgedRole();
    let out = '';
    const io: InspectIo = { out: (t) => void (out += t), err: () => {} };
    // User 3 holds the group, the role and the license (see sampleData).
    await runUser('3', { file, output: 'console' }, io);
    expect(out).not.toMatch(TERMINAL_UNSAFE);
    const lines = out.trimEnd().split('\n');
    expect(lines.filter((l) => /^\s+status\s/.test(l))).toHaveLength(1);
    const roles = lines.find((l) => /^\s+roles\s/.test(l))!;
    expect(roles).toContain('Admin\\x0a  status          disabled, human\\x1b[2J');
  });

  it('demo prints the same card: formatUserCard itself is safe, without a sanitiser after it', async () => {
    const file = await fileWithForgedRole();
    const reader = await C1zReader.open(file);
    try {
      const card = formatUserCard(buildUserCard(reader, userFacts(reader.getResource('user', '3')!)), 2);
      expect(card).not.toMatch(TERMINAL_UNSAFE);
      expect(
        card
          .trimEnd()
          .split('\n')
          .filter((l) => /^\s+status\s/.test(l)),
      ).toHaveLength(1);
    } finally {
      reader.close();
    }
  });
});
