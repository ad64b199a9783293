// Entry point of the GitHub Action (bundled into dist/main/index.js by scripts/build-action.sh).
import * as core from '@actions/core';
import { run } from './run.js';

await run({ core, fetch: globalThis.fetch });
