/**
 * The service-mode soak on its own (`npm run bench` runs it too, after the syncs):
 *
 *   node --import tsx bench/soak.ts                 # 200 back-to-back full syncs, 100-user tenant
 *   node --import tsx bench/soak.ts --quick         # 20 tasks
 *   node --import tsx bench/soak.ts --tasks 500 --users 1000 --json soak.json
 *   node --import tsx bench/soak.ts --gc-every 0     # never force a GC (see docs/benchmarks.md, "Soak")
 *   node --import tsx bench/soak.ts --update BENCHMARKS.md   # rewrite only that file's soak section
 *
 * Exits 1 when a task failed, the daemon did not exit 0 on SIGTERM, or a figure grew (MISS).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from './lib/build.js';
import { consoleTable } from './lib/report.js';
import { describeMachine } from './lib/machine.js';
import {
  replaceSoakSection,
  runSoak,
  soakMarkdown,
  soakSummary,
  soakTable,
  SOAK_DEFAULTS,
} from './lib/soak.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string' },
    users: { type: 'string' },
    'gc-every': { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    // Replace (or add) the soak section of this Markdown report, e.g. BENCHMARKS.md.
    update: { type: 'string' },
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
const gcEvery = values['gc-every'] === undefined ? undefined : Number(values['gc-every']);
if (gcEvery !== undefined && (!Number.isInteger(gcEvery) || gcEvery < 0)) {
  console.error('--gc-every takes a whole number >= 0 (0 = never force a GC)');
  process.exit(2);
}
const result = await runSoak({ tasks, users, gcEvery, log: (l) => console.log(l) });
console.log(consoleTable(soakTable(result)));
for (const line of soakSummary(result)) console.log(line);
if (values.json) writeFileSync(resolve(values.json), `${JSON.stringify(result, null, 2)}\n`);
if (values.update) {
  const path = resolve(values.update);
  const command = `node --import tsx bench/soak.ts ${process.argv.slice(2).join(' ')}`.trim();
  const machine = describeMachine();
  const section = [
    ...soakMarkdown(result),
    `Run on its own by \`${command}\` on ${new Date().toISOString()} (commit ${machine.commit}, Node ${machine.node}, ` +
      `${machine.nproc} CPUs, load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' / ')}).`,
    '',
  ];
  writeFileSync(path, replaceSoakSection(readFileSync(path, 'utf8'), section));
  console.log(`updated the soak section of ${values.update}`);
}
if (Object.values(result.verdicts).includes('MISS')) process.exitCode = 1;
