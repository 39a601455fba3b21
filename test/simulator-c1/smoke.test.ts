import { describe, expect, it } from 'vitest';
import { batonClient, getToken, useFakeC1, validHello } from './helpers.js';

describe.each([true, false])('fake ConductorOne smoke (tls=%s)', (tls) => {
  it('token, hello, get task', async () => {
    const fake = await useFakeC1({ tls });
    const token = await getToken(fake);
    const client = batonClient(fake, token);
    await client.hello(validHello());
    const t = fake.tasks.syncFull();
    const res = await client.getTask({ hostId: 'h' });
    expect(res.task?.id).toBe(t.id);
    expect(res.task?.taskType.case).toBe('syncFull');
    expect(fake.records.hellos).toHaveLength(1);
  });
});
