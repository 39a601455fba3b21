import { Option, type Command } from 'commander';
import type { CliCommand } from '../command.js';
import { option } from '../options.js';
import { ConfigError } from '../../errors.js';
import { C1zReader } from '../../c1z/reader.js';
import {
  accessOfPrincipal,
  accessToEntitlement,
  danglingWarning,
  listEntitlements,
  listGrants,
  listResources,
  listResourceTypes,
  parseRef,
  statsListing,
  type Listing,
} from '../../c1z/inspect.js';
import { resolvePrincipal } from '../../c1z/principal.js';
import { checkFilters, knownEntitlement } from '../../c1z/known-refs.js';
import { withC1z } from './c1z-input.js';
import { safeCell, safeText } from '../../util/safe-text.js';
import { processIo, render, type InspectIo, type OutputFormat } from './inspect-output.js';
import {
  entitlementRows,
  grantRows,
  resourceRows,
  resourceTypeRows,
  writeBatonAccess,
  writeJsonList,
} from './baton-output.js';

export interface InspectOptions {
  file: string;
  output: OutputFormat;
  resourceType?: string;
  resource?: string;
  entitlement?: string;
  principal?: string;
  syncId?: string;
}

type Kind = 'resource-types' | 'resources' | 'entitlements' | 'grants' | 'stats' | 'access';

const DESCRIPTIONS: Record<Kind, string> = {
  'resource-types': 'List the resource types in a c1z file',
  resources: 'List the resources in a c1z file (filter with --resource-type)',
  entitlements: 'List the entitlements in a c1z file (filter with --resource-type, --resource)',
  grants:
    'List the grants in a c1z file (filter with --resource-type, --resource, --entitlement, --principal)',
  stats: 'Count the objects of the sync a c1z file holds',
  access:
    'Who has what: --principal user:42 lists every entitlement it holds; --entitlement role:3:member lists every principal holding it',
};

/** Shown after the options of `<kind> --help`, for the commands whose use is not obvious. */
const EXAMPLES: Partial<Record<Kind, string>> = {
  access: `
Examples:
  $ coupa-connector access -f sync.c1z --principal alice@example.com     everything a user holds
  $ coupa-connector access -f sync.c1z --principal user:41 -o csv > alice.csv
  $ coupa-connector access -f sync.c1z --entitlement role:2:member        everyone holding a role
  $ coupa-connector access -f sync.c1z -t user -r 41 -o json               baton's form and JSON shape
An unknown user or entitlement is an error (exit 2), never an empty list.`,
};

const FILTERS: Record<Kind, ('resourceType' | 'resource' | 'entitlement' | 'principal')[]> = {
  'resource-types': [],
  resources: ['resourceType'],
  entitlements: ['resourceType', 'resource'],
  grants: ['resourceType', 'resource', 'entitlement', 'principal'],
  stats: [],
  // -t/-r: baton's way to name the principal (then -o json is baton's ResourceAccessListOutput).
  access: ['entitlement', 'principal', 'resourceType', 'resource'],
};

/** Builds the listing a command asks for; throws ConfigError for filter combinations that make no sense. */
export function buildListing(kind: Kind, reader: C1zReader, o: InspectOptions): Listing {
  const resource = o.resource !== undefined ? parseRef(o.resource, o.resourceType) : undefined;
  if (resource && !resource.type) {
    throw new ConfigError(
      `--resource "${o.resource}" needs a type: pass it as type:id or add --resource-type.`,
    );
  }
  if (resource && o.resourceType && resource.type !== o.resourceType) {
    throw new ConfigError(`--resource "${o.resource}" is not of --resource-type ${o.resourceType}.`);
  }
  switch (kind) {
    case 'resource-types':
      return listResourceTypes(reader);
    case 'resources':
      return listResources(reader, { resourceType: o.resourceType });
    case 'entitlements':
      return listEntitlements(reader, {
        resourceType: resource?.type ?? o.resourceType,
        resourceId: resource?.id,
      });
    case 'grants':
      return listGrants(reader, {
        resourceType: resource?.type ?? o.resourceType,
        resourceId: resource?.id,
        entitlementId: o.entitlement,
        principal: o.principal !== undefined ? parseRef(o.principal) : undefined,
      });
    case 'stats':
      return statsListing(reader);
    case 'access':
      if ((o.principal === undefined) === (o.entitlement === undefined)) {
        throw new ConfigError('access needs exactly one of --principal <type:id> or --entitlement <id>.');
      }
      if (o.principal !== undefined) {
        const p = resolvePrincipal(reader, o.principal);
        return accessOfPrincipal(reader, { type: p.type, id: p.id });
      }
      return accessToEntitlement(reader, knownEntitlement(reader, o.entitlement!));
  }
}

