/**
 * `primacy start app.js --workers 4 [--inspector]`: runs an app under the worker manager. The
 * first SIGTERM/SIGINT stops it gracefully; a second one kills every worker at once.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { PrimacyUsageError } from '../errors.js';
import { prefixed } from '../logger.js';
import { Inspector } from '../manager/inspector.js';
import { WorkerManager } from '../manager/manager.js';
import { defaultManagerName, inspectorSocket, usableStateDir } from '../manager/options.js';
import { scriptProblem } from '../manager/script-check.js';
import { EXIT } from './args.js';
import { LOCK_SPECS, lockFromSpec } from './manager-lock.js';
import { startWatching, takeWatchPaths, WATCH_HELP, WATCH_OPTIONS, watchSettings } from './watch-flags.js';

export const START_HELP = `Usage: primacy start <app.js> [options] [-- app arguments]

Options:
  --workers N          worker processes (default: the number of CPUs)
  --name NAME          names this manager's claim and socket (default: the app's package.json
                       name); a second manager with the same name refuses to start
  --state-dir DIR      where the claim and the socket live (default: the private per-user
                       directory, $XDG_RUNTIME_DIR/primacy/managers or <tmp>/primacy-<uid>/managers)
  --lock SPEC          the lock the manager holds for its workers, shared with every other
                       process of the app: ${LOCK_SPECS} (default file)
  --ack listening|ready  ack when the worker's server listens (default) or calls worker.ready()
  --inspector          open the control socket (mode 0600) for primacy inspect
${WATCH_HELP}`;

export async function runStart(argv: readonly string[]): Promise<number> {
  const watchArgs = takeWatchPaths(argv);
  const { values, positionals } = parseArgs({
    args: watchArgs.argv,
    allowPositionals: true,
    strict: true,
    options: {
      workers: { type: 'string' },
      name: { type: 'string' },
      'state-dir': { type: 'string' },
      lock: { type: 'string' },
      ack: { type: 'string' },
      inspector: { type: 'boolean' },
      ...WATCH_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(START_HELP);
    return 0;
  }
  const [script, ...args] = positionals;
  if (!script) throw new PrimacyUsageError('start needs the app to run, e.g. primacy start server.js --workers 4');
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new PrimacyUsageError(`--workers must be a whole number >= 1, got "${values.workers}"`);
  }
  if (values.ack !== undefined && values.ack !== 'listening' && values.ack !== 'ready') {
    throw new PrimacyUsageError(`--ack must be listening or ready, got "${values.ack}"`);
  }
  const watch = watchSettings(values, watchArgs.paths, script);
  const missing = scriptProblem(script);
  if (missing) {
    // One line, before anything is forked (a usage error, without the --help pointer).
    process.stderr.write(`primacy start: ${script}: ${missing.problem}\n`);
    return EXIT.usage;
  }
  const name = values.name ?? defaultManagerName(script);
  const stateDir = usableStateDir({ stateDir: values['state-dir'] });
  const lock = values.lock === undefined ? undefined : await lockFromSpec(values.lock);
  const ackOn = values.ack as 'listening' | 'ready' | undefined;
  const manager = new WorkerManager({ script, args, workers, name, stateDir, lock, ackOn });
  // One prefix per line: the manager's errors (start failed...) carry theirs already.
  const log = (text: string) => process.stderr.write(`${prefixed('manager', text)}\n`);
  manager.on('warning', (message: string) => process.stderr.write(`${message}\n`));
  manager.on('restarting', (w, delay) => log(`${w.name} exited; restarting in ${delay} ms`));
  manager.on('failed', (w, reason) => log(`${w.name} FAILED: ${reason}`));
  manager.on('hung', (w, silent) => log(`${w.name} (pid ${w.pid}) sent no heartbeat for ${Math.round(silent)} ms: killed`));

  let inspector: Inspector | null = null;
  let signals = 0;
  const done = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log(`second ${signal}: killing every worker now`);
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        resolve(130);
        return;
      }
      log(`${signal}: stopping gracefully (send it again to force)`);
      void manager.stop().then(() => resolve(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Stopped another way (a worker's terminate(), the inspector's shutdown): exit too.
    manager.once('stopped', () => resolve(0));
  });
  try {
    await manager.start();
  } catch (error) {
    log((error as Error).message);
    await lock?.close?.();
    return 1;
  }
  if (values.inspector) {
    const socket = inspectorSocket(stateDir, name);
    inspector = new Inspector(manager, { socket }, () => process.kill(process.pid, 'SIGTERM'));
    await inspector.listen();
    log(`inspector at ${socket}`);
  }
  const ready = manager.workers();
  log(`${ready.length} ${ready.length === 1 ? 'worker' : 'workers'} ready: ${ready.map((w) => `${w.name} pid ${w.pid}`).join(', ')}`);
  if (watch) startWatching(manager, watch, log);
  const code = await done;
  await inspector?.close();
  await lock?.close?.();
  return code;
}
