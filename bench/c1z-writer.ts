/**
 * Writes a large c1z the way a sync does and reports speed and peak memory.
 *   npx tsx bench/c1z-writer.ts --grants 1000000 [--users 100000] [--out file.c1z]
 * Targets (issue 3): >= 100k grants/s and < 300 MB peak RSS for 1M grants.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { C1zWriter } from '../src/c1z/writer.js';
import type { Entitlement } from '../src/c1z/messages.js';
import type { User } from '../src/coupa/models.js';
import {
  licenseEntitlement,
  licenseResource,
  licenseResourceType,
  memberGrant,
  roles,
  roleMembership,
  userGroups,
  groupMembership,
  entitlementFor,
  userResourceType,
  userToResource,
} from '../src/connector/index.js';

const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '100000' },
    out: { type: 'string' },
  },
});
const GRANTS = Number(values.grants);
const USERS = Number(values.users);
const GROUPS = 500;
const ROLES = 100;
// baton-coupa's 13 license flags (Coupa output keys; the connector maps treasury to its id).
const LICENSE_FLAGS = [
  'aic-user',
  'analytics-user',
  'ccw-user',
  'contracts-user',
  'expense-user',
  'inventory-user',
  'purchasing-user',
  'risk-assess-user',
  'sourcing-user',
  'spend-guard-user',
  'supply-chain-user',
  'travel-user',
  'treasury-user',
];

const workDir = values.out ? undefined : mkdtempSync(join(tmpdir(), 'c1z-bench-'));
const out = values.out ?? join(workDir!, 'bench.c1z');
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const loadAtStart = loadavg()[0]!.toFixed(2);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const w = await C1zWriter.create(out);
// Every object is built by the connector's own mapping, so this measures what a sync writes.
for (const rt of [userResourceType, userGroups.resourceType, roles.resourceType, licenseResourceType]) {
  w.putResourceType(rt);
}

// Coupa user ids are integers; start where real tenants do, not at 1.
const userId = (i: number) => String(1000 + i);
for (let i = 0; i < USERS; i++) {
  const user: User = {
    id: 1000 + i,
    login: `user${i}`,
    email: `user${i}@example.com`,
    firstname: 'User',
    lastname: `Number ${i}`,
    fullname: `User Number ${i}`,
    active: true,
  };
  w.putResource(userToResource(user));
}

const entitlements: Entitlement[] = [];
const addOwner = (resource: Parameters<typeof licenseEntitlement>[0], entitlement: Entitlement) => {
  w.putResource(resource);
  w.putEntitlement(entitlement);
  entitlements.push(entitlement);
};
for (let g = 0; g < GROUPS; g++) {
  const group = userGroups.toResource({ id: 100 + g, name: `Group ${g}` });
  addOwner(group, entitlementFor(groupMembership, group));
}
for (let r = 0; r < ROLES; r++) {
  const role = roles.toResource({ id: r + 1, name: `Role ${r}` });
  addOwner(role, entitlementFor(roleMembership, role));
}
for (const flag of LICENSE_FLAGS) {
  const license = licenseResource(flag);
  addOwner(license, licenseEntitlement(license));
}

// A sync walks users and emits each user's grants; a stride through the entitlements keeps
// (entitlement, user) pairs unique for up to entitlements.length grants per user.
const tGrants = performance.now();
const cpuGrants = process.cpuUsage();
const perUser = Math.ceil(GRANTS / USERS);
let written = 0;
for (let u = 0; written < GRANTS; u = (u + 1) % USERS) {
  const round = Math.floor(written / USERS);
  const e = entitlements[(u * 7 + round * 13) % entitlements.length]!;
  const uid = userId(u);
  w.putGrant(memberGrant(e, uid));
  written++;
}
const grantSeconds = (performance.now() - tGrants) / 1000;
const grantCpu = process.cpuUsage(cpuGrants);
const grantCpuSeconds = (grantCpu.user + grantCpu.system) / 1e6;
// counts() sorts every grant id (grants are deduplicated at finish); a sync does not call it.
const tCounts = performance.now();
const counts = w.counts();
const countsSeconds = (performance.now() - tCounts) / 1000;
const tFinish = performance.now();
const cpuFinish = process.cpuUsage();
const result = await w.finish();
const finishSeconds = (performance.now() - tFinish) / 1000;
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};
const finishCpuSeconds = cpuSeconds(cpuFinish);
const totalCpuSeconds = cpuSeconds(cpu0);
const totalSeconds = (performance.now() - t0) / 1000;
const maxRssBytes = process.resourceUsage().maxRSS * 1024;

console.log(
  `c1z writer benchmark: ${GRANTS} grants over ${USERS} users (~${perUser}/user), ${entitlements.length} entitlements`,
);
console.log(`  rows written     ${JSON.stringify(counts)} (counts() took ${countsSeconds.toFixed(2)} s)`);
console.log(
  `  grants phase     ${grantSeconds.toFixed(2)} s  = ${Math.round(GRANTS / grantSeconds).toLocaleString('en-US')} grants/s`,
);
console.log(
  `  grants phase CPU ${grantCpuSeconds.toFixed(2)} s  = ${Math.round(GRANTS / grantCpuSeconds).toLocaleString('en-US')} grants per CPU-second`,
);
console.log(
  `  finish           ${finishSeconds.toFixed(2)} s (CPU ${finishCpuSeconds.toFixed(2)} s): deferred indexes, zstd, fsync, rename`,
);
console.log(
  `  total            ${totalSeconds.toFixed(2)} s  = ${Math.round(GRANTS / totalSeconds).toLocaleString('en-US')} grants/s end to end`,
);
console.log(`  total CPU        ${totalCpuSeconds.toFixed(2)} s  (load average at start ${loadAtStart})`);
console.log(`  output           ${mb(result.bytes)} MB (${result.path})`);
console.log(`  peak RSS         ${mb(maxRssBytes)} MB`);
if (counts.grants !== GRANTS) {
  console.error(`expected ${GRANTS} distinct grants, wrote ${counts.grants}`);
  process.exitCode = 1;
}
if (workDir) rmSync(workDir, { recursive: true, force: true });
