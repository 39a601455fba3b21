import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { CliCommand } from '../command.js';
import { option } from '../options.js';
import { ConfigError } from '../../errors.js';
import { C1zReader } from '../../c1z/reader.js';
import { NoSyncError } from '../../c1z/errors.js';
import { findAnnotation } from '../../c1z/any.js';
import { parseRef, messageJson } from '../../c1z/inspect.js';
import { changeCount, diffSyncs, type DiffFilter, type GrantChange, type SyncDiff } from '../../c1z/diff.js';
import {
  EntitlementSchema,
  GrantSchema,
  ResourceSchema,
  UserTraitSchema,
  type Entitlement,
  type Resource,
} from '../../c1z/messages.js';
import type { JsonValue } from '@bufbuild/protobuf';
import { addOutputOptions, withOutput } from './baton-output.js';
import { csvField, processIo, type InspectIo, type OutputFormat } from './inspect-output.js';
import { safeText } from '../../util/safe-text.js';

export interface DiffOptions {
  file: string;
  baseFile?: string;
  baseSync?: string;
  appliedSync?: string;
  resourceType?: string;
  principal?: string;
  output: OutputFormat;
  exitCode?: boolean;
}

/**
 * Opens what to compare: the applied sync (default: the latest finished one of --file) and the
 * base (default: the previous finished sync of the same file, or the latest of --base-file).
 */
async function openSides(o: DiffOptions): Promise<{ base: C1zReader; applied: C1zReader; close(): void }> {
  const toClose: C1zReader[] = [];
  const close = () => {
    for (const r of toClose.reverse()) r.close();
  };
  try {
    const appliedFile = await C1zReader.open(o.file);
    toClose.push(appliedFile);
    const finished = appliedFile.syncRuns().filter((r) => r.endedAt !== null);
    const appliedId = o.appliedSync ?? finished[0]?.syncId;
    if (!appliedId)
      throw new NoSyncError(o.file, 'no sync in it has finished, so there is nothing to compare');
    const applied = appliedFile.forSync(appliedId);
    const sameFile = o.baseFile === undefined || resolve(o.baseFile) === resolve(o.file);
    let base: C1zReader;
    if (sameFile) {
      let baseId = o.baseSync;
      if (baseId === undefined) {
        const at = finished.findIndex((r) => r.syncId === appliedId);
        baseId = (at >= 0 ? finished[at + 1] : finished[0])?.syncId;
        if (baseId === undefined || baseId === appliedId) {
          throw new ConfigError(
            `${o.file} holds one finished sync, so there is no earlier one to compare with.`,
            'Sync again into the same file (it keeps the last BATON_KEEP_SYNC_COUNT syncs, default 2), ' +
              'or compare two files: coupa-connector diff old.c1z new.c1z.',
          );
        }
      }
      base = appliedFile.forSync(baseId);
    } else {
      const baseFile = await C1zReader.open(o.baseFile!);
      toClose.push(baseFile);
      const baseId = o.baseSync ?? baseFile.syncRuns().find((r) => r.endedAt !== null)?.syncId;
      if (!baseId)
        throw new NoSyncError(o.baseFile!, 'no sync in it has finished, so there is nothing to compare');
      base = baseFile.forSync(baseId);
    }
    return { base, applied, close };
  } catch (err) {
    close();
    throw err;
  }
}

export async function runDiff(o: DiffOptions, io: InspectIo = processIo): Promise<SyncDiff> {
  const filter: DiffFilter = {
    resourceType: o.resourceType,
    principal: o.principal !== undefined ? parseRef(o.principal) : undefined,
  };
  const sides = await openSides(o);
  try {
    const d = diffSyncs(sides.base, sides.applied, filter);
    if (o.output === 'json') await io.out(JSON.stringify(batonDiffJson(d), null, 2) + '\n');
    else if (o.output === 'csv') await io.out(diffCsv(d));
    else await io.out(diffReport(d));
    if (o.exitCode && changeCount(d) > 0) process.exitCode = 1;
    return d;
  } finally {
    sides.close();
  }
}

/** baton's C1ZDiffOutput: created/deleted/modified per kind; empty lists left out as protojson does. */
export function batonDiffJson(d: SyncDiff): JsonValue {
  const bucket = <T>(items: { kind: string; value: T }[], json: (v: T) => JsonValue) => {
    const o: Record<string, JsonValue> = {};
    const names = { added: 'created', removed: 'deleted', modified: 'modified' } as Record<string, string>;
    for (const kind of ['added', 'removed', 'modified']) {
      const list = items.filter((i) => i.kind === kind).map((i) => json(i.value));
      if (list.length) o[names[kind]!] = list;
    }
    return o;
  };
  return {
    resources: bucket(
      d.resources.map((c) => ({ kind: c.kind, value: c.resource })),
      (r) => messageJson(ResourceSchema, r),
    ),
    entitlements: bucket(
      d.entitlements.map((c) => ({ kind: c.kind, value: c.entitlement })),
      (e) => messageJson(EntitlementSchema, e),
    ),
    grants: bucket(
      d.grants.map((c) => ({ kind: c.kind, value: c.grant })),
      (g) => messageJson(GrantSchema, g),
    ),
  };
}

