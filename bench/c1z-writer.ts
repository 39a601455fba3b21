/**
 * Writes a large c1z the way a sync does and reports speed and peak memory.
 *   npx tsx bench/c1z-writer.ts --grants 1000000 [--users 100000] [--out file.c1z]
 * Targets (issue 3): >= 100k grants/s and < 300 MB peak RSS for 1M grants.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { C1zWriter } from '../src/c1z/writer.js';
import { emptyAnnotation, packAnnotation } from '../src/c1z/any.js';
import {
  Entitlement_PurposeValue,
  EntitlementSchema,
  GrantSchema,
  GroupTraitSchema,
  Resource_CreationSource,
  ResourceSchema,
  ResourceType_Trait,
  ResourceTypeSchema,
  RoleTraitSchema,
  UserTrait_AccountType,
  UserTrait_Status_Status,
  UserTraitSchema,
  type Entitlement,
  type Resource,
} from '../src/c1z/messages.js';

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
const LICENSES = [
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
  'treasury_user',
];

const workDir = values.out ? undefined : mkdtempSync(join(tmpdir(), 'c1z-bench-'));
const out = values.out ?? join(workDir!, 'bench.c1z');
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const loadAtStart = loadavg()[0]!.toFixed(2);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const w = await C1zWriter.create(out);
const userRt = create(ResourceTypeSchema, {
  id: 'user',
  displayName: 'User',
  traits: [ResourceType_Trait.USER],
});
w.putResourceType(userRt);
w.putResourceType(
  create(ResourceTypeSchema, { id: 'group', displayName: 'group', traits: [ResourceType_Trait.GROUP] }),
);
w.putResourceType(
  create(ResourceTypeSchema, { id: 'role', displayName: 'role', traits: [ResourceType_Trait.ROLE] }),
);
w.putResourceType(create(ResourceTypeSchema, { id: 'license', displayName: 'license' }));

// Coupa user ids are integers; start where real tenants do, not at 1.
const userId = (i: number) => String(1000 + i);
for (let i = 0; i < USERS; i++) {
  const email = `user${i}@example.com`;
  w.putResource(
    create(ResourceSchema, {
      id: { resourceType: 'user', resource: userId(i) },
      displayName: `User Number ${i}`,
      annotations: [
        packAnnotation(UserTraitSchema, {
          emails: [{ address: email, isPrimary: true }],
          status: { status: UserTrait_Status_Status.ENABLED },
          profile: { id: 1000 + i, email, full_name: `User Number ${i}`, active: true },
          accountType: UserTrait_AccountType.HUMAN,
          login: email,
        }),
      ],
      creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
    }),
  );
}

const entitlements: Entitlement[] = [];
const addOwner = (r: Resource, name: string, label: string) => {
  w.putResource(r);
  const e = create(EntitlementSchema, {
    resource: r,
    id: `${r.id!.resourceType}:${r.id!.resource}:${name}`,
    displayName: `${r.displayName} ${label}`,
    description: `${r.displayName} ${label.toLowerCase()} in Coupa`,
    grantableTo: [userRt],
    purpose: Entitlement_PurposeValue.ASSIGNMENT,
    slug: name,
  });
  w.putEntitlement(e);
  // Grants embed a stub (id + resource), built once per entitlement as a sync would.
  entitlements.push(create(EntitlementSchema, { id: e.id, resource: r }));
};
for (let g = 0; g < GROUPS; g++) {
  addOwner(
    create(ResourceSchema, {
      id: { resourceType: 'group', resource: String(100 + g) },
      displayName: `Group ${g}`,
      description: `Group ${g} group in Coupa`,
      annotations: [emptyAnnotation(GroupTraitSchema)],
      creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
    }),
    'member',
    'Group',
  );
}
for (let r = 0; r < ROLES; r++) {
  addOwner(
    create(ResourceSchema, {
      id: { resourceType: 'role', resource: String(r + 1) },
      displayName: `Role ${r}`,
      description: `Role ${r} role in Coupa`,
      annotations: [emptyAnnotation(RoleTraitSchema)],
      creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
    }),
    'member',
    'Role',
  );
}
for (const l of LICENSES) {
  addOwner(
    create(ResourceSchema, {
      id: { resourceType: 'license', resource: l },
      displayName: l,
      description: `${l} license in Coupa`,
      creationSource: Resource_CreationSource.CONNECTOR_LIST_RESOURCES,
    }),
    'assigned',
    'License',
  );
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
  w.putGrant(
    create(GrantSchema, {
      id: `${e.id}:user:${uid}`,
      entitlement: e,
      principal: { id: { resourceType: 'user', resource: uid } },
    }),
  );
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
