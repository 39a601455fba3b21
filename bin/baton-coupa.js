#!/usr/bin/env node
// Same program under the Go connector's name, so existing scripts keep working unchanged.
import { main } from '../dist/cli/main.js';

main(process.argv, 'baton-coupa');
