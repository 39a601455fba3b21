/**
 * A test-only ConductorOne client: signs client assertions, fetches tokens and calls BatonService
 * with @connectrpc/connect-node, so the fake can be exercised (and broken on purpose) without the
 * daemon. The real client lives in src/c1/.
 */
import https from 'node:https';
import http from 'node:http';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { afterEach } from 'vitest';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  BatonService,
  BatonServiceHelloRequestSchema,
  type BatonServiceHelloRequest,
} from '../../src/c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import { startFakeC1, type FakeC1, type FakeC1Options } from '../../src/simulator/c1/index.js';

const running: FakeC1[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.close()));
});

/** A fake closed after the current test. */
export async function useFakeC1(options: FakeC1Options = {}): Promise<FakeC1> {
  const fake = await startFakeC1(options);
  running.push(fake);
  return fake;
}

export interface AssertionParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Header and claims as baton v0.2.58 builds them (aud as a one-element array). */
export function batonAssertionParts(
  clientId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): AssertionParts {
  const host = clientId.split('@')[1]!.split('/')[0]!.replace(/:\d+$/, '');
  return {
    header: { alg: 'EdDSA', nonce: randomBytes(16).toString('hex') },
    claims: {
      iss: clientId,
      sub: clientId,
      aud: [host],
      exp: nowSeconds + 120,
      nbf: nowSeconds - 120,
      iat: nowSeconds,
    },
  };
}

export function signAssertion(clientSecret: string, parts: AssertionParts): string {
  const jwk = JSON.parse(Buffer.from(clientSecret.split(':')[3]!, 'base64url').toString()) as Record<
    string,
    string
  >;
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc(parts.header)}.${enc(parts.claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

export function tokenForm(clientId: string, assertion: string): Record<string, string> {
  return {
    client_id: clientId,
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  };
}

/** POSTs a body to the token endpoint over HTTP/1.1; returns status and parsed JSON. */
export function postToken(
  fake: FakeC1,
  body: string | Record<string, string>,
  contentType = 'application/x-www-form-urlencoded',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  const url = new URL('/auth/v1/token', fake.url);
  const mod = fake.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(text) },
        ...(fake.tls ? { ca: fake.caPem } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** A valid token, fetched the way baton does. */
export async function getToken(fake: FakeC1): Promise<string> {
  const assertion = signAssertion(fake.clientSecret, batonAssertionParts(fake.clientId));
  const res = await postToken(fake, tokenForm(fake.clientId, assertion));
  if (res.status !== 200) throw new Error(`token refused: ${JSON.stringify(res.json)}`);
  return res.json.access_token as string;
}

/**
 * A BatonService client. Each client has its own HTTP/2 session; `token` undefined sends no
 * authorization metadata.
 */
export function batonClient(fake: FakeC1, token?: string): Client<typeof BatonService> {
  const transport = createGrpcTransport({
    baseUrl: fake.url,
    nodeOptions: fake.tls ? { ca: fake.caPem } : {},
    interceptors: [
      (next) => async (req) => {
        if (token !== undefined) req.header.set('authorization', `Bearer ${token}`);
        return next(req);
      },
    ],
  });
  return createClient(BatonService, transport);
}

/** A Hello that passes v0.2.58's rules; tests break one field at a time. */
type HelloInit = Exclude<MessageInitShape<typeof BatonServiceHelloRequestSchema>, BatonServiceHelloRequest>;

export function validHello(overrides: Partial<HelloInit> = {}): BatonServiceHelloRequest {
  const base: HelloInit = {
    hostId: 'test-host',
    taskId: '',
    buildInfo: { langVersion: 'node-v20', package: 'coupa-connector', packageVersion: '0.1.0' },
    osInfo: {
      hostname: 'h',
      os: 'linux',
      platform: 'debian',
      platformVersion: '12',
      platformFamily: 'debian',
      kernelVersion: '6.1.0',
      kernelArch: 'x86_64',
      virtualizationSystem: 'none',
    },
    connectorMetadata: { displayName: 'Coupa', description: 'test' },
  };
  return create(BatonServiceHelloRequestSchema, { ...base, ...overrides });
}
