import { randomBytes, timingSafeEqual } from 'node:crypto';

interface TokenInfo {
  scopes: Set<string>;
  expiresAt: number;
}

export type TokenCheck =
  { ok: true; scopes: Set<string> } | { ok: false; reason: 'missing' | 'unknown' | 'expired' };

/** Issued bearer tokens and their scopes; revoking or expiring them is what tests of refresh use. */
export class TokenStore {
  private tokens = new Map<string, TokenInfo>();

  constructor(private readonly ttlSeconds: number) {}

  issue(scopes: string[]): { token: string; expiresIn: number } {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { scopes: new Set(scopes), expiresAt: Date.now() + this.ttlSeconds * 1000 });
    return { token, expiresIn: this.ttlSeconds };
  }

  check(authorization: string | undefined): TokenCheck {
    const m = /^bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
    if (!m) return { ok: false, reason: 'missing' };
    const info = this.tokens.get(m[1]!);
    if (!info) return { ok: false, reason: 'unknown' };
    if (Date.now() >= info.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, scopes: info.scopes };
  }

  revokeAll(): void {
    this.tokens.clear();
  }

  expireAll(): void {
    for (const info of this.tokens.values()) info.expiresAt = 0;
  }
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
