/**
 * The baton protobuf messages a c1z holds, generated from proto/ (see `npm run generate`).
 * Import them from here, not from gen/, so the generated layout can change without touching callers.
 */
export * from './gen/c1/connector/v2/resource_pb.js';
export * from './gen/c1/connector/v2/entitlement_pb.js';
export * from './gen/c1/connector/v2/grant_pb.js';
export * from './gen/c1/connector/v2/asset_pb.js';
export * from './gen/c1/connector/v2/annotation_trait_pb.js';
export * from './gen/c1/connector/v2/annotation_grant_pb.js';
export * from './gen/c1/connector/v2/annotation_entitlement_pb.js';
export * from './gen/c1/connector/v2/annotation_resource_tree_pb.js';
export * from './gen/c1/connector/v2/annotation_ratelimit_pb.js';
export * from './gen/c1/connector/v2/annotation_etag_pb.js';
export * from './gen/c1/connector/v2/annotation_external_link_pb.js';
export * from './gen/c1/connector/v2/annotation_v1_identifier_pb.js';
export * from './gen/c1/c1z/v1/annotation_sync_details_pb.js';