export async function runInspect(kind: Kind, o: InspectOptions, io: InspectIo = processIo): Promise<void> {
  const batonAccess = kind === 'access' && o.resource !== undefined;
  if (batonAccess) o = batonAccessPrincipal(o);
  // Validate flags before the (possibly large) file is decompressed.
  if (kind === 'access' && (o.principal === undefined) === (o.entitlement === undefined)) {
    throw new ConfigError('access needs exactly one of --principal <type:id> or --entitlement <id>.');
  }
  await withC1z(o, io, async (reader) => {
    if (kind === 'resources' || kind === 'entitlements' || kind === 'grants') {
      const resource = o.resource !== undefined ? parseRef(o.resource, o.resourceType) : undefined;
      checkFilters(reader, {
        resourceType: o.resourceType,
        resource: resource?.type !== undefined ? resource : undefined,
        entitlement: o.entitlement,
        principal: o.principal !== undefined ? parseRef(o.principal) : undefined,
      });
    }
    if (o.output === 'json' && batonAccess) {
      await writeBatonAccess(reader, o.principal!, io);
      return;
    }
    if (o.output === 'json' && kind in BATON_JSON) {
      await writeBatonJson(kind as keyof typeof BATON_JSON, reader, o, io);
      return;
    }
    const listing = buildListing(kind, reader, o);
    if (o.output === 'console') await writeConsoleHead(kind, listing, io);
    await render(listing, o.output, io);
    const warning = danglingWarning(listing.dangling);
    if (warning) io.err(safeText(`warning: ${warning}`) + '\n');
  });
}

/** baton's `access -t user -r 41`: the principal named the way baton names it. */
function batonAccessPrincipal(o: InspectOptions): InspectOptions {
  if (o.principal !== undefined || o.entitlement !== undefined) {
    throw new ConfigError('access takes -t/-r (as baton) or --principal/--entitlement, not both.');
  }
  const ref = parseRef(o.resource!, o.resourceType);
  if (!ref.type) throw new ConfigError('access -r needs -t, as in baton: access -t user -r 41.');
  return { ...o, principal: `${ref.type}:${ref.id}`, resource: undefined, resourceType: undefined };
}

/** The commands whose `-o json` is baton's outputs.proto shape, and the key of their list. */
const BATON_JSON = {
  'resource-types': 'resourceTypes',
  resources: 'resources',
  entitlements: 'entitlements',
  grants: 'grants',
} as const;

async function writeBatonJson(
  kind: keyof typeof BATON_JSON,
  reader: C1zReader,
  o: InspectOptions,
  io: InspectIo,
): Promise<void> {
  const resource = o.resource !== undefined ? parseRef(o.resource, o.resourceType) : undefined;
  const resourceType = resource?.type ?? o.resourceType;
  const principal = o.principal !== undefined ? parseRef(o.principal) : undefined;
  const rows =
    kind === 'resource-types'
      ? resourceTypeRows(reader)
      : kind === 'resources'
        ? resourceRows(reader, { resourceType: o.resourceType })
        : kind === 'entitlements'
          ? entitlementRows(reader, { resourceType, resourceId: resource?.id })
          : grantRows(reader, {
              resourceType,
              resourceId: resource?.id,
              entitlementId: o.entitlement,
              principalType: principal?.type,
              principalId: principal?.id,
            });
  await writeJsonList(BATON_JSON[kind], rows, io);
}

