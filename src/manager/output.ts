/**
 * What becomes of a managed process's stdout and stderr. `inherit`: they are the manager's own, as
 * written. `prefix` and `json`: the manager reads them through pipes and writes each line again on
 * its own stream of the same name, saying which process wrote it: `worker-0[4242] | listening`, or
 * `{"time":"...","name":"worker-0","pid":4242,"stream":"stdout","msg":"listening"}`.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** How the manager passes its processes' output on (see `ManagerOptions.output`). */
export type OutputFormat = 'inherit' | 'prefix' | 'json';

/** Which process a line came from: its slot's name and the pid of the process that wrote it. */
export interface OutputSource {
  readonly name: string;
  readonly pid: number;
}

/** Where relayed lines go, by the stream they came from. A `false` from `write` pauses the source until `drain`. */
export interface OutputSinks {
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
}

export type OutputSink = Pick<NodeJS.WritableStream, 'write' | 'once' | 'on'>;

export type StreamName = 'stdout' | 'stderr';

/**
 * Longest line kept whole, in UTF-16 units: a process that writes without newlines (a progress bar,
 * a binary dump) would otherwise make the manager hold all of it. A longer line goes out in pieces,
 * each on its own line.
 */
export const MAX_LINE = 64 * 1024;

/**
 * After a process has exited, how long its pipes may stay open (a grandchild that inherited them
 * still writing) before they stop keeping the manager alive: it relays them while it runs anyway.
 */
const AFTER_EXIT_GRACE = 1000;

/** The stdio a managed process is started with: inherited, or stdout and stderr piped to the manager (stdin stays the manager's). */
export function childStdio(format: OutputFormat): Array<'inherit' | 'pipe' | 'ipc'> {
  return format === 'inherit' ? ['inherit', 'inherit', 'inherit', 'ipc'] : ['inherit', 'pipe', 'pipe', 'ipc'];
}

/** One line as `format` writes it, newline included. */
export function formatLine(format: Exclude<OutputFormat, 'inherit'>, source: OutputSource, stream: StreamName, line: string): string {
  if (format === 'prefix') return `${source.name}[${source.pid}] | ${line}\n`;
  // A line that is itself JSON stays a string: merging objects would let a process forge name or pid.
  return `${JSON.stringify({ time: new Date().toISOString(), name: source.name, pid: source.pid, stream, msg: line })}\n`;
}

/**
 * Relays `child`'s piped stdout and stderr line by line to `sinks` (the manager's own streams by
 * default), each line formatted with `source`. Nothing to do for a child started with inherited
 * stdio. A last line without a newline goes out when its stream ends.
 */
export function relayOutput(
  child: ChildProcess,
  source: OutputSource,
  format: Exclude<OutputFormat, 'inherit'>,
  sinks: OutputSinks = { stdout: process.stdout, stderr: process.stderr },
): void {
  const streams = (['stdout', 'stderr'] as const).flatMap((name) => {
    const stream = child[name];
    if (!stream) return [];
    watchSink(sinks[name]);
    relayLines(stream, sinks[name], (line) => formatLine(format, source, name, line));
    return [stream];
  });
  child.once('exit', () => {
    const grace = setTimeout(() => {
      for (const stream of streams) (stream as Readable & { unref?: () => void }).unref?.();
    }, AFTER_EXIT_GRACE);
    grace.unref();
  });
}

function relayLines(stream: Readable, sink: OutputSink, format: (line: string) => string): void {
  // Decodes across chunks: a character split between two reads is not mangled.
  stream.setEncoding('utf8');
  let partial = '';
  const emit = (line: string) => {
    if (broken.has(sink)) return;
    let accepted = true;
    try {
      accepted = sink.write(format(line.endsWith('\r') ? line.slice(0, -1) : line));
    } catch {
      return;
    }
    // Backpressure: stop reading the child (its writes block on the full pipe) until the sink drains.
    if (!accepted && !stream.isPaused()) {
      stream.pause();
      whenDrained(sink, () => stream.resume());
    }
  };
  stream.on('data', (chunk: string) => {
    let text = partial + chunk;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      emitLong(text.slice(0, newline), emit);
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    partial = '';
    while (text.length > MAX_LINE) {
      const cut = pieceEnd(text);
      emit(text.slice(0, cut));
      text = text.slice(cut);
    }
    partial = text;
  });
  stream.on('end', () => {
    if (partial !== '') emitLong(partial, emit);
    partial = '';
  });
  // A read error on a child's pipe (it died mid-write) ends its output, nothing more.
  stream.on('error', () => undefined);
}

function emitLong(line: string, emit: (line: string) => void): void {
  let rest = line;
  while (rest.length > MAX_LINE) {
    const cut = pieceEnd(rest);
    emit(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  emit(rest);
}

/** Where to cut a too-long line: at MAX_LINE, but never between the two halves of a surrogate pair. */
function pieceEnd(text: string): number {
  const code = text.charCodeAt(MAX_LINE - 1);
  return code >= 0xd800 && code <= 0xdbff ? MAX_LINE - 1 : MAX_LINE;
}

/** Sinks that failed (the reader of the manager's stdout went away: EPIPE): their lines are dropped from then on. */
const broken = new WeakSet<OutputSink>();
const watched = new WeakSet<OutputSink>();

/**
 * A write error on the manager's own stdout is emitted as an 'error' event, which unheard would
 * crash the manager and so every worker: a lost log line must not. Its paused sources resume (to
 * drop their lines), so no process blocks on a full pipe.
 */
function watchSink(sink: OutputSink): void {
  if (watched.has(sink)) return;
  watched.add(sink);
  sink.on('error', () => {
    broken.add(sink);
    const resumes = waiting.get(sink) ?? [];
    waiting.delete(sink);
    for (const go of resumes) go();
  });
}

/** Sources paused on a full sink, resumed together on its one `drain` (one listener per sink, however many workers). */
const waiting = new WeakMap<OutputSink, Array<() => void>>();

function whenDrained(sink: OutputSink, resume: () => void): void {
  const queue = waiting.get(sink);
  if (queue) {
    queue.push(resume);
    return;
  }
  waiting.set(sink, [resume]);
  sink.once('drain', () => {
    const resumes = waiting.get(sink) ?? [];
    waiting.delete(sink);
    for (const go of resumes) go();
  });
}
