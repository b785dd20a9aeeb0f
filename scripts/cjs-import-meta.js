// Injected into devkit's CommonJS bundles (scripts/build.mjs): the module's
// own file as a URL, which ES modules call import.meta.url.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
