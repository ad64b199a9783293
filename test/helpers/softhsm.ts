// A throw-away SoftHSM2 token per test: its own SOFTHSM2_CONF and token folder under a temp dir,
// keys generated inside the token (sensitive, never extractable) with OpenSC's pkcs11-tool — the
// same commands docs/key-providers.md gives for real tokens. `scripts/install-softhsm.sh`
// installs both tools (Debian packages softhsm2 and opensc).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

// softhsm2-util and pkcs11-tool finish in well under a second; a bound turns a hung tool into an error.
const TOOL_TIMEOUT_MS = 60_000;

function which(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', timeout: TOOL_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** The SoftHSM2 module path; throws a clear message when SoftHSM2 or pkcs11-tool is missing. */
function softhsmModule(): string {
  const module = process.env.SOFTHSM2_MODULE ?? MODULE_CANDIDATES.find((m) => existsSync(m));
  if (!module || !which('softhsm2-util') || !which('pkcs11-tool')) {
    throw new Error('SoftHSM2 and pkcs11-tool are required: run `npm run setup` (scripts/install-softhsm.sh installs the Debian packages softhsm2, opensc)');
  }
  return module;
}

export interface SoftHsmToken {
  dir: string;
  module: string;
  label: string;
  pin: string;
  soPin: string;
  /** SOFTHSM2_CONF for processes that use this token. */
  env: { SOFTHSM2_CONF: string };
  /** Runs pkcs11-tool against this token, logged in with the user PIN. */
  tool(args: string[]): string;
  /** AES-256 secret key, sensitive and never extractable (the aes-gcm mode). */
  generateAesKey(label: string, id: string): string;
  /** P-256 key pair allowed to derive (the ecdh-p256 mode); private half sensitive, never extractable. */
  generateEcKey(label: string, id: string): string;
  cleanup(): Promise<void>;
}

export async function createSoftHsmToken(label = 'ztmint-test', pin = '123456', soPin = '12345678'): Promise<SoftHsmToken> {
  const module = softhsmModule();
  const dir = await mkdtemp(join(tmpdir(), 'ztmint-softhsm-'));
  await mkdir(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { SOFTHSM2_CONF: conf };
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: TOOL_TIMEOUT_MS });
  run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin]);
  const tool = (args: string[]) => run('pkcs11-tool', ['--module', module, '--token-label', label, '--login', '--pin', pin, ...args]);
  return {
    dir,
    module,
    label,
    pin,
    soPin,
    env,
    tool,
    generateAesKey: (keyLabel, id) => tool(['--keygen', '--key-type', 'AES:32', '--label', keyLabel, '--id', id, '--usage-decrypt', '--sensitive']),
    generateEcKey: (keyLabel, id) => tool(['--keypairgen', '--key-type', 'EC:prime256v1', '--label', keyLabel, '--id', id, '--usage-derive', '--sensitive']),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
