import { describe, expect, it } from 'vitest';
import { newKsuid } from '../../src/c1z/ksuid.js';
import { goTimestamp } from '../../src/c1z/timestamp.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const decode = (s: string) => [...s].reduce((n, c) => n * 62n + BigInt(BASE62.indexOf(c)), 0n);

describe('KSUID sync ids', () => {
  it('are 27 base62 chars carrying the seconds since 2014-05-13T16:53:20Z in the top 32 bits', () => {
    const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
    const id = newKsuid(at);
    expect(id).toMatch(/^[0-9A-Za-z]{27}$/);
    const seconds = Number(decode(id) >> 128n);
    expect(seconds).toBe(Date.UTC(2025, 0, 2, 3, 4, 5) / 1000 - 1_400_000_000);
  });

  it('sort by time as text and differ within the same second', () => {
    const a = newKsuid(new Date(Date.UTC(2025, 0, 1)));
    const b = newKsuid(new Date(Date.UTC(2025, 0, 1, 0, 0, 1)));
    expect(a < b).toBe(true);
    expect(newKsuid(new Date(Date.UTC(2025, 0, 1)))).not.toBe(a);
  });
});

describe("Go's timestamp layout, UTC", () => {
  it.each([
    [Date.UTC(2025, 0, 2, 3, 4, 5, 123), 0, '2025-01-02 03:04:05.123'],
    [Date.UTC(2025, 0, 2, 3, 4, 5, 120), 0, '2025-01-02 03:04:05.12'],
    [Date.UTC(2025, 0, 2, 3, 4, 5, 0), 0, '2025-01-02 03:04:05'],
    [Date.UTC(2025, 11, 31, 23, 59, 59, 1), 500, '2025-12-31 23:59:59.0010005'],
    [Date.UTC(2025, 0, 2, 3, 4, 5, 0), 7, '2025-01-02 03:04:05.000000007'],
  ])('%s + %s ns → %s', (ms, nanos, text) => {
    expect(goTimestamp(new Date(ms), nanos)).toBe(text);
  });
});
