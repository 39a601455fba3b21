/**
 * The deployment files agree with the code and with each other: probe paths the health server
 * serves, the port it defaults to, the image's user and writable folders, exit codes systemd must
 * not restart on. Nothing here needs Docker, Kubernetes or systemd running.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  createServiceMetrics,
  DEFAULT_HEALTH_CHECK_PORT,
  startHealthServer,
  type HealthServer,
} from '../../src/c1/ops/index.js';
import { ExitCode } from '../../src/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/cli/service-mode.js';
import { ROOT } from '../helpers/cli.js';
import pkg from '../../package.json' with { type: 'json' };

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface EnvVar {
  name: string;
  value?: string;
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  image: string;
  env: EnvVar[];
  envFrom: Array<{ secretRef: { name: string } }>;
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe?: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface Deployment {
  kind: 'Deployment';
  spec: {
    replicas: number;
    template: {
      spec: {
        securityContext: { runAsNonRoot: boolean; runAsUser: number };
        terminationGracePeriodSeconds: number;
        containers: Container[];
        volumes: Array<{ name: string; emptyDir?: object }>;
      };
    };
  };
}
interface Secret {
  kind: 'Secret';
  metadata: { name: string };
  stringData: Record<string, string>;
}

function manifest<T>(file: string): T {
  const docs = parseAllDocuments(read(join('deploy/kubernetes', file)));
  expect(docs).toHaveLength(1);
  return docs[0]!.toJS() as T;
}

/** Dockerfile instructions of the final stage, e.g. USER, WORKDIR, ENV lines joined. */
function finalStage(): { text: string; instruction(name: string): string[] } {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m);
  const last = stages[stages.length - 1]!;
  return {
    text: last,
    instruction: (name) =>
      last
        .split('\n')
        .filter((l) => l.startsWith(name + ' '))
        .map((l) => l.slice(name.length + 1).trim()),
  };
}

describe('Kubernetes example', () => {
  const secret = manifest<Secret>('secret.yaml');
  const deployment = manifest<Deployment>('deployment.yaml');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0]!;
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  let server: HealthServer;

  beforeAll(async () => {
    server = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      metrics: createServiceMetrics({ defaultMetrics: false }),
      isReady: () => true,
      checkHealth: async () => {},
    });
  });
  afterAll(() => server.close());

  it('the Secret holds the credentials of ConductorOne and Coupa, and provisioning', () => {
    expect(Object.keys(secret.stringData).sort()).toEqual(
      [
        'BATON_CLIENT_ID',
        'BATON_CLIENT_SECRET',
        'BATON_COUPA_CLIENT_ID',
        'BATON_COUPA_CLIENT_SECRET',
        'BATON_COUPA_DOMAIN',
        'BATON_PROVISIONING',
      ].sort(),
    );
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
  });

  it('names the host and turns on the health server where the kubelet can reach it', () => {
    expect(env.BATON_HOST_ID).toBeTruthy();
    expect(env.BATON_HEALTH_CHECK).toBe('true');
    expect(env.BATON_HEALTH_CHECK_BIND_ADDRESS).toBe('0.0.0.0');
    expect(Number(env.BATON_HEALTH_CHECK_PORT)).toBe(DEFAULT_HEALTH_CHECK_PORT);
    expect(container.ports).toEqual([
      { name: 'health', containerPort: DEFAULT_HEALTH_CHECK_PORT, protocol: 'TCP' },
    ]);
  });

  it('probes paths the health server answers 200 on', async () => {
    const probes = [container.livenessProbe, container.readinessProbe, container.startupProbe].filter(
      (p): p is Probe => p !== undefined,
    );
    expect(probes.map((p) => p.httpGet.path)).toEqual(['/live', '/ready', '/live']);
    for (const probe of probes) {
      expect(probe.httpGet.port).toBe('health');
      const res = await fetch(server.url + probe.httpGet.path);
      expect(res.status, probe.httpGet.path).toBe(200);
    }
  });

  it("runs as the image's non-root user with a read-only root and every written folder mounted", () => {
    const image = finalStage();
    const [uid] = image.instruction('USER')[0]!.split(':');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(String(pod.securityContext.runAsUser)).toBe(uid);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    const mounts = container.volumeMounts.map((m) => m.mountPath).sort();
    expect(mounts).toEqual(['/tmp', image.instruction('WORKDIR')[0]!].sort());
    // The image's VOLUME list is exactly what the pod mounts.
    expect(JSON.parse(image.instruction('VOLUME')[0]!).sort()).toEqual(mounts);
    for (const m of container.volumeMounts) {
      expect(pod.volumes.find((v) => v.name === m.name)?.emptyDir, m.name).toBeDefined();
    }
    expect(env.BATON_C1Z_TEMP_DIR).toBe('/tmp');
  });

  it('sets only variables the CLI reads', () => {
    const program = buildProgram('coupa-connector');
    const known = new Set([
      ...program.options.map((o) => o.envVar).filter((v): v is string => v !== undefined),
      // Read from the environment directly, as baton-sdk does (no flag).
      'BATON_C1_API_HOST',
      'BATON_HOST_ID',
    ]);
    for (const name of [...Object.keys(secret.stringData), ...Object.keys(env)]) {
      expect(known.has(name), name).toBe(true);
    }
  });

  it('gives SIGTERM time for --shutdown-timeout and the last FinishTasks', () => {
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000 + 10);
  });

  it('sets requests and a memory limit, and one replica', () => {
    expect(container.resources.requests.cpu).toBeTruthy();
    expect(container.resources.requests.memory).toBeTruthy();
    expect(container.resources.limits.memory).toBeTruthy();
    expect(deployment.spec.replicas).toBe(1);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const image = finalStage();

  it('builds in one stage and runs from another, as a numeric non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^FROM \S+ AS build$/m);
    expect(image.text).toContain('COPY --from=build /app /app');
    expect(image.instruction('USER')[0]).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it('installs what test/deploy/production-install.ts installs: the packed files and production dependencies', () => {
    expect(dockerfile).toContain('npm ci --ignore-scripts');
    expect(dockerfile).toContain('npm pack --ignore-scripts');
    expect(dockerfile).toContain('npm prune --omit=dev');
    // Exactly the dependencies with an install script are rebuilt.
    const rebuilt = /npm rebuild ([^\n&]+)/.exec(dockerfile)![1]!.trim().split(/\s+/).sort();
    const allowed = Object.entries(pkg.allowScripts)
      .filter(([name, ok]) => ok && name in pkg.dependencies)
      .map(([name]) => name)
      .sort();
    expect(rebuilt).toEqual(allowed);
  });

  it('starts the CLI that package.json publishes', () => {
    expect(image.instruction('ENTRYPOINT')).toEqual([`["node", "/app/${pkg.bin['coupa-connector']}"]`]);
  });

  it('sends only the build inputs to the daemon (.dockerignore)', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    expect(lines.slice(1)).toEqual(
      expect.arrayContaining([
        '!package.json',
        '!package-lock.json',
        '!src/',
        '!bin/',
        '!tsconfig.build.json',
      ]),
    );
    expect(lines).not.toContain('!node_modules/');
  });
});

