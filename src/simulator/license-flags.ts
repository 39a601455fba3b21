/**
 * The 19 license flags of docs/coupa-api.md §4, as hyphenated output keys.
 *
 * The client (src/coupa/models.ts) has its own copy on purpose: the simulator stands in for Coupa,
 * and if both sides read one list, a wrong flag name would be wrong in both and every test would
 * still pass. The same goes for the approval-limit keys in tenant.ts.
 */
export const ALL_LICENSE_FLAGS: readonly string[] = [
  'purchasing-user',
  'expense-user',
  'sourcing-user',
  'inventory-user',
  'contracts-user',
  'analytics-user',
  'aic-user',
  'spend-guard-user',
  'ccw-user',
  'clm-advanced-user',
  'supply-chain-user',
  'risk-assess-user',
  'travel-user',
  'treasury-user',
  'invoicing-user',
  'category-planner-user',
  'category-strategy-user',
  'intake-user',
  'coupa-navi-ai-agent-user',
];

/** Share of generated users holding each flag (unlisted flags: 2%). */
export const LICENSE_SHARE: Readonly<Record<string, number>> = {
  'expense-user': 0.85,
  'purchasing-user': 0.4,
  'invoicing-user': 0.2,
  'travel-user': 0.15,
  'contracts-user': 0.12,
  'sourcing-user': 0.1,
  'analytics-user': 0.05,
  'inventory-user': 0.05,
  'intake-user': 0.08,
  'supply-chain-user': 0.03,
};
