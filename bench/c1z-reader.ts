/**
 * Times the c1z reader's listings on a file shaped like a 100k-user sync: one license held by
 * 70% of the users (the case that made filtered listings quadratic), groups and roles besides.
 *   npx tsx bench/c1z-reader.ts [--users 100000] [--per-user 6] [--lookups 10000] [--repeat 3]
 * Each listing runs --repeat times; the fastest run is shown, as the others only add noise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { C1zReader } from '../src/c1z/reader.js';
import { C1zWriter } from '../src/c1z/writer.js';
import type { Entitlement } from '../src/c1z/messages.js';
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
    users: { type: 'string', default: '100000' },
    'per-user': { type: 'string', default: '6' },
    lookups: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '3' },
  },
});
const USERS = Number(values.users);
const PER_USER = Number(values['per-user']);
const LOOKUPS = Math.min(USERS, Number(values.lookups));
const REPEAT = Math.max(1, Number(values.repeat));
const BIG_SHARE = 0.7;

const workDir = mkdtempSync(join(tmpdir(), 'c1z-reader-bench-'));
const file = join(workDir, 'bench.c1z');
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(3);
const userId = (i: number) => String(1000 + i);

try {
  // Built with the connector's own mapping, as bench/c1z-writer.ts does, so rows are what a sync writes.
  const tBuild = performance.now();
  const w = await C1zWriter.create(file);
  for (const rt of [userResourceType, userGroups.resourceType, roles.resourceType, licenseResourceType]) {
    w.putResourceType(rt);
  }
  for (let i = 0; i < USERS; i++) {
    const n = `Number ${i}`;
    w.putResource(
      userToResource({
        id: 1000 + i,
        login: `user${i}`,
        email: `user${i}@example.com`,
        firstname: 'User',
        lastname: n,
        fullname: `User ${n}`,
        active: true,
      }),
    );
  }
  const others: Entitlement[] = [];
  for (let g = 0; g < 500; g++) {
    const group = userGroups.toResource({ id: 100 + g, name: `Group ${g}` });
    w.putResource(group);
    others.push(entitlementFor(groupMembership, group));
  }
  for (let r = 0; r < 100; r++) {
    const role = roles.toResource({ id: r + 1, name: `Role ${r}` });
    w.putResource(role);
    others.push(entitlementFor(roleMembership, role));
  }
  const license = licenseResource('purchasing-user');
  w.putResource(license);
  const big = licenseEntitlement(license);
  for (const e of [...others, big]) w.putEntitlement(e);
  // A sync walks users and writes each user's grants, so the big license's rows are spread over
  // the whole id range rather than in one block.
  let bigHolders = 0;
  for (let u = 0; u < USERS; u++) {
    if (u % 10 < BIG_SHARE * 10) {
      w.putGrant(memberGrant(big, userId(u)));
      bigHolders++;
    }
    for (let k = 0; k < PER_USER; k++)
      w.putGrant(memberGrant(others[(u * 7 + k * 13) % others.length]!, userId(u)));
  }
  const written = await w.finish();
  console.log(
    `c1z reader benchmark: ${USERS} users, ${bigHolders + USERS * PER_USER} grants, ` +
      `${bigHolders} on ${big.id}; file ${(written.bytes / 1024 / 1024).toFixed(1)} MB built in ${seconds(tBuild)} s`,
  );

  const peakRss = () => `${((process.resourceUsage().maxRSS * 1024) / 1024 / 1024).toFixed(1)} MB`;
  console.log(`  peak RSS after building ${peakRss()}`);
  const reader = await C1zReader.open(file, { tmpDir: workDir });
  const time = (label: string, run: () => number) => {
    let best = Infinity;
    let rows = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now();
      rows = run();
      best = Math.min(best, performance.now() - t);
    }
    const s = (best / 1000).toFixed(3);
    console.log(`  ${label.padEnd(56)} ${String(rows).padStart(7)} rows ${s.padStart(8)} s`);
  };
  const count = (it: Iterable<unknown>) => {
    let n = 0;
    for (const _ of it) n++;
    return n;
  };
  try {
    time('grants(), unfiltered', () => count(reader.grants()));
    time(`grants({ entitlementId: '${big.id}' })`, () => count(reader.grants({ entitlementId: big.id })));
    time(`grants({ entitlementId: '${others[0]!.id}' })`, () =>
      count(reader.grants({ entitlementId: others[0]!.id })),
    );
    time(`grants({ principal: user ${userId(0)} })`, () =>
      count(reader.grants({ principalType: 'user', principalId: userId(0) })),
    );
    // The demo and the inspector's `access` run one principal lookup per user, nested in a listing.
    time(`${LOOKUPS} principals' grants, nested`, () => {
      let n = 0;
      let seen = 0;
      for (const user of reader.resources({ resourceType: 'user' })) {
        if (seen++ === LOOKUPS) break;
        const uid = user.id?.resource ?? '';
        n += count(reader.grants({ principalType: 'user', principalId: uid }));
      }
      return n;
    });
    // Filters that match most of the file: the quadratic case at its largest.
    time(`grants({ resourceType: 'group' })`, () => count(reader.grants({ resourceType: 'group' })));
    time(`grants({ principalType: 'user' })`, () => count(reader.grants({ principalType: 'user' })));
    time(`resources({ resourceType: 'user' })`, () => count(reader.resources({ resourceType: 'user' })));
    time(`entitlements({ resourceType: 'group' })`, () =>
      count(reader.entitlements({ resourceType: 'group' })),
    );
  } finally {
    reader.close();
  }
  console.log(`  peak RSS after reading ${peakRss()}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
