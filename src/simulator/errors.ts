import { CoupaConnectorError } from '../errors.js';

/**
 * An error the fake Coupa answers over HTTP. `messages` become Coupa's error body
 * (`{"errors":{"<resource>":[...]}}` in JSON, `<errors><error>…</error></errors>` in XML).
 */
export class SimulatorHttpError extends CoupaConnectorError {
  readonly status: number;
  readonly resource: string;
  readonly messages: string[];

  constructor(status: number, resource: string, messages: string[]) {
    super(`Simulated Coupa answered ${status}: ${messages.join('; ')}`);
    this.status = status;
    this.resource = resource;
    this.messages = messages;
  }
}

export function badRequest(resource: string, ...messages: string[]): SimulatorHttpError {
  return new SimulatorHttpError(400, resource, messages);
}

export function notFound(resource: string, id: string | number): SimulatorHttpError {
  return new SimulatorHttpError(404, resource, [`Couldn't find ${resource} with id ${id}`]);
}
