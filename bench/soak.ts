/**
 * The service-mode soak on its own (`npm run bench` runs it too, after the syncs):
 *
 *   node --import tsx bench/soak.ts                 # 200 back-to-back full syncs, 100-user tenant
 *   node --import tsx bench/soak.ts --quick         # 20 tasks
 *   node --import tsx bench/soak.ts --tasks 500 --users 1000 --json soak.json
 *
 * Exits 1 when a task failed, the daemon did not exit 0 on SIGTERM, or a figure grew (MISS).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from './lib/build.js';
import { consoleTable } from './lib/report.js';
import { runSoak, soakSummary, soakTable, SOAK_DEFAULTS } from './lib/soak.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string' },
    users: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});

const defaults = values.quick ? SOAK_DEFAULTS.quick : SOAK_DEFAULTS.full;
const tasks = Number(values.tasks ?? defaults.tasks);
const users = Number(values.users ?? defaults.users);
if (!Number.isInteger(tasks) || tasks < 4 || !Number.isInteger(users) || users < 1) {
  console.error('--tasks takes a whole number >= 4 (quartiles need four), --users one >= 1');
  process.exit(2);
}
ensureBuilt(values['no-build'] ? 'never' : 'auto');
console.log(`[soak] ${tasks} full-sync tasks, ${users}-user tenant, through the daemon process…`);
const result = await runSoak({ tasks, users, log: (l) => console.log(l) });
console.log(consoleTable(soakTable(result)));
for (const line of soakSummary(result)) console.log(line);
if (values.json) writeFileSync(resolve(values.json), `${JSON.stringify(result, null, 2)}\n`);
if (Object.values(result.verdicts).includes('MISS')) process.exitCode = 1;
