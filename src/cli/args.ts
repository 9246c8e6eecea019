import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { MAX_DELAY } from '../_internal/checks.js';
import { privateRoot } from '../_internal/private-dir.js';
import { PrimacyUsageError } from '../errors.js';

/** `lock-status` exit codes (documented in `--help`). */
export const EXIT = Object.freeze({
  /** Held by a live holder; `--env`: primary; `--release`: released. */
  held: 0,
  /** Free or never taken; `--env`: secondary; `--release`: nothing released. */
  free: 1,
  /** Stale: the holder is dead or its lease expired. */
  stale: 2,
  /** I/O or another unexpected error. */
  error: 3,
  /** Bad usage (sysexits EX_USAGE). */
  usage: 64,
});

/** Bad command-line usage: the message names the problem; the CLI adds "see ... --help". */

export type Target =
  | { kind: 'name'; name: string | undefined; dir: string | undefined }
  | { kind: 'path'; path: string }
  | { kind: 'redis'; name: string | undefined; url: string }
  | { kind: 'redlock'; name: string | undefined; urls: string[] }
  | { kind: ServerKind; name: string | undefined; url: string };

/** Backends lock-status reads through their adapter's `inspect`, with one URL (etcd: a comma-separated list). */
export type ServerKind = 'postgres' | 'mysql' | 'etcd';

