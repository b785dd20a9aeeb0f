'use strict';
// bin/devkit's Node half; `npm run build` makes dist/. exec-cd, the hot path,
// runs from a CommonJS bundle of its own; every other command from dist/main.cjs.
//
// The process exits as soon as the command is done: idle connections to the
// Docker engine must not hold it. Writes to stdout and stderr are synchronous
// for files, pipes and terminals on Linux, so nothing is lost.
const path = require('node:path');

let execCdMain;
try {
  ({ execCdMain } = require('../dist/exec-cd.cjs'));
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND') throw error;
  process.stderr.write(`devkit: not built yet: run npm run build in ${path.dirname(__dirname)} (or scripts/setup.sh)\n`);
  process.exit(1);
}
const argv = process.argv.slice(2);
const done = execCdMain(argv) ?? require('../dist/main.cjs').main(argv);
done.then((code) => process.exit(code));
