/**
 * A fake ConductorOne for tests and the demo: the token endpoint with real client-assertion checks,
 * c1.connectorapi.baton.v1.BatonService with baton v0.2.58's server-side validation, a task queue
 * tests drive, records of every call and fault injection. See docs/simulator.md.
 */
export { startFakeC1 } from './server.js';
export { generateCredentials, audienceOf } from './credentials.js';
export { checkAssertion, TOKEN_PATH } from './token-endpoint.js';
export { TASK_ID } from './validate.js';
export type * from './types.js';
