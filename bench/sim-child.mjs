// @ts-check
/* global process, console */
/**
 * The simulator for one benchmark size, in its own process so that the tenant (which lives in it)
 * is not counted against the sync's memory. Runs the built code (dist/). IPC with bench/run.ts:
 *   → {type:'ready', url, clientId, clientSecret, truth}
 *   ← {type:'counters'}  → {type:'counters', counters}
 *   ← {type:'stop'}, SIGTERM or the parent going away: close and exit.
 * The credentials are the simulator's own throw-away values.
 *
 *   node bench/sim-child.mjs --tenant '{"users":1000,…}' --latency 100 --rate 25 --burst 20
 */
import { parseArgs } from 'node:util';
import { startSimulator } from '../dist/simulator/index.js';
import { association } from '../dist/simulator/associations.js';
import { MEMBERSHIP_TYPES } from '../dist/connector/types/list.js';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    latency: { type: 'string', default: '100' },
    rate: { type: 'string', default: '25' },
    burst: { type: 'string', default: '20' },
    // A LatencyModel as JSON (e.g. {"kind":"lognormal","medianMs":1000,"p99Ms":3000}); wins over --latency.
    'latency-model': { type: 'string' },
  },
});
if (!process.send || !values.tenant) {
  console.error('bench/sim-child.mjs is started by bench/run.ts (needs --tenant and an IPC channel)');
  process.exit(2);
}
const send = process.send.bind(process);
const rate = Number(values.rate);
const sim = await startSimulator({
  tenant: JSON.parse(values.tenant),
  latency: values['latency-model'] ? JSON.parse(values['latency-model']) : Number(values.latency),
  rateLimit: rate > 0 ? { perSecond: rate, burst: Number(values.burst) } : false,
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sim.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
process.on('message', (/** @type {{type: string}} */ msg) => {
  if (msg.type === 'counters') send({ type: 'counters', counters: sim.counters() });
  if (msg.type === 'stop') void stop();
});

// Only counts cross the process boundary; at 100k users the full ground truth is megabytes.
const gt = sim.groundTruth();
const m = gt.memberships;
send({
  type: 'ready',
  url: sim.url,
  clientId: sim.clientId,
  clientSecret: sim.clientSecret,
  truth: {
    users: gt.users.length,
    userGroups: gt.userGroups.length,
    roles: gt.roles.length,
    contentGroups: gt.contentGroups.length,
    accountGroups: gt.accountGroups.length,
    licenseFlags: gt.licenseFlags.length,
    // One grant per (user, object) pair of every membership type in the list: the user arrays'
    // pairs through the simulator's association table, the flags' through its licenses.
    grants: MEMBERSHIP_TYPES.reduce(
      (n, t) => n + (t.carrier === 'user-array' ? m[association(t.userField).truth] : m.licenses).length,
      0,
    ),
  },
});
