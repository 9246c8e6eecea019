/**
 * The manager's control plane, off by default. A unix socket with mode 0600 (only the manager's
 * user may connect), or TCP bound to 127.0.0.1 with a token compared in constant time; one JSON
 * request per line, answered from an explicit command registry, nothing else.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { PrimacyConfigError } from '../errors.js';
import type { WorkerManager } from './manager.js';

export type InspectorAddress = { socket: string; token?: string } | { port: number; token: string };

export interface InspectorRequest {
  command: string;
  args?: string[];
  token?: string;
}

/** `result` on a failure: a custom command's outcome on each worker, when some of them failed it. */
export type InspectorResponse = { ok: true; result: unknown } | { ok: false; error: string; result?: unknown };

/** A control command as `primacy inspect --help` shows it, and what its arguments must be. */
interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  /** The problem with these arguments, or null if they will do. */
  readonly check: (args: readonly string[]) => string | null;
}

const noArgs =
  (command: string) =>
  (args: readonly string[]): string | null =>
    args.length === 0 ? null : `${command} takes no arguments, got: ${args.join(' ')}`;

const count = (text: string | undefined): boolean => text !== undefined && /^\d+$/.test(text) && Number(text) >= 1;

/**
 * The commands the inspector (and workers, over IPC) may run, with their usage: `controlCommands`
 * implements exactly these (its type says so), and `primacy inspect` checks its arguments against
 * them and prints its help from them, before it connects to any manager.
 */
export const CONTROL_COMMANDS = {
  status: { usage: 'status', summary: 'the workers: name, state, pid, uptime, restarts, reloads, memory, role', check: noArgs('status') },
  reload: { usage: 'reload', summary: 'zero-downtime rolling restart of every worker, one at a time', check: noArgs('reload') },
  restart: {
    usage: 'restart NAME...',
    summary: 'zero-downtime restart of these workers (names as status shows them)',
    check: (args) => (args.length === 0 ? 'restart needs worker names (see status)' : null),
  },
  scale: {
    usage: 'scale N',
    summary: 'grow or shrink to N server workers (N >= 1)',
    check: (args) =>
      args.length === 1 && count(args[0]) ? null : `scale needs one worker count >= 1, got ${JSON.stringify(args.join(' ') || null)}`,
  },
  manage: {
    usage: 'manage NAME MODULE [N]',
    summary: 'run MODULE as N (default 1) supervised custom processes named NAME',
    check: ([name, module, n, ...rest]) => {
      if (!name || !module) return 'manage needs a name and a module, e.g. manage mailer ./mailer.js 1';
      if (n !== undefined && !count(n)) return `manage needs a process count >= 1, got ${JSON.stringify(n)}`;
      return rest.length === 0 ? null : `manage takes NAME MODULE [N], got extra: ${rest.join(' ')}`;
    },
  },
  shutdown: { usage: 'shutdown', summary: 'stop every worker gracefully, then the manager', check: noArgs('shutdown') },
  commands: {
    usage: 'commands',
    summary: 'the custom commands the app registered (worker.command): name, summary, workers',
    check: noArgs('commands'),
  },
} as const satisfies Record<string, CommandSpec>;

export type ControlCommand = keyof typeof CONTROL_COMMANDS;

export function isControlCommand(command: string): command is ControlCommand {
  return Object.hasOwn(CONTROL_COMMANDS, command);
}

/** Why `command args` is not a valid control request, or null if it is. */
export function controlUsageProblem(command: string, args: readonly string[]): string | null {
  if (!isControlCommand(command)) {
    return `unknown command ${JSON.stringify(command)} (known: ${Object.keys(CONTROL_COMMANDS).join(', ')})`;
  }
  return (CONTROL_COMMANDS[command] as CommandSpec).check(args);
}

/** Runs the control commands: an explicit registry, nothing else reaches the manager. */
export function controlCommands(manager: WorkerManager, shutdown: () => void): Record<string, (args: string[]) => Promise<unknown>> {
  const run: Record<ControlCommand, (args: string[]) => Promise<unknown>> = {
    status: async () => manager.workers(),
    reload: async () => {
      await manager.reload();
      return manager.workers();
    },
    restart: async (names) => {
      for (const name of names) await manager.restart(name);
      return manager.workers();
    },
    scale: async ([n]) => {
      await manager.scale(Number(n));
      return manager.workers();
    },
    manage: async ([name, module, n]) => {
      await manager.manage(name as string, module as string, { workers: n === undefined ? 1 : Number(n) });
      return manager.workers();
    },
    shutdown: async () => {
      setImmediate(shutdown);
      return 'shutting down';
    },
    commands: async () => manager.commands.list(),
  };
  return Object.fromEntries(
    Object.entries(run).map(([command, execute]) => [
      command,
      async (args: string[]) => {
        const problem = controlUsageProblem(command, args);
        if (problem !== null) throw new Error(problem);
        return execute(args);
      },
    ]),
  );
}

