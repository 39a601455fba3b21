import { Option, type Command } from 'commander';
import type { JsonValue } from '@bufbuild/protobuf';
import type { CliCommand } from '../command.js';
import { ConfigError } from '../../errors.js';
import { safeText } from '../../util/safe-text.js';
import { AccessDirectory, type EntitlementFacts } from '../../c1z/directory.js';
import { managerText, noDangling, userJson, type Column, type Listing, type Row } from '../../c1z/inspect.js';
import {
  adminRegExp,
  DEFAULT_ADMIN_PATTERN,
  QUERY_IDS,
  runQuery,
  type QueryId,
  type QueryResult,
  type ReviewOptions,
} from '../../c1z/review-queries.js';
import { readSodRules } from '../../c1z/sod-rules.js';
import type { UserFacts } from '../../c1z/user-facts.js';
import { processIo, render, type InspectIo, type OutputFormat } from './inspect-output.js';
import { addC1zInputOptions, withC1z, type C1zInputOptions } from './c1z-input.js';

interface ReviewCliOptions extends C1zInputOptions {
  output: OutputFormat;
  adminPattern?: string;
  sodRules?: string;
}

const SUMMARIES: Record<QueryId, string> = {
  'inactive-access': 'Deactivated users who still hold licenses, roles or groups (one row per grant)',
  'admin-access': 'Holders of admin-like roles: omnipotent, or a name matching --admin-pattern',
  'api-users': 'API users and everything they hold',
  'no-sso': 'Active human users whose sign-in is not SAML SSO',
  'sod-conflicts': 'Users holding both sides of a forbidden pair (--sod-rules, or the built-in example)',
};

const USER_COLUMNS: Column[] = [
  { key: 'user', header: 'User' },
  { key: 'name', header: 'Name' },
  { key: 'login', header: 'Login' },
  { key: 'email', header: 'Email' },
  { key: 'status', header: 'Status' },
  { key: 'userType', header: 'User Type' },
  { key: 'manager', header: 'Manager' },
];

/** Which finding fields each query shows, after the user columns. */
function findingColumns(r: QueryResult): Column[] {
  const ent: Column[] = [
    { key: 'entitlement', header: 'Entitlement' },
    { key: 'entitlementName', header: 'Entitlement Name' },
    { key: 'resourceType', header: 'Kind' },
  ];
  switch (r.id) {
    case 'inactive-access':
    case 'api-users':
      return ent;
    case 'admin-access':
      return [...ent, { key: 'reason', header: r.reasonLabel }];
    case 'no-sso':
      return [
        { key: 'reason', header: r.reasonLabel },
        { key: 'ssoIdentifier', header: 'SSO Identifier' },
        { key: 'holds', header: 'Entitlements Held' },
      ];
    case 'sod-conflicts':
      return [
        { key: 'reason', header: r.reasonLabel },
        { key: 'entitlementName', header: 'Holds' },
        { key: 'otherName', header: 'And Also' },
      ];
  }
}

function entitlementJson(e: EntitlementFacts | undefined): JsonValue {
  if (!e) return null;
  return {
    id: e.id,
    displayName: e.displayName || null,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    resourceName: e.resourceName || null,
    omnipotent: e.omnipotent ?? null,
    missing: e.missing ?? false,
  };
}

function userCells(u: UserFacts): Record<string, string> {
  return {
    user: `user:${u.id}`,
    name: u.missing ? 'MISSING from the file' : u.displayName,
    login: u.login,
    email: u.email,
    status: u.status,
    userType: u.accountType,
    manager: managerText(u),
  };
}

/** A query's findings as an inspector listing, so console, JSON and CSV print like every other listing. */
export function reviewListing(dir: AccessDirectory, r: QueryResult): Listing {
  const rows: Row[] = r.findings.map((f) => {
    const u = dir.users[f.user]!;
    const e = f.entitlement === undefined ? undefined : dir.entitlements[f.entitlement];
    const o = f.other === undefined ? undefined : dir.entitlements[f.other];
    return {
      cells: {
        ...userCells(u),
        entitlement: e?.id ?? '',
        entitlementName: e ? e.displayName || e.resourceName : '',
        resourceType: e?.resourceType ?? '',
        otherName: o ? o.displayName || o.resourceName : '',
        reason: f.reason,
        ssoIdentifier: u.ssoIdentifier ?? '',
        holds: String(dir.heldBy(f.user).length),
      },
      json: () => ({
        user: {
          id: u.id,
          displayName: u.displayName || null,
          missing: u.missing ?? false,
          ...(userJson(u) as object),
        },
        entitlement: entitlementJson(e),
        ...(r.id === 'sod-conflicts' ? { conflictsWith: entitlementJson(o) } : {}),
        reason: f.reason,
        ...(r.id === 'no-sso' ? { entitlementsHeld: dir.heldBy(f.user).length } : {}),
      }),
    };
  });
  return {
    name: 'findings',
    head: {
      query: r.id,
      title: r.title,
      description: r.description,
      parameters: r.parameters,
      summary: { findings: r.findings.length, users: r.users },
      notes: r.notes,
    },
    columns: [...USER_COLUMNS, ...findingColumns(r)],
    rows,
    dangling: noDangling(),
  };
}

