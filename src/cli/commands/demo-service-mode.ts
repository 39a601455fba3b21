/**
 * `coupa-connector demo --service-mode`: the connector as a ConductorOne connector, end to end on
 * this machine. A simulated Coupa and a fake ConductorOne run in this process; the connector runs
 * as a real child process with only the environment a customer would give it, gets one full-sync
 * task and one grant task, and what came back is printed and checked against the simulator.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { C1zReader } from '../../c1z/reader.js';
import { GrantManagerServiceGrantResponseSchema } from '../../c1z/gen/c1/connector/v2/grant_manager_pb.js';
import { CoupaConnectorError } from '../../errors.js';
import { startSimulator } from '../../simulator/index.js';
import { startFakeC1, type FakeC1, type FinishRecord } from '../../simulator/c1/index.js';

export interface ServiceModeDemoOptions {
  users: number;
  seed: number;
  rateLimit: number;
  latency: number;
}

const BIN = fileURLToPath(new URL('../../../bin/coupa-connector.js', import.meta.url));
const TASK_TIMEOUT_MS = 10 * 60_000;

function describeFinish(f: FinishRecord): string {
  if (f.outcome === 'success') {
    return `success${f.responseTypeUrl ? `, response ${f.responseTypeUrl.split('/').pop()}` : ''}`;
  }
  return `error code ${f.code} (${f.nonRetryable ? 'non-retryable' : 'retryable'}): ${f.message.split('\n')[0]}`;
}

async function waitOrExit<T>(
  wait: Promise<T>,
  exited: Promise<number | null>,
  log: () => string,
): Promise<T> {
  const early = exited.then((code) => {
    throw new CoupaConnectorError(
      `The connector exited (code ${code}) before finishing the task. Its output:\n${log()}`,
    );
  });
  return Promise.race([wait, early]);
}

export async function runServiceModeDemo(opts: ServiceModeDemoOptions): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const work = mkdtempSync(join(tmpdir(), 'coupa-service-demo-'));
  const sim = await startSimulator({
    tenant: { seed: opts.seed, users: opts.users },
    rateLimit: opts.rateLimit === 0 ? false : { perSecond: opts.rateLimit, burst: 20 },
    latencyMs: opts.latency,
  });
  let fake: FakeC1 | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  try {
    // Plain HTTP on loopback: the demo must not depend on the openssl command being installed.
    fake = await startFakeC1({
      tls: false,
      nextPollMs: 250,
      nextHeartbeatMs: 1000,
      uploadDir: join(work, 'uploads'),
    });
    out(`Simulated Coupa:    ${sim.url} (${opts.users.toLocaleString('en-US')} users, seed ${opts.seed})`);
    out(`Fake ConductorOne:  ${fake.url} (client id ${fake.clientId})`);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...fake.env(),
      BATON_COUPA_CLIENT_ID: sim.clientId,
      BATON_COUPA_CLIENT_SECRET: sim.clientSecret,
      BATON_BASE_URL: sim.url,
      BATON_PROVISIONING: 'true',
      BATON_RATE_LIMIT: String(opts.rateLimit),
      BATON_C1Z_TEMP_DIR: work,
      // The demo's journal, audit log and locks go with its other scratch files, not into the
      // user's state folder (nor the working directory).
      BATON_STATE_DIR: join(work, 'state'),
      BATON_LOG_LEVEL: 'warn',
    };
    let log = '';
    child = spawn(process.execPath, [BIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (log += String(d)));
    child.stderr!.on('data', (d) => (log += String(d)));
    const exited = new Promise<number | null>((resolve) => child!.on('close', (code) => resolve(code)));
    out(
      `Connector:          pid ${child.pid}, started with BATON_CLIENT_ID/BATON_CLIENT_SECRET, -p (service mode)`,
    );

    const hello = await waitOrExit(fake.waitForHello({ timeoutMs: 60_000 }), exited, () => log);
    const meta = hello.request.connectorMetadata;
    out(
      `  Hello accepted:   ${meta?.displayName}, ${meta?.capabilities?.resourceTypeCapabilities.length ?? 0} resource types, ` +
        `${hello.request.buildInfo?.package} ${hello.request.buildInfo?.packageVersion} on ${hello.request.osInfo?.platform}`,
    );
    out();

    const started = performance.now();
    const sync = fake.tasks.syncFull();
    out(`[1/2] Full-sync task ${sync.id}`);
    const synced = await waitOrExit(
      fake.waitForFinish(sync.id, { timeoutMs: TASK_TIMEOUT_MS }),
      exited,
      () => log,
    );
    const upload = fake.records.uploads.find((u) => u.taskId === sync.id);
    const beats = fake.records.heartbeats.filter((h) => h.taskId === sync.id).length;
    out(
      `  finished in ${((performance.now() - started) / 1000).toFixed(1)} s: ${describeFinish(synced)}; ${beats} heartbeat(s)`,
    );
    if (synced.outcome !== 'success' || !upload?.savedPath) {
      throw new CoupaConnectorError(`The sync task did not upload a c1z. Connector output:\n${log}`);
    }
    out(
      `  uploaded ${(upload.bytes.length / 1024).toFixed(0)} KiB in ${upload.chunkSizes.length} chunk(s), sha256 verified`,
    );

    const truth = sim.groundTruth();
    const reader = await C1zReader.open(upload.savedPath);
    let grantSpec: { userId: number; roleId: number; roleName: string; login: string } | undefined;
    let taskInit: Parameters<FakeC1['tasks']['grant']>[0] | undefined;
    try {
      const users = [...reader.resources({ resourceType: 'user' })].length;
      const roleGrants = [...reader.grants({ resourceType: 'role' })].length;
      out(
        `  the c1z holds ${users} users and ${roleGrants} role grants; the simulator has ` +
          `${truth.users.length} users and ${truth.memberships.roles.length} role memberships ` +
          `(${users === truth.users.length && roleGrants === truth.memberships.roles.length ? 'equal' : 'DIFFERENT'})`,
      );

      // A role some active, non-API user lacks, taken from the uploaded file as ConductorOne would.
      const holders = new Set(truth.memberships.roles.map(([u, r]) => `${u}:${r}`));
      for (const role of truth.roles) {
        const user = truth.users.find((u) => u.active && !u.apiUser && !holders.has(`${u.id}:${role.id}`));
        const ent = [...reader.entitlements({ resourceType: 'role', resourceId: String(role.id) })][0];
        const principal = user && reader.getResource('user', String(user.id));
        if (!user || !ent || !principal) continue;
        grantSpec = { userId: user.id, roleId: role.id, roleName: role.name, login: user.login };
        taskInit = { entitlement: ent, principal };
        break;
      }
    } finally {
      reader.close();
    }
    if (!grantSpec || !taskInit)
      throw new CoupaConnectorError('No role/user pair to grant in the simulated tenant.');
    out();

    const grant = fake.tasks.grant(taskInit);
    out(`[2/2] Grant task ${grant.id}: role "${grantSpec.roleName}" to ${grantSpec.login}`);
    const granted = await waitOrExit(
      fake.waitForFinish(grant.id, { timeoutMs: TASK_TIMEOUT_MS }),
      exited,
      () => log,
    );
    out(`  finished: ${describeFinish(granted)}`);
    const response = granted.request.finalState.value?.response;
    const body = response && anyUnpack(response, GrantManagerServiceGrantResponseSchema);
    if (body)
      out(`  the response lists ${body.grants.length} grant(s): ${body.grants.map((g) => g.id).join(', ')}`);
    const spec = grantSpec;
    const now = sim.groundTruth().memberships.roles.some(([u, r]) => u === spec.userId && r === spec.roleId);
    out(
      `  the simulated Coupa now lists ${grantSpec.login} with "${grantSpec.roleName}": ${now ? 'yes' : 'NO'}`,
    );
    out();

    child.kill('SIGTERM');
    const code = await exited;
    child = undefined;
    out(
      `Connector stopped on SIGTERM (exit ${code}). Calls ConductorOne saw: ` +
        Object.entries(
          fake.records.calls.reduce<Record<string, number>>(
            (acc, c) => ((acc[c.method] = (acc[c.method] ?? 0) + 1), acc),
            {},
          ),
        )
          .map(([m, n]) => `${m} ${n}`)
          .join(', '),
    );
    if (synced.outcome !== 'success' || granted.outcome !== 'success' || !now || code !== 0) {
      throw new CoupaConnectorError('The service-mode demo did not go as expected (see above).');
    }
  } finally {
    child?.kill('SIGKILL');
    await fake?.close();
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  }
}
