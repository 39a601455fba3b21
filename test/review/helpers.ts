import { join } from 'node:path';
import { Command } from 'commander';
import type { Simulator } from '../../src/simulator/index.js';
import { syncToC1z } from '../../src/connector/sync.js';
import type { InspectIo } from '../../src/cli/commands/inspect-output.js';
import type { CliCommand } from '../../src/cli/command.js';
import { testClient } from '../helpers/client.js';
import { testSimulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';
import { truthByType } from '../helpers/membership-truth.js';

export type GroundTruth = ReturnType<Simulator['groundTruth']>;

/**
 * A simulated tenant synced into a c1z, for review tests: roles enough for the built-in
 * separation-of-duties pairs (Supplier Manager is custom role 13) and an omnipotent custom role
 * (Integration Admin, 14).
 */
export async function syncedTenant(spec: { seed: number; users: number; roles?: number }): Promise<{
  sim: Simulator;
  gt: GroundTruth;
  file: string;
  dir: string;
  close(): Promise<void>;
}> {
  const sim = await testSimulator({ tenant: { roles: 16, userGroups: 14, ...spec } });
  const tmp = tempDir('review-test-');
  const file = join(tmp.dir, 'sync.c1z');
  try {
    await syncToC1z({ client: testClient(sim), outPath: file });
  } catch (err) {
    await sim.close();
    tmp.cleanup();
    throw err;
  }
  return {
    sim,
    gt: sim.groundTruth(),
    file,
    dir: tmp.dir,
    close: async () => {
      await sim.close();
      tmp.cleanup();
    },
  };
}

/**
 * Every entitlement each user holds according to the ground truth, as entitlement ids written out
 * from baton-coupa's conventions (not taken from the connector's code).
 */
export function holdingsOf(gt: GroundTruth): Map<number, string[]> {
  const out = new Map<number, string[]>(gt.users.map((u) => [u.id, []]));
  for (const t of truthByType(gt)) for (const [u, o] of t.holders) out.get(u)?.push(t.entitlementOf(o));
  return out;
}

/** Runs one CLI command in-process and captures what it prints. */
export async function runCaptured(command: (io: InspectIo) => CliCommand, ...args: string[]) {
  let out = '';
  let err = '';
  const io: InspectIo = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  };
  const program = new Command('coupa-connector').exitOverride();
  command(io).register(program);
  await program.parseAsync(args, { from: 'user' });
  return { out, err };
}

/** Minimal RFC 4180 reader for the CSV the CLI writes (quoted fields may hold commas and quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
