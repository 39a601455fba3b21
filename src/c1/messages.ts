/**
 * The service-mode protobuf messages (c1.connectorapi.baton.v1 and the c1.connector.v2 messages its
 * tasks carry), generated from proto/. Import them from here, not from gen/.
 */
export * from '../c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
export * from '../c1z/gen/c1/connector/v2/connector_pb.js';
export * from '../c1z/gen/c1/connector/v2/grant_manager_pb.js';
export * from '../c1z/gen/c1/connector/v2/account_pb.js';
export * from '../c1z/gen/google/rpc/status_pb.js';
