import type { Command } from 'commander';

/**
 * baton's one-shot provisioning flags (--grant-entitlement, --revoke-grant, --create-account-*,
 * --invoke-action) live on the root command next to the sync flags. The root command calls these
 * two hooks; the provisioning module owns what they do.
 */
export function addOneShotOptions(_cmd: Command): void {}

/** Runs the one-shot operation the options ask for; false when they ask for none (then the root syncs). */
export async function runOneShot(_opts: Record<string, unknown>): Promise<boolean> {
  return false;
}