async function writeConsoleHead(kind: Kind, listing: Listing, io: InspectIo): Promise<void> {
  const head = listing.head as Record<string, Record<string, unknown> | unknown> | undefined;
  if (kind === 'stats' && head) {
    await io.out(
      safeText(
        `Sync ${String(head.syncId ?? '(none)')}  started ${String(head.startedAt ?? '-')}  ended ${String(head.endedAt ?? '(unfinished)')}`,
      ) + '\n\n',
    );
  } else if (kind === 'access' && head) {
    const subject = (head.principal ?? head.entitlement) as Record<string, unknown>;
    const label = head.principal
      ? `Principal ${subject.resourceType ?? '*'}:${String(subject.id)}`
      : `Entitlement ${String(subject.id)}`;
    const name = subject.displayName
      ? ` (${String(subject.displayName)})`
      : subject.missing
        ? ' [MISSING from the file]'
        : '';
    const user = (subject as { user?: Record<string, string | boolean | null> }).user;
    const facts = user
      ? `  login ${user.login ?? '-'}  email ${user.email ?? '-'}  status ${String(user.status)}  type ${String(user.accountType)}  manager ${user.manager ?? '-'}\n`
      : '';
    await io.out(
      `${safeCell(label, 200)}${safeCell(name, 200)}\n${safeText(facts.trimEnd())}${facts ? '\n' : ''}\n`,
    );
  }
}

const filterOptions = {
  // -t/-r/-e as baton's inspector spells them.
  resourceType: (_kind: Kind) => new Option('-t, --resource-type <id>', 'only this resource type, e.g. user'),
  resource: (_kind: Kind) =>
    new Option(
      '-r, --resource <type:id>',
      'only this resource, e.g. group:10 (or an id with -t/--resource-type)',
    ),
  entitlement: (_kind: Kind) =>
    new Option('-e, --entitlement <id>', 'only this entitlement, e.g. role:3:member'),
  principal: (kind: Kind) =>
    kind === 'access'
      ? new Option(
          '--principal <user>',
          'this principal: user:42, a bare id, a login or an email (an unknown one is an error, exit 2)',
        )
      : new Option('--principal <type:id>', 'only this principal, e.g. user:42 (or a bare id)'),
};

function registerKind(program: Command, kind: Kind, io: InspectIo | undefined): void {
  const cmd = program
    .command(kind)
    .description(DESCRIPTIONS[kind])
    .addOption(option('-f, --file <path>', 'the c1z file to read').default('sync.c1z'))
    .addOption(
      new Option('-o, --output <format>', "console (aligned table), json (baton's shape, protojson) or csv")
        .choices(['console', 'json', 'csv'])
        .default('console'),
    )
    // baton's own inspector spells it --output-format; accept that too.
    .addOption(new Option('--output-format <format>').choices(['console', 'json', 'csv']).hideHelp())
    .addOption(new Option('--sync-id <id>', 'read this sync instead of the latest finished one'));
  for (const f of FILTERS[kind]) cmd.addOption(filterOptions[f](kind));
  if (EXAMPLES[kind]) cmd.addHelpText('after', EXAMPLES[kind]);
  cmd.action(async (opts: InspectOptions & { outputFormat?: OutputFormat }) => {
    const { outputFormat, ...rest } = opts;
    await runInspect(kind, { ...rest, output: outputFormat ?? rest.output }, io);
  });
}

/** The inspector commands; `io` lets tests capture what they print. */
export function createInspectCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      for (const kind of Object.keys(DESCRIPTIONS) as Kind[]) registerKind(program, kind, io);
    },
  };
}

export const inspectCommand: CliCommand = createInspectCommand();
