import { Option } from 'commander';
import type { CliCommand } from '../command.js';
import { addLogOptions, parseDuration, parseWholeNumber, type LogOptions } from '../options.js';
import { formatSummary } from '../summary.js';
import { syncWithProgress, withSignals } from './sync.js';
import { createLogger } from '../../log.js';
import { ACCOUNTING_READ_SCOPE, CoupaClient, READ_SCOPES } from '../../coupa/index.js';
import { startSimulator } from '../../simulator/index.js';
import { C1zReader } from '../../c1z/reader.js';
import { buildUserCard, formatUserCard } from '../../c1z/user-card.js';
import { userFacts } from '../../c1z/user-facts.js';
import { runServiceModeDemo } from './demo-service-mode.js';
import { safeText } from '../../util/safe-text.js';

interface DemoOptions extends LogOptions {
  users: number;
  seed: number;
  file: string;
  rateLimit: number;
  latency: number;
  progress: boolean;
  serviceMode?: boolean;
}

/** Who-has-what, read back from the file just written, to show that it holds what Coupa said. */
async function whoHasWhat(path: string): Promise<string> {
  const reader = await C1zReader.open(path);
  try {
    const out: string[] = [`Who has what (read back from ${path}):`];
    let shown = 0;
    let exampleUser: string | undefined;
    for (const user of reader.resources({ resourceType: 'user' })) {
      const card = buildUserCard(reader, userFacts(user));
      const kinds = new Set(card.holdings.map((h) => h.resourceType));
      // Show users that hold a bit of everything, so the sample shows every kind of grant.
      if (!kinds.has('role') || !kinds.has('group') || !kinds.has('license')) continue;
      out.push(formatUserCard(card, 2).trimEnd());
      exampleUser ??= safeText(card.user.login || `user:${card.user.id}`);
      if (++shown === 3) break;
    }

    out.push('', 'Members of the largest role, user group and license:');
    let exampleEntitlement: string | undefined;
    const counts = reader.grantCountsByEntitlement();
    for (const type of ['role', 'group', 'license']) {
      let best: { id: string; name: string; members: number } | undefined;
      for (const ent of reader.entitlements({ resourceType: type })) {
        const members = counts.get(ent.id) ?? 0;
        if (!best || members > best.members) best = { id: ent.id, name: ent.displayName, members };
      }
      if (best) {
        out.push(
          `  ${safeText(best.name).padEnd(30)} ${String(best.members).padStart(6)} users   (${safeText(best.id)})`,
        );
        exampleEntitlement ??= best.id;
      }
    }

    out.push(
      '',
      // npx finds the bin from a checkout too, where `coupa-connector` alone is not on the PATH.
      'Try next:',
      `  npx coupa-connector stats -f ${path}`,
      `  npx coupa-connector resources -f ${path} --resource-type role`,
      ...(exampleUser
        ? [
            `  npx coupa-connector user ${exampleUser} -f ${path}`,
            `  npx coupa-connector access -f ${path} --principal ${exampleUser}`,
          ]
        : []),
      ...(exampleEntitlement
        ? [`  npx coupa-connector access -f ${path} --entitlement ${exampleEntitlement}`]
        : []),
      `  npx coupa-connector review inactive-access -f ${path}`,
      `  npx coupa-connector report -f ${path} --out report.html`,
      `  npx coupa-connector grants -f ${path} -o csv > grants.csv`,
    );
    return out.join('\n') + '\n';
  } finally {
    reader.close();
  }
}

async function runDemo(opts: DemoOptions): Promise<void> {
  const logger = createLogger({ level: opts.logLevel, format: opts.logFormat });
  const sim = await startSimulator({
    tenant: { seed: opts.seed, users: opts.users },
    rateLimit: opts.rateLimit === 0 ? false : { perSecond: opts.rateLimit, burst: 20 },
    latencyMs: opts.latency,
  });
  try {
    process.stderr.write(
      `Started a simulated Coupa at ${sim.url} with ${opts.users.toLocaleString('en-US')} users (seed ${opts.seed}); syncing it into ${opts.file}\n`,
    );
    const summary = await withSignals(async (signal) => {
      const client = new CoupaClient({
        baseUrl: sim.url,
        clientId: sim.clientId,
        clientSecret: sim.clientSecret,
        scopes: READ_SCOPES,
        optionalScopes: [ACCOUNTING_READ_SCOPE],
        rateLimit: opts.rateLimit === 0 ? false : { perSecond: opts.rateLimit, burst: 20 },
        logger,
        signal,
      });
      return syncWithProgress(client, { file: opts.file, progress: opts.progress, logger, signal });
    });
    process.stdout.write(formatSummary(summary) + '\n');
    process.stdout.write(await whoHasWhat(opts.file));
  } finally {
    await sim.close();
  }
}

export const demoCommand: CliCommand = {
  register(program) {
    const cmd = program
      .command('demo')
      .description(
        'Start a simulated Coupa tenant in this process, sync it into demo.c1z, and show who has what. ' +
          'Needs no Coupa account and no network.',
      )
      .addOption(
        new Option('--users <n>', 'users in the simulated tenant')
          .argParser(parseWholeNumber('--users', 1, 1_000_000))
          .default(2000),
      )
      .addOption(
        new Option('--seed <n>', 'seed of the generated tenant (same seed, same tenant)')
          .argParser(parseWholeNumber('--seed', 0))
          .default(1),
      )
      .addOption(new Option('-f, --file <path>', 'the c1z file to write').default('demo.c1z'))
      .addOption(
        new Option(
          '--rate-limit <n>',
          "requests per second the simulator allows, like Coupa's limit (0 = unlimited)",
        )
          .argParser(parseWholeNumber('--rate-limit', 0, 100_000))
          .default(25),
      )
      .addOption(
        new Option(
          '--latency <duration>',
          'simulated network latency per request: 100ms, 1.5s, or a bare number of ms (as simulate takes it)',
        )
          .argParser(parseDuration('--latency', { min: 0, max: 60_000 }))
          .default(20, '20ms'),
      )
      .addOption(
        new Option('--no-progress', 'no progress bar (it is only ever shown when stderr is a terminal)'),
      )
      .addOption(
        new Option(
          '--service-mode',
          'instead: run the connector as a ConductorOne connector against a fake ConductorOne, with one sync and one grant task',
        ),
      );
    // The demo prints its own story; routine info lines would only interleave with it.
    addLogOptions(cmd, { level: 'warn' });
    cmd.action(async (opts: DemoOptions) => {
      if (opts.serviceMode) await runServiceModeDemo(opts);
      else await runDemo(opts);
    });
  },
};
