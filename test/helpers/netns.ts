// A private network of Linux network namespaces for isolation tests: a bridge in a hub
// namespace, one veth per member namespace, and one into the root namespace (where the test
// process runs). Addresses are in 10.213.<n>.0/24 on interfaces created here only; no namespace
// has a default route, so no packet can leave the machine. Everything is removed by
// destroy(), which also runs on process exit should a test crash.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

export interface Member {
  ns: string;
  address: string;
}

export class NetnsLab {
  readonly id = randomBytes(2).toString('hex');
  readonly hub: string;
  readonly subnet: string;
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly onExit = () => this.destroySync();

  constructor() {
    this.hub = `zt${this.id}hub`;
    const used = run('ip', ['-4', '-o', 'addr', 'show']);
    let third = 0;
    for (let i = 0; i < 50 && !third; i++) {
      const candidate = 1 + Math.floor(Math.random() * 250);
      if (!used.includes(`10.213.${candidate}.`)) third = candidate;
    }
    if (!third) throw new Error('no free 10.213.x.0/24 subnet');
    this.subnet = `10.213.${third}`;
    process.once('exit', this.onExit);
    this.addNamespace(this.hub);
    run('ip', ['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', this.hub, 'link', 'set', 'br0', 'up']);
  }

  address(host: number): string {
    return `${this.subnet}.${host}`;
  }

  private addNamespace(ns: string): void {
    run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** A veth pair: `inside` gets the address (in ns, or the root namespace), the peer joins the bridge. */
  private wire(short: string, ns: string | undefined, address: string): void {
    const inside = `zt${this.id}${short}a`;
    const outside = `zt${this.id}${short}b`;
    run('ip', ['link', 'add', inside, 'type', 'veth', 'peer', 'name', outside]);
    this.links.push(inside);
    run('ip', ['link', 'set', outside, 'netns', this.hub]);
    run('ip', ['-n', this.hub, 'link', 'set', outside, 'master', 'br0', 'up']);
    if (ns) run('ip', ['link', 'set', inside, 'netns', ns]);
    const inNs = ns ? ['-n', ns] : [];
    run('ip', [...inNs, 'addr', 'add', `${address}/24`, 'dev', inside]);
    run('ip', [...inNs, 'link', 'set', inside, 'up']);
  }

  /** A new namespace on the private network. */
  member(short: string, host: number): Member {
    const ns = `zt${this.id}${short}`;
    this.addNamespace(ns);
    const address = this.address(host);
    this.wire(short, ns, address);
    return { ns, address };
  }

  /** The root namespace (this test process) on the private network. */
  attachRoot(host: number): string {
    const address = this.address(host);
    this.wire('r', undefined, address);
    return address;
  }

  /** Loads an nftables ruleset into a namespace. */
  nft(ns: string, ruleset: string): void {
    run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], ruleset);
  }

  /** `node args…` inside a namespace; resolves once it printed its JSON ready line. */
  startNode(ns: string, args: string[], label: string, logFile: string, timeoutMs = 90_000): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ZTMINT_LOG_LEVEL: 'warn' },
    });
    this.children.push(child);
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stderr!.pipe(log);
    let tail = '';
    child.stderr!.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-2000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} not ready within ${timeoutMs} ms:\n${tail}`)), timeoutMs);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve({ child, ready: JSON.parse(line) as Record<string, unknown> });
        } catch {
          reject(new Error(`${label}: unexpected first line ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        setTimeout(() => reject(new Error(`${label} exited (${signal ?? code}):\n${tail}`)), 50);
      });
    });
  }

  /**
   * Whether a TCP connection from inside `ns` (or the root namespace) to address:port is
   * established within timeoutMs. A dropped SYN shows as a timeout; the probe is bounded.
   */
  canConnect(ns: string | undefined, address: string, port: number, timeoutMs = 2_000): boolean {
    const script =
      `const s=require('net').connect({host:${JSON.stringify(address)},port:${port}});` +
      `const t=setTimeout(()=>{console.log('timeout');process.exit(0)},${timeoutMs});` +
      `s.on('connect',()=>{console.log('open');process.exit(0)});s.on('error',e=>{console.log('error '+e.code);process.exit(0)});`;
    const argv = [process.execPath, '-e', script];
    const r = ns
      ? spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs + 15_000 })
      : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs + 15_000 });
    if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return r.stdout.trim() === 'open';
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(resolve, 5_000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGKILL');
          }),
      ),
    );
    this.destroySync();
  }

  /** Removes the namespaces and links; safe to call twice, and from an exit handler. */
  destroySync(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
    for (const link of this.links.splice(0)) spawnSync('ip', ['link', 'del', link], { timeout: 10_000, stdio: 'ignore' });
    process.off('exit', this.onExit);
  }
}
