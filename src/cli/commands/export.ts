import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { CliCommand } from '../command.js';
import { findAnnotation } from '../../c1z/any.js';
import {
  ResourceType_Trait,
  UserTrait_AccountType,
  UserTrait_Status_Status,
  UserTraitSchema,
  type Entitlement,
  type Resource,
  type UserTrait,
} from '../../c1z/messages.js';
import type { C1zReader } from '../../c1z/reader.js';
import { addC1zInputOptions, withC1z } from './c1z-input.js';
import { checkOutputTarget } from '../../util/output-target.js';
import { StoreCache } from './baton-output.js';
import { csvField, processIo, type InspectIo } from './inspect-output.js';
import {
  countMissing,
  danglingWarning,
  missingText,
  noDangling,
  type DanglingCounts,
} from '../../c1z/inspect.js';
import { safeText } from '../../util/safe-text.js';

/** baton's `export csv` columns, in its order. */
export const BATON_CSV_COLUMNS = [
  'Type',
  'Last Name',
  'First Name',
  'User ID',
  'User Status',
  'Email Address',
  'Entitlement Display Name',
  'Entitlement',
  'Resource Type',
  'Resource Name',
  'Entitlement Description',
  'Entitlement Slug',
] as const;

/**
 * Ours, after baton's: which principal and grant a row is, how the user signs in, and what a grant
 * row names that the file lacks (`MISSING: principal`, as the `grants` listing flags it).
 */
export const EXTRA_CSV_COLUMNS = [
  'Principal',
  'Display Name',
  'Login',
  'Account Type',
  'Grant',
  'Missing',
] as const;

const STATUS: Record<number, string> = {
  [UserTrait_Status_Status.ENABLED]: 'Enabled',
  [UserTrait_Status_Status.DISABLED]: 'Disabled',
  [UserTrait_Status_Status.DELETED]: 'Deleted',
};
const ACCOUNT: Record<number, string> = {
  [UserTrait_AccountType.HUMAN]: 'Human',
  [UserTrait_AccountType.SERVICE]: 'Service',
  [UserTrait_AccountType.SYSTEM]: 'System',
};