const typeWords = (type: string) => type.replace(/_/g, ' ');

/** "user 41 alice@example.com": type, id, then the email (or the display name). */
export function describeResource(r: Resource | undefined, type: string, id: string): string {
  const trait = r ? findAnnotation(r.annotations, UserTraitSchema) : undefined;
  const email = trait?.emails.find((e) => e.isPrimary)?.address ?? trait?.emails[0]?.address ?? trait?.login;
  const name = email || r?.displayName;
  return `${typeWords(type)} ${id}${name ? ` ${name}` : ''}${r ? '' : ' (not in the file)'}`;
}

/** "role Admin", "license Treasury", "group Buyers (approver)": what an entitlement gives. */
function describeEntitlement(
  e: Entitlement | undefined,
  res: Resource | undefined,
  fallbackId: string,
): string {
  const rid = res?.id ?? e?.resource?.id;
  if (!rid) return `entitlement ${fallbackId}`;
  const name = res?.displayName || e?.resource?.displayName || rid.resource;
  const slug = e?.slug ?? fallbackId.split(':').pop() ?? '';
  const extra = slug && slug !== 'member' && slug !== 'assigned' ? ` (${slug})` : '';
  return `${typeWords(rid.resourceType)} ${name}${extra}`;
}

function grantSentence(c: GrantChange): string {
  const pid = c.grant.principal?.id;
  const who = describeResource(c.principal, pid?.resourceType ?? '?', pid?.resource ?? '?');
  const what = describeEntitlement(c.entitlement, c.resource, c.grant.entitlement?.id ?? '');
  const verb = c.kind === 'added' ? 'gained' : c.kind === 'removed' ? 'lost' : 'has a changed grant of';
  return `${who} ${verb} ${what}  [${c.grant.entitlement?.id ?? ''}]`;
}

/** The console view: a change report, one sentence per change, grouped by principal. */
export function diffReport(d: SyncDiff): string {
  const lines: string[] = [];
  const from = `${d.base.sync.syncId} (ended ${d.base.sync.endedAt ?? 'never'})`;
  const to = `${d.applied.sync.syncId} (ended ${d.applied.sync.endedAt ?? 'never'})`;
  const where = d.base.path === d.applied.path ? ` in ${d.applied.path}` : '';
  lines.push(`Changes from sync ${from} to sync ${to}${where}`);
  if (d.base.path !== d.applied.path) lines.push(`  base ${d.base.path}, applied ${d.applied.path}`);
  const n = changeCount(d);
  if (n === 0) {
    lines.push('', 'No changes.');
    return lines.join('\n') + '\n';
  }
  const tally = (items: { kind: string }[], noun: string) => {
    const parts = (['added', 'removed', 'modified'] as const)
      .map((k) => [k, items.filter((i) => i.kind === k).length] as const)
      .filter(([, c]) => c > 0)
      .map(([k, c]) => `${c} ${k}`);
    return parts.length ? `${noun}: ${parts.join(', ')}` : undefined;
  };
  lines.push(
    [tally(d.resources, 'resources'), tally(d.entitlements, 'entitlements'), tally(d.grants, 'grants')]
      .filter(Boolean)
      .join('; '),
  );
  if (d.resources.length) {
    lines.push('', 'Resources');
    for (const c of d.resources) {
      const id = c.resource.id!;
      const who = describeResource(c.resource, id.resourceType, id.resource);
      if (c.kind === 'modified') for (const detail of c.details) lines.push(`  ${who} ${detail}`);
      else lines.push(`  ${who} was ${c.kind}`);
    }
  }
  if (d.entitlements.length) {
    lines.push('', 'Entitlements');
    for (const c of d.entitlements) {
      const e = c.entitlement;
      const what = `${e.id}${e.displayName ? ` (${e.displayName})` : ''}`;
      lines.push(`  entitlement ${what} was ${c.kind}`);
    }
  }
  if (d.grants.length) {
    lines.push('', 'Access');
    const sorted = [...d.grants].sort((x, y) => {
      const kx = `${x.grant.principal?.id?.resourceType}:${x.grant.principal?.id?.resource}`;
      const ky = `${y.grant.principal?.id?.resourceType}:${y.grant.principal?.id?.resource}`;
      return kx < ky ? -1 : kx > ky ? 1 : x.kind < y.kind ? -1 : x.kind > y.kind ? 1 : 0;
    });
    for (const c of sorted) lines.push(`  ${grantSentence(c)}`);
  }
  // Names come from Coupa or the file: escapes, bidi overrides and line breaks in them are shown as
  // visible escapes (as every console table shows them), so each change stays one honest line.
  return lines.map(safeText).join('\n') + '\n';
}