export class Inspector {
  #server: Server | null = null;

  constructor(
    private readonly manager: WorkerManager,
    private readonly address: InspectorAddress,
    private readonly shutdown: () => void,
  ) {
    if ('port' in address && (typeof address.token !== 'string' || address.token.length < 16)) {
      throw new PrimacyConfigError('token', address.token, 'a string of at least 16 characters (TCP needs a token)', 'inspector');
    }
  }

  async listen(): Promise<void> {
    const commands = controlCommands(this.manager, this.shutdown);
    if ('socket' in this.address) await removeStaleSocket(this.address.socket);
    const server = createServer((socket) => this.#serve(socket, commands));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if ('socket' in this.address) server.listen(this.address.socket, () => resolve());
      else server.listen(this.address.port, '127.0.0.1', () => resolve());
    });
    if ('socket' in this.address) chmodSync(this.address.socket, 0o600);
    server.unref();
    this.#server = server;
  }

  /** The TCP port it listens on (useful with port 0), or null for a unix socket. */
  get port(): number | null {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? address.port : null;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => (this.#server ? this.#server.close(resolve) : resolve(undefined)));
    this.#server = null;
  }

  #serve(socket: Socket, commands: Record<string, (args: string[]) => Promise<unknown>>): void {
    socket.on('error', () => undefined);
    const lines = createInterface({ input: socket });
    lines.on('error', () => undefined);
    lines.on('line', async (line) => {
      const respond = (response: InspectorResponse) => socket.write(`${JSON.stringify(response)}\n`);
      let request: InspectorRequest;
      try {
        request = JSON.parse(line) as InspectorRequest;
      } catch {
        return respond({ ok: false, error: 'not a JSON request' });
      }
      if (!this.#authorized(request.token)) return respond({ ok: false, error: 'unauthorized: wrong or missing token' });
      // The built-ins first: a custom command can never shadow one (command-names.ts).
      const custom = this.manager.commands;
      const command = Object.hasOwn(commands, request.command)
        ? commands[request.command]
        : custom.has(request.command)
          ? (args: string[]) => custom.run(request.command, args)
          : undefined;
      if (!command) return respond({ ok: false, error: unknownCommand(request.command, Object.keys(commands), custom.list()) });
      try {
        respond({ ok: true, result: await command(Array.isArray(request.args) ? request.args.map(String) : []) });
      } catch (error) {
        respond({ ok: false, error: (error as Error).message, result: (error as { result?: unknown }).result });
      }
    });
  }

  #authorized(token: unknown): boolean {
    const expected = this.address.token;
    if (expected === undefined) return true; // a 0600 unix socket: the file mode is the guard
    if (typeof token !== 'string') return false;
    // Hash both sides so the comparison is constant-time whatever the lengths.
    const digest = (s: string) => createHash('sha256').update(s).digest();
    return timingSafeEqual(digest(token), digest(expected));
  }
}

/** Names what the manager knows: the built-ins, then the custom commands live processes registered. */
function unknownCommand(command: unknown, builtIns: string[], custom: { name: string }[]): string {
  const registered = custom.length > 0 ? `custom: ${custom.map((c) => c.name).join(', ')}` : 'no custom command is registered';
  return `unknown command ${JSON.stringify(command)} (known: ${builtIns.join(', ')}); ${registered}`;
}

/**
 * Removes the socket file a crashed manager left at `path`, and nothing else: a socket some process
 * still answers on is never removed (that would silently take over a live manager's control
 * plane), nor is anything that is not a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (stats === null) return;
  if (!stats.isSocket())
    throw new PrimacyConfigError('socket', path, 'a free path (it holds something that is not a socket: not removed)', 'inspector');
  const answers = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answers) throw new PrimacyConfigError('socket', path, 'a free path (a running process answers on it: not removed)', 'inspector');
  await unlink(path).catch(() => undefined);
}

/** Sends one request to an inspector and resolves with its response. */
export function askInspector(
  address: { socket: string } | { port: number },
  request: InspectorRequest,
  timeout = 30_000,
): Promise<InspectorResponse> {
  return new Promise((resolve, reject) => {
    const socket = 'socket' in address ? createConnection(address.socket) : createConnection(address.port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from the inspector within ${timeout} ms`));
    }, timeout);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    const lines = createInterface({ input: socket });
    lines.on('error', () => undefined); // readline re-emits the socket's error, handled above
    lines.once('line', (line) => {
      clearTimeout(timer);
      socket.end();
      resolve(JSON.parse(line) as InspectorResponse);
    });
  });
}
