#!/usr/bin/env node
// The `quiver` command. All logic lives in dist/src/cli (built by `npm install`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