const CSV_COLUMNS = [
  'Change',
  'Object',
  'ID',
  'Resource Type',
  'Resource ID',
  'Resource Name',
  'Entitlement',
  'Principal Type',
  'Principal ID',
  'Principal Name',
  'Details',
  'Base Sync',
  'Applied Sync',
] as const;

export function diffCsv(d: SyncDiff): string {
  const rows: string[][] = [];
  const syncs = [d.base.sync.syncId, d.applied.sync.syncId];
  for (const c of d.resources) {
    const id = c.resource.id!;
    rows.push([
      c.kind,
      'resource',
      `${id.resourceType}:${id.resource}`,
      id.resourceType,
      id.resource,
      c.resource.displayName,
      '',
      '',
      '',
      '',
      c.details.join('; '),
      ...syncs,
    ]);
  }
  for (const c of d.entitlements) {
    const rid = c.entitlement.resource?.id;
    rows.push([
      c.kind,
      'entitlement',
      c.entitlement.id,
      rid?.resourceType ?? '',
      rid?.resource ?? '',
      c.entitlement.resource?.displayName ?? '',
      c.entitlement.id,
      '',
      '',
      '',
      c.entitlement.displayName,
      ...syncs,
    ]);
  }
  for (const c of d.grants) {
    const rid = c.grant.entitlement?.resource?.id;
    const pid = c.grant.principal?.id;
    rows.push([
      c.kind,
      'grant',
      c.grant.id,
      rid?.resourceType ?? '',
      rid?.resource ?? '',
      c.resource?.displayName ?? '',
      c.grant.entitlement?.id ?? '',
      pid?.resourceType ?? '',
      pid?.resource ?? '',
      c.principal?.displayName ?? '',
      '',
      ...syncs,
    ]);
  }
  return [CSV_COLUMNS as readonly string[], ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export function createDiffCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const cmd = program
        .command('diff')
        .description(
          'What changed between two syncs: the latest and the previous one of a file, two given syncs, or two files',
        )
        .argument('[files...]', 'one file (its latest vs previous sync), or two: base then applied')
        .addOption(option('-f, --file <path>', 'the c1z file (the applied side)').default('sync.c1z'))
        .addOption(new Option('--base-file <path>', 'compare with this file (its latest sync) instead'))
        .addOption(new Option('--base-sync <id>', 'the sync to compare from (default: the previous one)'))
        .addOption(
          new Option('--applied-sync <id>', 'the sync to compare to (default: the latest finished one)'),
        )
        .addOption(new Option('-t, --resource-type <id>', 'only this resource type, e.g. role'))
        .addOption(new Option('--principal <type:id>', 'only this principal, e.g. user:41 (or a bare id)'));
      addOutputOptions(cmd, "baton's C1ZDiffOutput", 'a change report')
        .addOption(new Option('--exit-code', 'exit 1 when something changed (0 otherwise), like git diff'))
        .addHelpText(
          'after',
          `
Examples:
  $ coupa-connector diff -f sync.c1z                       latest sync vs the previous one
  $ coupa-connector diff yesterday.c1z today.c1z           two files
  $ coupa-connector diff --principal user:41 -o json | jq '.grants.created[].entitlement.id'
  $ coupa-connector diff -t role --exit-code > /dev/null || echo "role assignments changed"`,
        )
        .action(
          async (files: string[], opts: DiffOptions & { outputFormat?: OutputFormat }, command: Command) => {
            const rest = withOutput(opts);
            if (files.length > 2) throw new ConfigError('diff takes at most two files: base, then applied.');
            // `diff a.c1z -f b.c1z` would silently drop one of them (BATON_FILE is only a default).
            if (files.length > 0 && command.getOptionValueSource('file') === 'cli') {
              throw new ConfigError(
                `diff takes its files either as arguments or with -f, not both (got ${files.join(' ')} and -f ${opts.file}).`,
                'Compare two files with `diff old.c1z new.c1z` (or `diff --base-file old.c1z -f new.c1z`); one file with `diff -f sync.c1z`.',
              );
            }
            const fromArgs =
              files.length === 2
                ? { baseFile: files[0], file: files[1]! }
                : files.length === 1
                  ? { file: files[0]! }
                  : {};
            await runDiff({ ...rest, ...fromArgs }, io);
          },
        );
    },
  };
}

export const diffCommand: CliCommand = createDiffCommand();