describe('systemd unit', () => {
  const unit = read('deploy/systemd/coupa-connector.service');
  const values = (key: string) =>
    unit
      .split('\n')
      .filter((l) => l.startsWith(key + '='))
      .map((l) => l.slice(key.length + 1));

  it('reads credentials from an EnvironmentFile and restarts, but not on bad configuration or credentials', () => {
    expect(values('EnvironmentFile')).toHaveLength(1);
    expect(values('Restart')).toEqual(['on-failure']);
    const noRestart = values('RestartPreventExitStatus').join(' ').split(/\s+/).map(Number);
    expect(noRestart).toEqual(expect.arrayContaining([ExitCode.usage, ExitCode.auth]));
    expect(values('KillSignal')).toEqual(['SIGTERM']);
  });

  it('sets only variables the CLI reads, and gives the stop time to finish', () => {
    const program = buildProgram('coupa-connector');
    const known = new Set(program.options.map((o) => o.envVar).filter((v): v is string => v !== undefined));
    for (const line of values('Environment')) {
      const name = line.split('=')[0]!;
      if (name.startsWith('BATON_')) expect(known.has(name), name).toBe(true);
    }
    const stopSeconds = Number(values('TimeoutStopSec')[0]);
    expect(stopSeconds).toBeGreaterThanOrEqual(DEFAULT_SHUTDOWN_TIMEOUT_MS / 1000 + 10);
  });

  it('is hardened without breaking V8', () => {
    for (const key of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'DynamicUser']) {
      expect(values(key), key).toEqual(['yes']);
    }
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('MemoryDenyWriteExecute')).not.toContain('yes');
    expect(values('StateDirectory')).toEqual(['coupa-connector']);
  });

  it('passes systemd-analyze verify where systemd is installed', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(ROOT, 'deploy/systemd/coupa-connector.service')], {
      encoding: 'utf8',
    });
    if (r.error) {
      // No systemd on this machine: the assertions above are all there is.
      expect((r.error as NodeJS.ErrnoException).code).toBe('ENOENT');
      return;
    }
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });
});
