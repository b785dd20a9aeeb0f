#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build`; bin/devkit is the launcher to use.
import { main } from '../dist/main.js';

// Exit as soon as the command is done: idle keep-alive sockets to the Docker
// engine must not hold the process. Writes to stdout and stderr are synchronous
// for files, pipes and terminals on Linux, so nothing is lost.
process.exit(await main(process.argv.slice(2)));