/** What each server option accepts: its URL schemes, for the usage error. */
const SERVER_URLS: Record<ServerKind, { pattern: RegExp; expected: string }> = {
  postgres: { pattern: /^postgres(ql)?:\/\//, expected: 'a postgres:// or postgresql:// URL' },
  mysql: { pattern: /^(mysql|mariadb):\/\//, expected: 'a mysql:// or mariadb:// URL' },
  etcd: {
    pattern: /^https?:\/\/[^/\s,]+\/?(,https?:\/\/[^/\s,]+\/?)*$/,
    expected: 'comma-separated http:// or https:// endpoints (host:port, no path)',
  },
};

export interface StatusArgs {
  readonly help: boolean;
  readonly version: boolean;
  readonly json: boolean;
  readonly target: Target;
  /** Poll interval in ms when watching, else null. */
  readonly watch: number | null;
  readonly release: boolean;
  readonly yes: boolean;
  /** `--env`: which variables decide, else null. */
  readonly env: { variable?: string; instanceVariable?: string; primaryValue?: string } | null;
}

const OPTIONS = {
  dir: { type: 'string' },
  path: { type: 'string' },
  redis: { type: 'string' },
  redlock: { type: 'string' },
  postgres: { type: 'string' },
  mysql: { type: 'string' },
  etcd: { type: 'string' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  release: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  env: { type: 'boolean' },
  var: { type: 'string' },
  'instance-var': { type: 'string' },
  'primary-value': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export const DEFAULT_INTERVAL = 1000;

/**
 * How long one look at a Redis or Redlock lock may take, in ms: connecting, then reading. A paused
 * or hung server accepts the connection and never answers, and ioredis would wait for it forever.
 */
export const LOOK_TIMEOUT = 3000;

/** Parses `lock-status` arguments; throws `PrimacyUsageError` naming the problem. */
export function parseStatusArgs(argv: readonly string[]): StatusArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new PrimacyUsageError(friendlyParseError(error, argv));
  }
  const { values: v, positionals } = parsed;
  const help = v.help === true;
  const version = v.version === true;
  if (positionals.length > 1)
    throw new PrimacyUsageError(`expected at most one lock NAME, got ${positionals.length}: ${positionals.join(' ')}`);
  const name = positionals[0];
  if (name === '') throw new PrimacyUsageError('the lock NAME is empty');
  for (const option of ['dir', 'path', 'var', 'instance-var'] as const) {
    if (v[option] === '') throw new PrimacyUsageError(`--${option} is empty`);
  }

  let watch: number | null = null;
  if (v.interval !== undefined && !v.watch) throw new PrimacyUsageError('--interval only applies with --watch');
  if (v.watch) watch = v.interval === undefined ? DEFAULT_INTERVAL : parseInterval(v.interval);
  if (v.yes && !v.release) throw new PrimacyUsageError('--yes only applies with --release');
  if (v.release && watch !== null) throw new PrimacyUsageError('--release cannot be combined with --watch');

  let env: StatusArgs['env'] = null;
  if (v.env) {
    if (name !== undefined || v.dir !== undefined || v.path !== undefined) {
      throw new PrimacyUsageError('--env reads the environment, not a file lock: drop NAME, --dir and --path');
    }
    if (v.release || watch !== null) throw new PrimacyUsageError('--env cannot be combined with --release or --watch');
    if (v.var !== undefined && v['instance-var'] !== undefined)
      throw new PrimacyUsageError('give either --var or --instance-var, not both');
    if (v['primary-value'] !== undefined && v['instance-var'] === undefined) {
      throw new PrimacyUsageError('--primary-value only applies with --instance-var');
    }
    env = {};
    if (v.var !== undefined) env.variable = v.var;
    if (v['instance-var'] !== undefined) env.instanceVariable = v['instance-var'];
    if (v['primary-value'] !== undefined) env.primaryValue = v['primary-value'];
  } else {
    for (const option of ['var', 'instance-var', 'primary-value'] as const) {
      if (v[option] !== undefined) throw new PrimacyUsageError(`--${option} only applies with --env`);
    }
  }

  let target: Target;
  const servers = (['redis', 'redlock', 'postgres', 'mysql', 'etcd'] as const).filter((kind) => v[kind] !== undefined);
  if (servers.length > 1) throw new PrimacyUsageError(`give one backend, not ${servers.map((kind) => `--${kind}`).join(' and ')}`);
  const server = (['postgres', 'mysql', 'etcd'] as const).find((kind) => v[kind] !== undefined);
  if (server !== undefined) {
    const url = v[server] as string;
    if (v.path !== undefined || v.dir !== undefined)
      throw new PrimacyUsageError(`--${server} names a ${server} lock: drop --path and --dir`);
    const { pattern, expected } = SERVER_URLS[server];
    if (!pattern.test(url)) throw new PrimacyUsageError(`--${server} needs ${expected}, got "${url}"`);
    if (v.release === true)
      throw new PrimacyUsageError(`--release is not available for ${server} locks (a holder's session or lease ends it)`);
    target = { kind: server, name, url };
  } else if (v.redlock !== undefined) {
    if (v.path !== undefined || v.dir !== undefined || v.redis !== undefined)
      throw new PrimacyUsageError('--redlock names a Redlock lock: drop --path, --dir and --redis');
    const urls = v.redlock.split(',');
    const bad = urls.find((url) => !/^rediss?:\/\//.test(url));
    if (bad !== undefined) throw new PrimacyUsageError(`--redlock needs comma-separated redis:// URLs, got "${bad}"`);
    if (v.release === true) throw new PrimacyUsageError('--release is not available for Redlock locks yet (it expires by TTL)');
    target = { kind: 'redlock', name, urls };
  } else if (v.redis !== undefined) {
    if (v.path !== undefined || v.dir !== undefined) throw new PrimacyUsageError('--redis names a Redis lock: drop --path and --dir');
    if (!/^rediss?:\/\//.test(v.redis)) throw new PrimacyUsageError(`--redis needs a redis:// or rediss:// URL, got "${v.redis}"`);
    if (v.release === true) throw new PrimacyUsageError('--release is not available for Redis locks yet (it expires by TTL)');
    target = { kind: 'redis', name, url: v.redis };
  } else if (v.path !== undefined) {
    if (name !== undefined) throw new PrimacyUsageError(`give either a lock NAME ("${name}") or --path, not both`);
    if (v.dir !== undefined) throw new PrimacyUsageError('give either --dir or --path, not both (--path is the lock directory itself)');
    target = { kind: 'path', path: v.path };
  } else {
    target = { kind: 'name', name, dir: v.dir };
  }
  return { help, version, json: v.json === true, target, watch, release: v.release === true, yes: v.yes === true, env };
}

function parseInterval(text: string): number {
  const ms = Number(text);
  if (text.trim() === '' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_DELAY) {
    throw new PrimacyUsageError(`--interval must be a positive number of milliseconds, got "${text}"`);
  }
  return ms;
}

/** node:util's parseArgs messages are long and generic; say which option is wrong, in one line. */
function friendlyParseError(error: unknown, argv: readonly string[]): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(?:-\w, )?(--?[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (message.includes('does not take an argument')) return `${option} takes no value`;
    if (message.includes('ambiguous')) {
      // `--interval -5`: parseArgs refuses a value that starts with a dash. Name that value.
      const index = argv.indexOf(option);
      const next = index >= 0 ? argv[index + 1] : undefined;
      if (option === '--interval' && next !== undefined && Number.isFinite(Number(next))) {
        return `--interval must be a positive number of milliseconds, got "${next}"`;
      }
      return `${option} needs a value, got the option "${next}" (write ${option}=${next ?? 'VALUE'} if that is the value)`;
    }
    return `${option} needs a value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument: ${message}`;
  return message.split('\n')[0] ?? message;
}

export function helpText(prog: string, defaultName: string): string {
  return `Usage:
  ${prog} [NAME] [--dir DIR] [options]    a file lock, by name
  ${prog} --path LOCKDIR [options]        a file lock, by its directory
  ${prog} --env [--var NAME | --instance-var VAR [--primary-value V]]

Shows who holds a primacy lock: holder id, pid, host, whether it is alive, age, TTL left and
fencing token, with a verdict and an exit code scripts can test.

Arguments:
  NAME                 lock name (default: the name of the package.json nearest to the working
                       directory, here "${defaultName}"; an app's own default is the package.json
                       nearest to its entry script, which this command cannot know: run it from
                       the app's directory, or give NAME)

Options:
  --dir DIR            directory holding the locks (default: this user's private directory, here
                       ${privateRoot()}; another user's default locks are in theirs:
                       $XDG_RUNTIME_DIR/primacy, else ${tmpdir()}/primacy-<uid>)
  --path LOCKDIR       the lock directory itself (primacy-<name>.lock); not with NAME or --dir
  --redis URL          a Redis lock (primacy/redis) on the server at URL, e.g. redis://127.0.0.1:6379
  --redlock URL,URL,.. a Redlock quorum lock (primacy/redlock) on these independent nodes
  --postgres URL       a Postgres lock (primacy/postgres, default namespace and table), e.g.
                       postgres://user@127.0.0.1:5432/app
  --mysql URL          a MySQL/MariaDB lock (primacy/mysql, default table), e.g. mysql://root@127.0.0.1/app
  --etcd URL,URL,..    an etcd lock (primacy/etcd, default prefix) on these endpoints, e.g. http://127.0.0.1:2379
  --json               print one JSON object: {name, location, state, verdict, record, now};
                       an error too, on stdout: {error, code, name, location}
  --watch              re-render until Ctrl-C or SIGTERM (with --json: one line per change)
  --interval MS        how often --watch looks, in milliseconds (default ${DEFAULT_INTERVAL})
  --release            force-release a held lock (file locks only); asks first. A live holder
                       steps down at its next renew; meanwhile the next holder's higher token
                       fences it off
  -y, --yes            release without asking (required when stdin is not a terminal)
  --env                what this environment decides, instead of a file lock
  --var NAME           the boolean variable --env reads (default PRIMARY_WORKER)
  --instance-var VAR   an instance-number variable instead, e.g. NODE_APP_INSTANCE (PM2)
  --primary-value V    the instance value that is primary (default 0)
  -h, --help           show this help
  -v, --version        print the version

Exit codes:
  0   held by a live holder  (--env: this process is primary; --release: released)
  1   free or never taken    (--env: secondary; --release: nothing released)
  2   stale: the holder is dead or its lease expired
  3   error: I/O, a --dir or --path parent that is missing or unreadable, an unreachable server
      or one that gives no answer within ${LOOK_TIMEOUT / 1000} s (--redlock: a majority of nodes)
  64  bad usage: unknown option, missing or invalid value, unset/invalid variable for --env
  --watch exits on Ctrl-C/SIGTERM with the code of the last status it showed.
`;
}
