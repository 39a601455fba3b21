import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UserSchema } from '../../src/coupa/index.js';
import { CoupaConnectorError, formatError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import {
  bearer,
  CLIENT_SECRET,
  json,
  startFake,
  type FakeServer,
  caught,
  unexpected,
  fakeClient,
} from './helpers/fake-coupa.js';

let fake: (FakeServer & { issuedTokens: string[] }) | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

/** Everything an error could show: message, hint, causes, and its JSON form. */
function errorText(err: unknown): string {
  const parts: string[] = [formatError(err)];
  let e: unknown = err;
  for (let i = 0; e && i < 5; i++) {
    parts.push(String(e), JSON.stringify(e) ?? '');
    if (e instanceof CoupaConnectorError && e.hint) parts.push(e.hint);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

describe('secrets', () => {
  it('never appear in trace-level logs or error messages, through renewals, retries and failures', async () => {
    let call = 0;
    fake = await startFake({
      api: (req, res) => {
        call++;
        if (call === 1) return json(res, 401, {}); // forces a token renewal
        if (call === 2) return json(res, 429, { errors: ['slow'] }, { 'retry-after': '0' });
        if (call === 3) return void res.socket?.destroy();
        if (req.url.pathname === '/api/users/echo') {
          // A server that echoes the credentials back in an error body must not get them into our messages.
          return json(res, 422, { errors: { user: [`bad token ${bearer(req)} / ${CLIENT_SECRET}`] } });
        }
        if (req.url.pathname === '/api/users/bad') return json(res, 200, { id: 'x', login: bearer(req) });
        json(res, 200, [{ id: 1, login: 'a' }]);
      },
    });
    const raw = sink(); // what the client itself emits, before the project's scrubbing sink
    const scrubbed = sink(); // what a user would see
    const errors: unknown[] = [];
    for (const logger of [
      pino({ level: 'trace' }, raw.stream),
      createLogger({ level: 'trace', destination: scrubbed.stream }),
    ]) {
      const c = fakeClient(fake.url, { retry: { baseDelayMs: 1 }, logger });
      for await (const _ of c.paginate('/api/users', { itemSchema: UserSchema })) void _;
      errors.push(await c.get('/api/users/echo', { schema: z.unknown() }).then(unexpected, caught));
      errors.push(await c.get('/api/users/bad', { schema: UserSchema }).then(unexpected, caught));
      call = 0;
    }
    const wrong = fakeClient(fake.url, { clientSecret: 'a-wrong-secret-999' });
    errors.push(await wrong.get('/api/users', { schema: z.unknown() }).then(unexpected, caught));

    expect(fake.issuedTokens.length).toBeGreaterThanOrEqual(4);
    expect(errors.every((e) => e instanceof CoupaConnectorError)).toBe(true);
    const secrets = [
      CLIENT_SECRET,
      encodeURIComponent(CLIENT_SECRET),
      'a-wrong-secret-999',
      ...fake.issuedTokens,
    ];
    const logs = raw.text() + scrubbed.text();
    expect(logs).toMatch(/coupa request/); // the logs were really written
    const messages = errors.map(errorText).join('\n');
    for (const s of secrets) {
      expect(logs).not.toContain(s);
      expect(messages).not.toContain(s);
    }
    expect(logs).not.toMatch(/authorization|bearer /i);
  });
});
