'use strict';
// bin/devkit's Node half; `npm run build` makes dist/. exec-cd, the hot path,
// runs from a CommonJS bundle of its own; every other command from dist/main.cjs.
//
// The process exits as soon as the command is done: idle connections to the
// Docker engine must not hold it. Not before stdout and stderr have taken all
// that was written to them: a write to a pipe the reader has not emptied is
// queued, and process.exit drops the queue (exec-cd ... cat of 10 MB into a
// slow reader lost its tail).
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
// A write's callback runs once every write before it has gone out (or failed: a reader that left).
const flushed = (stream) => (stream.writableLength === 0 ? null : new Promise((resolve) => stream.write('', () => resolve())));
done.then(async (code) => {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
});
