// Tests that need a tool `npm run setup` installs (the pinned OPA CLI, SoftHSM2) ask here whether it
// is there. Outside CI a missing tool skips those tests, with the reason in the test name; in CI
// (CI=true) it fails the file, saying how to install it, so a CI run can never pass by skipping.
export function toolAvailable(what: string, found: boolean): boolean {
  if (!found && process.env.CI === 'true') {
    throw new Error(`${what} not found: run \`npm run setup\` (CI=true: tests that need it fail instead of skipping)`);
  }
  return found;
}
