#!/usr/bin/env node
// Thin launcher: the CLI is compiled from TypeScript into build/ by `npm run build` (run by `prepare`).
import '../build/cli/main.js';
