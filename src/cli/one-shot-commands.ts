// The commands that read a config and exit (-t, lint): the entry of the one-shot bundle
// (dist/one-shot.cjs, see one-shot.ts), and what runs in its place when there is none.
export { configTest } from './config-test.js';
export { lintCommand } from './lint.js';
