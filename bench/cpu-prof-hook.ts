// Preloaded into every process of the benchmarked stack (NODE_OPTIONS=--import …) when
// ZTMINT_BENCH_CPU_PROF names a directory. SIGUSR2 starts a V8 CPU profile; the next SIGUSR2 (or
// exit) writes it as <dir>/<role>-<pid>.cpuprofile. So the profile covers the timed load only,
// not start-up. (`node --cpu-prof` is not allowed in NODE_OPTIONS, and `ztmint dev` does not
// forward execArgv to its children.) Summarise with build/bench/profile-summary.js.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.ZTMINT_BENCH_CPU_PROF;
if (dir) {
  const args = process.argv.slice(2);
  const role = args[0] === 'signer' ? `signer-${args[args.indexOf('--index') + 1]}` : (args[0] ?? 'node');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  let running = false;
  // In-thread inspector sessions answer synchronously, so stop() also works inside 'exit'.
  const stop = () => {
    if (!running) return;
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on('SIGUSR2', () => {
    if (running) return stop();
    running = true;
    session.post('Profiler.start');
  });
  process.on('exit', stop);
}
