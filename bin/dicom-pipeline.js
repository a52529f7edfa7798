#!/usr/bin/env node
'use strict';
let cli;
try {
  cli = require('../dist/src/cli/main');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]cli[\\/]main/.test(err.message)) {
    process.stderr.write('dicom-pipeline: not built yet; run `npm ci` (or `npm run build`) in the project directory\n');
    process.exit(2);
  }
  throw err;
}
cli.main(process.argv).then((code) => {
  process.exitCode = code;
});
