import type { CliCommand } from '../command.js';
import { connectorCapabilities } from '../../connector/capabilities.js';

export const capabilitiesCommand: CliCommand = {
  register(program) {
    program
      .command('capabilities')
      .description(
        'Print what this connector can sync and provision, per resource type, as JSON (the shape baton connectors print).',
      )
      .action(() => {
        process.stdout.write(JSON.stringify(connectorCapabilities(), null, 2) + '\n');
      });
  },
};
