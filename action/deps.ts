// The real dependencies of both entry points: @actions/core, the runner's environment, and
// the job summary file.
import * as core from '@actions/core';
import type { RunDeps } from './run.js';

export function realDeps(): RunDeps {
  return {
    core,
    env: process.env,
    appendSummary: async (markdown) => {
      // Outside a runner (or on one without job summaries) there is nowhere to write it.
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(markdown, true).write();
    },
  };
}