/** Reads the --admin-pattern and --sod-rules flags into query options; bad ones are usage errors. */
export function reviewOptions(o: { adminPattern?: string; sodRules?: string }): ReviewOptions {
  const opts: ReviewOptions = {};
  if (o.adminPattern !== undefined) {
    try {
      adminRegExp(o.adminPattern);
    } catch (err) {
      throw new ConfigError(
        `--admin-pattern "${o.adminPattern}" is not a regular expression (${(err as Error).message}).`,
      );
    }
    opts.adminPattern = o.adminPattern;
  }
  if (o.sodRules !== undefined) opts.sodRules = readSodRules(o.sodRules);
  return opts;
}

export async function runReview(id: QueryId, o: ReviewCliOptions, io: InspectIo = processIo): Promise<void> {
  const opts = reviewOptions(o); // before the file is decompressed: a bad rules file fails fast
  await withC1z(o, io, async (reader) => {
    const dir = AccessDirectory.load(reader);
    const result = runQuery(dir, id, opts);
    if (o.output === 'console') {
      await io.out(`${result.title}: ${result.findings.length} finding(s), ${result.users} user(s)\n`);
      await io.out(`${result.description}\n\n`);
    }
    await render(reviewListing(dir, result), o.output, io);
    for (const note of result.notes) io.err(`note: ${safeText(note)}\n`);
  });
}

function registerQuery(review: Command, id: QueryId, io: InspectIo | undefined): void {
  const cmd = review.command(id).description(SUMMARIES[id]);
  addC1zInputOptions(cmd, ['console', 'json', 'csv']);
  if (id === 'admin-access') {
    cmd.addOption(
      new Option('--admin-pattern <regex>', 'role names that count as admin-like (case-insensitive)').default(
        DEFAULT_ADMIN_PATTERN,
      ),
    );
  }
  if (id === 'sod-conflicts') {
    cmd.addOption(
      new Option(
        '--sod-rules <file>',
        'JSON file of forbidden pairs (default: the built-in example, Buyer + AP Clerk and Supplier Manager + AP Clerk)',
      ),
    );
  }
  cmd.addHelpText(
    'after',
    `
Examples:
  $ coupa-connector review ${id} -f sync.c1z
  $ coupa-connector review ${id} -f sync.c1z -o csv > ${id}.csv${
    id === 'admin-access'
      ? `\n  $ coupa-connector review admin-access -f sync.c1z --admin-pattern 'admin|approver'`
      : id === 'sod-conflicts'
        ? '\n  $ coupa-connector review sod-conflicts -f sync.c1z --sod-rules sod.json   (format: docs/access-reviews.md)'
        : ''
  }
Notes on stderr say what the file could not answer (e.g. baton-coupa files lack sign-in methods).`,
  );
  cmd.action(async (opts: ReviewCliOptions) => {
    await runReview(id, opts, io);
  });
}

/** `review <query>`: the access-review questions, each printable as a table, JSON or CSV. */
export function createReviewCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const review = program
        .command('review')
        .description('Access-review queries over a c1z file (see docs/access-reviews.md)')
        .addHelpText(
          'after',
          `
Examples:
  $ coupa-connector review inactive-access -f sync.c1z       deactivated users still holding access
  $ coupa-connector review admin-access -f sync.c1z -o csv > admins.csv
  $ coupa-connector review sod-conflicts -f sync.c1z --sod-rules sod.json
All five questions, with the per-role and per-user tables, in one page: \`report --out review.html\`.`,
        );
      for (const id of QUERY_IDS) registerQuery(review, id, io);
    },
  };
}

export const reviewCommand: CliCommand = createReviewCommand();
