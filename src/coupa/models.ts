import { z } from 'zod';

/**
 * Shapes of the Coupa objects the sync and provisioning rely on. Only `id` (and the natural key
 * where one exists) is required: everything else may be trimmed away by a `fields` projection or
 * be null, as Coupa writes empty scalars as null. Objects are loose: unknown keys (new license
 * flags, custom fields) are kept, never an error. Keys are Coupa's hyphenated output names.
 */

/** The 19 license flags of docs/coupa-api.md §4, as hyphenated output keys. */
export const LICENSE_FLAGS = [
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
] as const;
export type LicenseFlag = (typeof LICENSE_FLAGS)[number];

/** The approval-limit keys a user carries in output (docs/coupa-api.md §4). */
export const APPROVAL_LIMIT_KEYS = [
  'requisition-approval-limit',
  'requisition-self-approval-limit',
  'expense-approval-limit',
  'expense-self-approval-limit',
  'invoice-approval-limit',
  'invoice-self-approval-limit',
  'contract-approval-limit',
  'contract-self-approval-limit',
] as const;
export type ApprovalLimitKey = (typeof APPROVAL_LIMIT_KEYS)[number];

const id = z.number().int();
const text = z.string().nullish();
const flag = z.boolean().nullish();
const timestamp = z.string().nullish();

/** An association item as embedded in a user (`roles`, `user-groups`, …). */
export const RefSchema = z.looseObject({ id, name: text });
export type Ref = z.infer<typeof RefSchema>;
const refs = z.array(RefSchema).nullish();

export const ApprovalLimitSchema = z.looseObject({
  id,
  name: text,
  // Coupa writes decimals as strings; older payloads and fakes use numbers.
  amount: z.union([z.string(), z.number()]).nullish(),
  currency: z.looseObject({ code: z.string() }).nullish(),
});
export type ApprovalLimit = z.infer<typeof ApprovalLimitSchema>;

export const ManagerSchema = z.looseObject({ id, login: text });

const licenseShape = Object.fromEntries(LICENSE_FLAGS.map((f) => [f, flag])) as Record<
  LicenseFlag,
  typeof flag
>;
const approvalShape = Object.fromEntries(
  APPROVAL_LIMIT_KEYS.map((k) => [k, ApprovalLimitSchema.nullish()]),
) as Record<ApprovalLimitKey, z.ZodOptional<z.ZodNullable<typeof ApprovalLimitSchema>>>;

export const UserSchema = z.looseObject({
  id,
  login: z.string(),
  email: text,
  firstname: text,
  lastname: text,
  fullname: text,
  active: flag,
  'api-user': flag,
  'employee-number': text,
  'sso-identifier': text,
  'authentication-method': text,
  manager: ManagerSchema.nullish(),
  'created-at': timestamp,
  'updated-at': timestamp,
  roles: refs,
  'user-groups': refs,
  'content-groups': refs,
  'account-groups': refs,
  'approval-groups': refs,
  ...approvalShape,
  ...licenseShape,
});
export type User = z.infer<typeof UserSchema>;

export const UserGroupSchema = z.looseObject({
  id,
  name: z.string(),
  description: text,
  active: flag,
  'can-approve': flag,
  'created-at': timestamp,
  'updated-at': timestamp,
  users: z.array(z.looseObject({ id, login: text })).nullish(),
});
export type UserGroup = z.infer<typeof UserGroupSchema>;

export const RoleSchema = z.looseObject({
  id,
  name: z.string(),
  description: text,
  omnipotent: flag,
  'system-role': flag,
  'created-at': timestamp,
  'updated-at': timestamp,
});
export type Role = z.infer<typeof RoleSchema>;

/** A content group; Coupa's API calls these business groups (`/api/business_groups`). */
export const ContentGroupSchema = z.looseObject({
  id,
  name: z.string(),
  description: text,
  'created-at': timestamp,
  'updated-at': timestamp,
});
export type ContentGroup = z.infer<typeof ContentGroupSchema>;

export const AccountGroupSchema = z.looseObject({
  id,
  name: z.string(),
  'account-group-type': z.number().int().nullish(),
  'created-at': timestamp,
  'updated-at': timestamp,
});
export type AccountGroup = z.infer<typeof AccountGroupSchema>;

/** Just the id: `return_object=limited` answers, existence checks. */
export const IdOnlySchema = z.looseObject({ id });
