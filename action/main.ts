// Entry point of the action's main step (bundled into dist/main/index.js by scripts/build-action.sh).
import { realDeps } from './deps.js';
import { run } from './run.js';

await run(realDeps());
