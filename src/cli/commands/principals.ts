import { Option } from 'commander';
import type { CliCommand } from '../command.js';
import { ConfigError } from '../../errors.js';
import { noDangling, parseRef, type Listing, type Row } from '../../c1z/inspect.js';
import { userFacts } from '../../c1z/user-facts.js';
import { checkFilters } from '../../c1z/known-refs.js';
import { addC1zInputOptions, withC1z } from './c1z-input.js';
import { addOutputOptions, principalRows, principalsOf, withOutput, writeJsonList } from './baton-output.js';
import { processIo, render, type InspectIo, type OutputFormat } from './inspect-output.js';

export interface PrincipalsOptions {
  file: string;
  syncId?: string;
  output: OutputFormat;
  resourceType?: string;
  resource?: string;
  entitlement?: string;
}

/**
 * baton's `principals`: everyone who holds a grant, or a grant on one resource (-t/-r), or one
 * entitlement (-e). `-o json` is baton's ResourceListOutput; the console adds who each user is.
 */
export async function runPrincipals(o: PrincipalsOptions, io: InspectIo = processIo): Promise<void> {
  if (o.resource !== undefined && o.entitlement !== undefined) {
    throw new ConfigError('principals takes --resource or --entitlement, not both (as baton).');
  }
  const resource = o.resource !== undefined ? parseRef(o.resource, o.resourceType) : undefined;
  if (resource && !resource.type) {
    throw new ConfigError(`--resource "${o.resource}" needs a type: pass -t <type> -r <id>, or type:id.`);
  }
  await withC1z(o, io, async (reader) => {
    checkFilters(reader, { resourceType: o.resourceType, resource, entitlement: o.entitlement });
    const entries = principalsOf(reader, {
      resourceType: resource?.type ?? o.resourceType,
      resourceId: resource?.id,
      entitlementId: o.entitlement,
    });
    if (o.output === 'json') {
      await writeJsonList('resources', principalRows(reader, entries), io);
      return;
    }
    const rows: Row[] = entries.map((e) => {
      const facts = e.type === 'user' && e.resource ? userFacts(e.resource) : undefined;
      return {
        cells: {
          type: e.type,
          id: e.id,
          displayName: e.resource?.displayName ?? '',
          login: facts?.login ?? '',
          email: facts?.email ?? '',
          status: facts?.status ?? '',
          grants: String(e.grants),
          missing: e.resource ? '' : 'MISSING: principal',
        },
        json: () => null,
      };
    });
    const listing: Listing = {
      name: 'principals',
      columns: [
        { key: 'type', header: 'Type' },
        { key: 'id', header: 'ID' },
        { key: 'displayName', header: 'Display Name' },
        { key: 'login', header: 'Login' },
        { key: 'email', header: 'Email' },
        { key: 'status', header: 'Status' },
        { key: 'grants', header: 'Grants' },
        { key: 'missing', header: 'Missing' },
      ],
      rows,
      dangling: noDangling(),
    };
    await render(listing, o.output, io);
  });
}

export function createPrincipalsCommand(io?: InspectIo): CliCommand {
  return {
    register(program) {
      const cmd = program
        .command('principals')
        .description(
          'List the principals holding grants (all, on one resource with -t/-r, or of one entitlement with -e)',
        );
      addC1zInputOptions(cmd);
      addOutputOptions(cmd, "baton's ResourceListOutput")
        .addOption(new Option('-t, --resource-type <id>', 'with -r: the type of the resource'))
        .addOption(
          new Option('-r, --resource <id>', 'only grants on this resource, e.g. -t role -r 3 (or role:3)'),
        )
        .addOption(
          new Option('-e, --entitlement <id>', 'only holders of this entitlement, e.g. role:3:member'),
        )
        .action(async (opts: PrincipalsOptions & { outputFormat?: OutputFormat }) => {
          await runPrincipals(withOutput(opts), io);
        });
    },
  };
}

export const principalsCommand: CliCommand = createPrincipalsCommand();
