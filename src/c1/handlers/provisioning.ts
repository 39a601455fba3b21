import { create } from '@bufbuild/protobuf';
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import {
  GrantAlreadyExistsSchema,
  GrantAlreadyRevokedSchema,
  GrantSchema,
  ResourceSchema,
  type Entitlement,
  type Resource,
} from '../../c1z/messages.js';
import { emptyAnnotation } from '../../c1z/any.js';
import { entitlementId as makeEntitlementId, grantId, ResourceTypeId } from '../../connector/ids.js';
import { defaultSlugFor, parseGrantId } from '../../connector/types/index.js';
import { accountBody, type Provisioner } from '../../connector/provisioning/index.js';
import {
  CreateAccountResponseSchema,
  GrantManagerServiceGrantResponseSchema,
  GrantManagerServiceRevokeResponseSchema,
} from '../messages.js';
import type { TaskContext, TaskResult } from '../daemon.js';
import { malformedTask, TaskError } from '../task-error.js';

/**
 * grant, revoke and create_account tasks, run through the same Provisioner as the one-shot
 * commands (journal, per-user locks, audit log). ConductorOne addresses entitlements and users
 * by the ids our sync uploaded (`group:10:member`, user `42`), so they map back one to one.
 */

/** The entitlement id of a task: its `id`, or (for an id-less one) rebuilt from its resource. */
function entitlementIdOf(ent: Entitlement | undefined): string | undefined {
  if (!ent) return undefined;
  if (ent.id) return ent.id;
  const rid = ent.resource?.id;
  const defaultSlug = rid?.resourceType ? defaultSlugFor(rid.resourceType) : undefined;
  if (!rid?.resource || !defaultSlug) return undefined;
  return makeEntitlementId(rid.resourceType, rid.resource, ent.slug || defaultSlug);
}

function userIdOf(principal: Resource | undefined, what: string): string {
  const id = principal?.id;
  if (!id?.resource) throw malformedTask(what);
  if (id.resourceType !== ResourceTypeId.user) {
    throw new TaskError(
      `principal ${id.resourceType}:${id.resource} is not a user; Coupa grants go to users only`,
      { nonRetryable: true },
    );
  }
  return id.resource;
}

export function grantHandler(provisioner: () => Provisioner) {
  return async (ctx: TaskContext): Promise<TaskResult> => {
    if (ctx.task.taskType.case !== 'grant') throw malformedTask('grant');
    const t = ctx.task.taskType.value;
    const entId = entitlementIdOf(t.entitlement);
    if (!entId || !t.principal) throw malformedTask('grant');
    const userId = userIdOf(t.principal, 'grant');
    const result = await provisioner().grant(entId, userId);
    const grant = create(GrantSchema, {
      id: grantId(entId, userId),
      entitlement: t.entitlement,
      principal: t.principal,
    });
    const annotations: Any[] =
      result.outcome === 'already-granted' ? [emptyAnnotation(GrantAlreadyExistsSchema)] : [];
    const response = create(GrantManagerServiceGrantResponseSchema, { grants: [grant], annotations });
    return { response: anyPack(GrantManagerServiceGrantResponseSchema, response), annotations };
  };
}

export function revokeHandler(provisioner: () => Provisioner) {
  return async (ctx: TaskContext): Promise<TaskResult> => {
    if (ctx.task.taskType.case !== 'revoke') throw malformedTask('revoke');
    const g = ctx.task.taskType.value.grant;
    if (!g) throw malformedTask('revoke');
    let entId = entitlementIdOf(g.entitlement);
    let userId = g.principal?.id?.resource ? userIdOf(g.principal, 'revoke') : undefined;
    if ((!entId || !userId) && g.id) {
      const parsed = parseGrantId(g.id);
      entId ??= parsed?.entitlementId;
      userId ??= parsed?.principalId;
    }
    if (!entId || !userId) throw malformedTask('revoke');
    const result = await provisioner().revoke(entId, userId);
    const annotations: Any[] =
      result.outcome === 'already-revoked' ? [emptyAnnotation(GrantAlreadyRevokedSchema)] : [];
    const response = create(GrantManagerServiceRevokeResponseSchema, { annotations });
    return { response: anyPack(GrantManagerServiceRevokeResponseSchema, response), annotations };
  };
}

/** Profile keys create-account understands; ConductorOne may send more (they are logged and left out). */
const PROFILE_KEYS = new Set([
  'firstname',
  'first_name',
  'lastname',
  'last_name',
  'sso_identifier',
  'employee_number',
  'manager_login',
  'licenses',
  'authentication_method',
]);

/** What a create_account task's validation errors call its fields (the CLI names its flags). */
const TASK_ACCOUNT_FIELDS = {
  login: "The account's login",
  email: "The account's email",
  profile: 'The account profile',
};

export function createAccountHandler(provisioner: () => Provisioner) {
  return async (ctx: TaskContext): Promise<TaskResult> => {
    if (ctx.task.taskType.case !== 'createAccount') throw malformedTask('create_account');
    const info = ctx.task.taskType.value.accountInfo;
    if (!info) throw malformedTask('create_account');
    const raw: Record<string, unknown> = info.profile ?? {};
    const login = info.login || (typeof raw.login === 'string' ? raw.login : '');
    const email =
      info.emails.find((e) => e.isPrimary)?.address ??
      info.emails[0]?.address ??
      (typeof raw.email === 'string' ? raw.email : '');
    const profile: Record<string, unknown> = {};
    const ignored: string[] = [];
    for (const [k, v] of Object.entries(raw)) {
      if (PROFILE_KEYS.has(k)) profile[k] = v;
      else if (k !== 'login' && k !== 'email') ignored.push(k);
    }
    if (ignored.length > 0)
      ctx.logger.warn({ ignored }, 'create_account: profile fields Coupa has no place for were left out');
    // Failures (missing login, email or names; a taken login) are final, as for every write task.
    // Checked first with names that fit a task in ConductorOne, not the command line's flags.
    accountBody({ login, email, profile }, TASK_ACCOUNT_FIELDS);
    const result = await provisioner().createAccount({ login, email, profile });
    const resource = create(ResourceSchema, {
      id: { resourceType: ResourceTypeId.user, resource: String(result.userId) },
      displayName: login,
    });
    const response = create(CreateAccountResponseSchema, {
      result: { case: 'success', value: { resource, isCreateAccountResult: true } },
    });
    return { response: anyPack(CreateAccountResponseSchema, response) };
  };
}
