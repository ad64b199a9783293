// Entry point of the action's post step (bundled into dist/post/index.js by scripts/build-action.sh).
import { realDeps } from './deps.js';
import { runPost } from './post-run.js';

await runPost(realDeps());
