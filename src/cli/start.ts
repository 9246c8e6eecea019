/**
 * `primacy start app.js --workers 4 [--inspector]`, or `primacy start` with a config file
 * (primacy.config.{js,mjs,cjs,json}, or `--config FILE`) naming several apps: runs them under the
 * worker manager. The first SIGTERM/SIGINT stops it gracefully; a second one kills every process
 * at once.
 */
import { parseArgs } from 'node:util';
import type { LockAdapter } from '../adapter.js';
import { PrimacyConfigError, PrimacyUsageError } from '../errors.js';
import { planFromConfig, type StartPlan } from '../manager/config-apps.js';
import { findConfigFile, readConfigFile } from '../manager/config-file.js';
import { Inspector } from '../manager/inspector.js';
import { WorkerManager } from '../manager/manager.js';
import { defaultManagerName, inspectorSocket, type ManagerOptions, usableStateDir } from '../manager/options.js';
import type { OutputFormat } from '../manager/output.js';
import { killTree } from '../manager/process-tree.js';
import { scriptProblem } from '../manager/script-check.js';
import { EXIT } from './args.js';
import { LOCK_SPECS, lockFromSpec } from './manager-lock.js';
import { runSingleProcess } from './single-process.js';
import { applyManagerFlags, MANAGER_FLAG_OPTIONS, managerFlagsHelp, nameTheFlag } from './start-flags.js';
import { startLog } from './start-log.js';
import { startWatching, takeWatchPaths, WATCH_HELP, WATCH_OPTIONS, watchSettings } from './watch-flags.js';

export const START_HELP = `Usage: primacy start <app.js> [options] [-- app arguments]
       primacy start [--config FILE] [options]

With no app, the apps come from primacy.config.js, .mjs, .cjs or .json in the working directory
(or --config FILE): a server app and named processes (any command), each with its instances,
env, cwd, args, restart policy, kill timeout, memory limit and health check. Flags override it.

Options:
  --config FILE        the config file to run (default: primacy.config.* here)
  --workers N          server worker processes (default: the number of CPUs)
  --name NAME          names this manager's claim and socket (default: the app's package.json
                       name); a second manager with the same name refuses to start
  --state-dir DIR      where the claim and the socket live (default: the private per-user
                       directory, $XDG_RUNTIME_DIR/primacy/managers or <tmp>/primacy-<uid>/managers)
  --lock SPEC          the lock the manager holds for its workers, shared with every other
                       process of the app: ${LOCK_SPECS} (default file)
  --ack listening|ready  ack when the worker's server listens (default) or calls worker.ready()
  --inspector          open the control socket (mode 0600) for primacy inspect
  --log-format FORMAT  how the workers' stdout and stderr reach this process's own:
                         prefix   each line as worker-0[4242] | <line> (default)
                         json     each line as {"time","name","pid","stream","msg"}, and the
                                  manager's own lines too (name "manager")
                         inherit  as the workers write them, unmarked
  --single-process     run the app in this process, with no manager (development, debugging):
                       worker.mode is 'single-process', the app is worker-0 of 1; the other
                       options do not apply (--workers 1 aside)
${WATCH_HELP}
Supervision (TIME: ms, or 500ms, 15s, 2m; SIZE: bytes, or 512M, 1G):
${managerFlagsHelp()}
`;

const OPTIONS = {
  config: { type: 'string' },
  workers: { type: 'string' },
  name: { type: 'string' },
  'state-dir': { type: 'string' },
  lock: { type: 'string' },
  ack: { type: 'string' },
  inspector: { type: 'boolean' },
  ...WATCH_OPTIONS,
  'log-format': { type: 'string' },
  'single-process': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...MANAGER_FLAG_OPTIONS,
} as const;

const LOG_FORMATS: readonly OutputFormat[] = ['prefix', 'json', 'inherit'];

type StartValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export async function runStart(argv: readonly string[]): Promise<number> {
  const watchArgs = takeWatchPaths(argv);
  const { values, positionals } = parseArgs({ args: watchArgs.argv, allowPositionals: true, strict: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(START_HELP);
    return 0;
  }
  if (values['single-process']) return startSingleProcess(values, positionals);
  const plan = await startPlan(values, positionals);
  if (typeof plan === 'number') return plan;
  const watch = watchSettings(values, watchArgs.paths, plan.origin);
  const output = (values['log-format'] ?? 'prefix') as OutputFormat;
  if (!LOG_FORMATS.includes(output)) {
    throw new PrimacyUsageError(`--log-format must be prefix, json or inherit, got "${values['log-format']}"`);
  }
  const name = values.name ?? plan.manager.name ?? defaultManagerName(plan.manager.script ?? process.cwd());
  const stateDir = usableStateDir({ stateDir: values['state-dir'] ?? plan.manager.stateDir });
  const lock = await managerLock(values.lock ?? plan.lock);
  const ackOn = values.ack as 'listening' | 'ready' | undefined;
  let manager: WorkerManager;
  try {
    manager = new WorkerManager({
      ...applyManagerFlags(plan.manager, values),
      name,
      stateDir,
      lock,
      output,
      ...(ackOn ? { ackOn } : {}),
    } as ManagerOptions);
  } catch (error) {
    await lock?.close?.();
    throw nameTheFlag(error, values);
  }
  const log = startLog(manager, output);

  let inspector: Inspector | null = null;
  let signals = 0;
  const done = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log(`second ${signal}: killing every process now`);
        for (const worker of manager.workers()) if (worker.pid !== null) killTree(worker.pid);
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
  if (values.inspector || plan.inspector) {
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

/** What to run: the app on the command line, or the config file's apps; a number is the exit code of a refusal. */
async function startPlan(values: StartValues, positionals: string[]): Promise<StartPlan | number> {
  const [script, ...args] = positionals;
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new PrimacyUsageError(`--workers must be a whole number >= 1, got "${values.workers}"`);
  }
  if (values.ack !== undefined && values.ack !== 'listening' && values.ack !== 'ready') {
    throw new PrimacyUsageError(`--ack must be listening or ready, got "${values.ack}"`);
  }
  if (script === undefined) {
    const file = values.config ?? findConfigFile(process.cwd());
    if (file === null) {
      throw new PrimacyUsageError(
        `start needs the app to run (primacy start server.js --workers 4) or a primacy.config.{js,mjs,cjs,json} in ${process.cwd()} (or --config FILE)`,
      );
    }
    const config = await readConfigFile(file);
    const plan = asUsageError(() => planFromConfig(config, file));
    if (workers !== undefined) {
      if (plan.manager.script === undefined) throw new PrimacyUsageError(`--workers: ${file} has no server app to give workers to`);
      plan.manager.workers = workers;
    }
    return plan;
  }
  if (values.config !== undefined) throw new PrimacyUsageError(`give either an app (${script}) or --config, not both`);
  const missing = scriptProblem(script);
  if (missing) {
    // One line, before anything is forked (a usage error, without the --help pointer).
    process.stderr.write(`primacy start: ${script}: ${missing.problem}\n`);
    return EXIT.usage;
  }
  return { manager: { script, args, ...(workers === undefined ? {} : { workers }) }, origin: script, lock: undefined, inspector: false };
}

/** `--single-process`: one app, run in this process (no config file: it names several apps). */
function startSingleProcess(values: StartValues, [script, ...args]: string[]): Promise<number> | number {
  if (script === undefined)
    throw new PrimacyUsageError('--single-process needs the app to run, e.g. primacy start --single-process server.js');
  const missing = scriptProblem(script);
  if (missing) {
    process.stderr.write(`primacy start: ${script}: ${missing.problem}\n`);
    return EXIT.usage;
  }
  return runSingleProcess(script, args, values);
}

/** A config file's bad value is bad usage (exit 64), like a bad flag: the message names file, app and key. */
function asUsageError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof PrimacyConfigError ? new PrimacyUsageError(error.message) : error;
  }
}

/** A `--lock` spec or a config's lock (a spec, or an adapter a JS config built). */
async function managerLock(lock: string | LockAdapter | undefined): Promise<LockAdapter | undefined> {
  return typeof lock === 'string' ? lockFromSpec(lock) : lock;
}
