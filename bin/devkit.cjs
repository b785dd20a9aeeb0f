'use strict';
// bin/devkit's Node half; `npm run build` makes dist/. exec-cd, the hot path,
// runs from a CommonJS bundle of its own; every other command from dist/main.js.
//
// The process exits as soon as the command is done: idle connections to the
// Docker engine must not hold it. Writes to stdout and stderr are synchronous
// for files, pipes and terminals on Linux, so nothing is lost.
const argv = process.argv.slice(2);
const done = require('../dist/exec-cd.cjs').execCdMain(argv) ?? import('../dist/main.js').then(({ main }) => main(argv));
done.then((code) => process.exit(code));