function profileString(t: UserTrait, key: string): string {
  const v = t.profile?.[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

/** The person columns of a user row: baton's (from the UserTrait and profile), then ours. */
function person(r: Resource, t: UserTrait) {
  const email = t.emails.find((e) => e.isPrimary)?.address ?? '';
  return {
    last: profileString(t, 'last_name'),
    first: profileString(t, 'first_name'),
    // baton reads profile.user_id, which Coupa files do not have: the Coupa user id stands in.
    userId: profileString(t, 'user_id') || r.id?.resource || '',
    // baton: no status means enabled.
    status: t.status ? (STATUS[t.status.status] ?? 'Unknown') : 'Enabled',
    email,
    principal: `${r.id?.resourceType}:${r.id?.resource}`,
    displayName: r.displayName,
    login: t.login,
    accountType: ACCOUNT[t.accountType] ?? '',
  };
}

function entitlementCells(e: Entitlement, resource: Resource | undefined): string[] {
  return [
    e.displayName,
    e.id,
    e.resource?.id?.resourceType ?? '',
    resource?.displayName ?? e.resource?.displayName ?? '',
    e.description,
    e.slug,
  ];
}

/**
 * Identity rows (every user), Entitlement rows, then Grant rows (grants to users), as baton. A
 * grant whose user, entitlement or resource the file lacks (baton-coupa leaves API users out but
 * keeps their grants) is still a row, flagged in Missing and counted in `dangling`: an export for
 * an access review must not silently lose who holds an Admin role.
 */
export function* exportRows(reader: C1zReader, dangling: DanglingCounts = noDangling()): Generator<string[]> {
  const sc = new StoreCache(reader);
  const userTypes = [...reader.resourceTypes()]
    .filter((rt) => rt.traits.includes(ResourceType_Trait.USER))
    .map((rt) => rt.id);
  for (const type of userTypes) {
    for (const r of reader.resources({ resourceType: type })) {
      const t = findAnnotation(r.annotations, UserTraitSchema);
      if (!t) continue;
      const p = person(r, t);
      yield [
        'Identity',
        p.last,
        p.first,
        p.userId,
        p.status,
        p.email,
        '',
        '',
        '',
        '',
        '',
        '',
        p.principal,
        p.displayName,
        p.login,
        p.accountType,
        '',
        '',
      ];
    }
  }
  for (const e of reader.entitlements()) {
    const rid = e.resource?.id;
    yield [
      'Entitlement',
      '',
      '',
      '',
      '',
      '',
      ...entitlementCells(e, sc.resource(rid?.resourceType, rid?.resource)),
      '',
      '',
      '',
      '',
      '',
      '',
    ];
  }
  const userTypeSet = new Set(userTypes.length ? userTypes : ['user']);
  for (const g of reader.grants()) {
    const pid = g.principal?.id;
    if (!pid) continue;
    const principal = reader.getResource(pid.resourceType, pid.resource);
    const t = principal ? findAnnotation(principal.annotations, UserTraitSchema) : undefined;
    // baton exports grants of users only; a principal absent from the file counts as a user when
    // its type is a user type (the only principals Coupa grants have).
    if (principal ? !t : !userTypeSet.has(pid.resourceType)) continue;
    const found = sc.entitlement(g.entitlement?.id);
    const e = found ?? g.entitlement;
    if (!e) continue;
    const rid = e.resource?.id;
    const resource = sc.resource(rid?.resourceType, rid?.resource);
    const missing = countMissing(dangling, { entitlement: found, principal, resource });
    const p = principal && t ? person(principal, t) : undefined;
    yield [
      'Grant',
      p?.last ?? '',
      p?.first ?? '',
      // The grant names the user even when the file lacks it: the Coupa user id.
      p?.userId ?? pid.resource,
      '', // baton leaves the status out of grant rows
      p?.email ?? '',
      ...entitlementCells(e, resource),
      p?.principal ?? `${pid.resourceType}:${pid.resource}`,
      p?.displayName ?? '',
      p?.login ?? '',
      p?.accountType ?? '',
      g.id,
      missingText(missing),
    ];
  }
}

export interface ExportCsvOptions {
  file: string;
  syncId?: string;
  out: string;
}

/** Writes the CSV to `--out` (replaced only once complete), or to stdout with `--out -`. */
export async function runExportCsv(o: ExportCsvOptions, io: InspectIo = processIo): Promise<number> {
  // Never replace what is not a regular file (/dev/null as root would break the system); a wrong
  // --out is found before the c1z is decompressed.
  const target =
    o.out === '-' ? undefined : resolve(await checkOutputTarget(o.out, '--out', 'nothing was written'));
  return withC1z(o, io, async (reader) => {
    const header = [...BATON_CSV_COLUMNS, ...EXTRA_CSV_COLUMNS];
    const line = (cells: readonly string[]) => cells.map(csvField).join(',') + '\n';
    const dangling = noDangling();
    const warn = () => {
      const warning = danglingWarning(dangling);
      if (warning) io.err(safeText(`warning: ${warning}`) + '\n');
    };
    let rows = 0;
    if (target === undefined) {
      let chunk = line(header);
      for (const r of exportRows(reader, dangling)) {
        chunk += line(r);
        rows++;
        if (chunk.length > 1 << 16) {
          await io.out(chunk);
          chunk = '';
        }
      }
      await io.out(chunk);
      warn();
      return rows;
    }
    const tmp = join(dirname(target), `.${basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
    const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
    try {
      const write = async (text: string) => {
        if (!stream.write(text)) await once(stream, 'drain');
      };
      await write(line(header));
      for (const r of exportRows(reader, dangling)) {
        await write(line(r));
        rows++;
      }
      stream.end();
      await once(stream, 'finish');
      await rename(tmp, target);
    } catch (err) {
      stream.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
    warn();
    io.err(`Wrote ${rows} rows to ${target}.\n`);
    return rows;
  });
}

export function createExportCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const exp = program.command('export').description('Export the data of a c1z file (baton: export csv)');
      const csv = exp
        .command('csv')
        .description(
          "One CSV of identities, entitlements and grants, with baton's columns, then Principal, Display Name, Login, Account Type and Grant",
        );
      addC1zInputOptions(csv);
      csv.option('--out <path>', 'where to write the CSV (- for stdout)', './sync.csv');
      csv.action(async (opts: ExportCsvOptions) => {
        await runExportCsv(opts, io);
      });
    },
  };
}

export const exportCommand: CliCommand = createExportCommand();
