// @ts-check
/* global process, console, performance */
/**
 * One `report` run, alone in its process, so that process.resourceUsage().maxRSS is the report's
 * own peak. Plain JavaScript on the built code (dist/), as `coupa-connector report` runs it.
 * Prints one JSON line: ReportChildResult in bench/lib/report-bench.ts.
 *
 *   node bench/report-child.mjs --file sync.c1z --out report.html
 */
import { parseArgs } from 'node:util';
import { generateReport } from '../dist/report/index.js';

const { values } = parseArgs({ options: { file: { type: 'string' }, out: { type: 'string' } } });
if (!values.file || !values.out) {
  console.error('usage: node bench/report-child.mjs --file F.c1z --out F.html');
  process.exit(2);
}
const phases = {};
let last = performance.now();
let phase = 'start';
const result = await generateReport({
  file: values.file,
  out: values.out,
  onPhase: (p) => {
    const now = performance.now();
    phases[phase] = (now - last) / 1000;
    phase = p;
    last = now;
  },
});
phases[phase] = (performance.now() - last) / 1000;
console.log(
  JSON.stringify({
    bytes: result.bytes,
    seconds: result.durationMs / 1000,
    phases,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    summary: result.summary,
    changes: result.changes,
  }),
);
