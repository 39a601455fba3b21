/**
 * The forbidden pairs of `review sod-conflicts` and the report, from a small JSON file:
 *
 * ```json
 * { "rules": [
 *   { "name": "Buyer + AP Clerk", "left": "role:Buyer", "right": ["role:AP Clerk", "role:AP Manager"],
 *     "description": "raises orders and pays them" }
 * ] }
 * ```
 *
 * A side is one selector or a list: `type:name` (role:Buyer, license:Purchasing), `type:id`
 * (role:4) or a whole entitlement id (role:4:member). Names match case-insensitively.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { SodRule } from './review-queries.js';

const side = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const RulesFile = z.object({
  rules: z
    .array(
      z.object({
        name: z.string().min(1),
        description: z.string().optional(),
        left: side,
        right: side,
      }),
    )
    .min(1),
});

export function parseSodRules(text: string, source: string): SodRule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `${source} is not valid JSON (${(err as Error).message}).`,
      'See docs/access-reviews.md for the rules file format.',
    );
  }
  const parsed = RulesFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `${source}: ${issue.path.join('.') || '(top level)'}: ${issue.message}.`,
      'Expected {"rules": [{"name": "...", "left": "role:Buyer", "right": "role:AP Clerk"}]}.',
    );
  }
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  return parsed.data.rules.map((r) => ({
    name: r.name,
    ...(r.description ? { description: r.description } : {}),
    left: list(r.left),
    right: list(r.right),
  }));
}

export function readSodRules(path: string): SodRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `Cannot read the separation-of-duties rules file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
    );
  }
  return parseSodRules(text, path);
}
