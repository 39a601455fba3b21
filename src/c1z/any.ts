/**
 * Annotations are `google.protobuf.Any` values. Baton matches them by type URL
 * (`type.googleapis.com/<full name>`), and protojson can only render the ones its registry knows,
 * so every annotation type a c1z may carry is listed here.
 */
import {
  create,
  createRegistry,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  type Registry,
} from '@bufbuild/protobuf';
import { anyIs, anyPack, anyUnpack, AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import {
  AppTraitSchema,
  AssetRefSchema,
  ChildResourceTypeSchema,
  EntitlementImmutableSchema,
  EntitlementSchema,
  ETagSchema,
  ExternalLinkSchema,
  GrantAlreadyExistsSchema,
  GrantAlreadyRevokedSchema,
  GrantExpandableSchema,
  GrantImmutableSchema,
  GrantMetadataSchema,
  GrantSchema,
  GroupTraitSchema,
  RateLimitDescriptionSchema,
  ResourceSchema,
  ResourceTypeSchema,
  RoleTraitSchema,
  SkipEntitlementsAndGrantsSchema,
  SyncDetailsSchema,
  UserTraitSchema,
  V1IdentifierSchema,
} from './messages.js';

/** Every annotation message v0.2.58 knows that this connector may meet. */
export const annotationSchemas = [
  UserTraitSchema,
  GroupTraitSchema,
  RoleTraitSchema,
  AppTraitSchema,
  ChildResourceTypeSchema,
  SkipEntitlementsAndGrantsSchema,
  ETagSchema,
  GrantMetadataSchema,
  GrantExpandableSchema,
  GrantImmutableSchema,
  EntitlementImmutableSchema,
  ExternalLinkSchema,
  V1IdentifierSchema,
  AssetRefSchema,
  GrantAlreadyExistsSchema,
  GrantAlreadyRevokedSchema,
  RateLimitDescriptionSchema,
  SyncDetailsSchema,
] as const;

/** Registry for toJson/fromJson: the stored messages plus every annotation type. */
export const c1zRegistry: Registry = createRegistry(
  ResourceTypeSchema,
  ResourceSchema,
  EntitlementSchema,
  GrantSchema,
  ...annotationSchemas,
);

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

export function typeUrlOf(schema: DescMessage): string {
  return TYPE_URL_PREFIX + schema.typeName;
}

/** Packs a message (or its init shape) into an Any with Go's type URL. */
export function packAnnotation<Desc extends DescMessage>(schema: Desc, message: MessageInitShape<Desc>): Any {
  return anyPack(schema, create(schema, message));
}

/** An Any holding an empty message of this type (how baton writes empty GroupTrait/RoleTrait). */
export function emptyAnnotation(schema: DescMessage): Any {
  return create(AnySchema, { typeUrl: typeUrlOf(schema), value: new Uint8Array(0) });
}

/** The first annotation of this type, decoded, or undefined. */
export function findAnnotation<Desc extends DescMessage>(
  annotations: readonly Any[],
  schema: Desc,
): MessageShape<Desc> | undefined {
  for (const a of annotations) {
    if (anyIs(a, schema)) return anyUnpack(a, schema);
  }
  return undefined;
}

export function hasAnnotation(annotations: readonly Any[], schema: DescMessage): boolean {
  return annotations.some((a) => anyIs(a, schema));
}
