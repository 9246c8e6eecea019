/**
 * The output relay (`relayOutput`, behind `ManagerOptions.output` and `primacy start --log-format`):
 * real child processes' stdout and stderr, re-emitted line by line with their name and pid.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { isRunning, signal } from '../../harness/pids.js';
import { resolveManagerOptions } from '../../src/manager/options.js';
import { MAX_LINE, type OutputFormat, relayOutput } from '../../src/manager/output.js';
import { until } from '../helpers/until.js';

/** A sink that keeps what it is given; each write takes `delay` ms when set (a slow terminal or pipe). */
class Sink extends Writable {
  text = '';
  lines = 0;
  constructor(
    private readonly delay = 0,
    private readonly onLine: (line: string) => void = () => {},
  ) {
    super({ decodeStrings: false });
  }
  override _write(chunk: string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk;
    this.lines++;
    this.onLine(chunk);
    if (this.delay > 0) setTimeout(done, this.delay);
    else done();
  }
}

/** Runs `script` in a child node whose output is relayed to two sinks; resolves once both pipes closed. */
async function relayed(script: string, format: Exclude<OutputFormat, 'inherit'>, sinks = { stdout: new Sink(), stderr: new Sink() }) {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  relayOutput(child, { name: 'unit', pid: child.pid as number }, format, sinks);
  await new Promise((resolve) => child.on('close', resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return { pid: child.pid as number, ...sinks };
}

describe('relayOutput', () => {
  const started: Child[] = [];
  const strays: number[] = [];
  afterEach(async () => {
    await killAll(started);
    for (const pid of strays.splice(0)) signal(pid, 'SIGKILL');
  });

  it('prefixes each line with name and pid: several lines per write, CR LF, UTF-8 split across writes, a last line without newline; stderr apart', async () => {
    const { pid, stdout, stderr } = await relayed(
      `process.stdout.write('one\\ntwo\\r\\nthr');
       setTimeout(() => { process.stdout.write('ee\\n'); process.stdout.write(Buffer.from([0xe2, 0x82])); }, 100);
       setTimeout(() => { process.stdout.write(Buffer.from([0xac, 0x0a])); process.stderr.write('on stderr\\n'); process.stdout.write('last, no newline'); }, 300);`,
      'prefix',
    );
    const p = `unit[${pid}] | `;
    expect(stdout.text).toBe(`${p}one\n${p}two\n${p}three\n${p}€\n${p}last, no newline\n`);
    expect(stderr.text).toBe(`${p}on stderr\n`);
  });

  it('json: one object per line with time, name, pid, stream and msg; a JSON line stays a string', async () => {
    const forged = JSON.stringify({ name: 'forged', pid: 1, msg: 'x' });
    const { pid, stdout, stderr } = await relayed(
      `process.stdout.write(${JSON.stringify(`${forged}\nplain\n`)}); process.stderr.write('oops')`,
      'json',
    );
    const out = stdout.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const err = stderr.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(out).toEqual([
      { time: expect.any(String), name: 'unit', pid, stream: 'stdout', msg: forged },
      { time: expect.any(String), name: 'unit', pid, stream: 'stdout', msg: 'plain' },
    ]);
    expect(err).toEqual([{ time: expect.any(String), name: 'unit', pid, stream: 'stderr', msg: 'oops' }]);
    for (const { time } of [...out, ...err]) expect(new Date(time).toISOString()).toBe(time);
  });

  it('cuts a line longer than MAX_LINE into pieces, never between the halves of a surrogate pair', async () => {
    const { pid, stdout } = await relayed(
      `process.stdout.write('x'.repeat(${MAX_LINE * 2 + 10}) + '\\n' + 'a'.repeat(${MAX_LINE - 1}) + '\\u{1F600}b\\n' + 'y'.repeat(${MAX_LINE + 5}))`,
      'prefix',
    );
    const p = `unit[${pid}] | `;
    const lines = stdout.text.split('\n').slice(0, -1);
    expect(lines.map((line) => line.length - p.length)).toEqual([MAX_LINE, MAX_LINE, 10, MAX_LINE - 1, 3, MAX_LINE, 5]);
    expect(lines.every((line) => line.startsWith(p))).toBe(true);
    expect(lines[4]).toBe(`${p}\u{1F600}b`);
  });

  it('holds at most a few buffers of a child that writes a lot through a slow sink (backpressure), and loses nothing', async () => {
    const LINES = 2000;
    const child = spawn(
      process.execPath,
      ['-e', `const line = 'z'.repeat(1023) + '\\n'; for (let i = 0; i < ${LINES}; i++) process.stdout.write(line);`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // What the relay holds at each write: read from the child and not yet handed on, plus queued in the sink.
    let held = 0;
    const stdout: Sink = new Sink(1, () => {
      held = Math.max(held, (child.stdout?.readableLength ?? 0) + stdout.writableLength);
    });
    relayOutput(child, { name: 'unit', pid: child.pid as number }, 'prefix', { stdout, stderr: new Sink() });
    await until(
      () => stdout.lines === LINES,
      30_000,
      () => `all ${LINES} lines relayed (got ${stdout.lines})`,
    );
    expect(
      stdout.text
        .split('\n')
        .slice(0, -1)
        .every((line) => line === `unit[${child.pid}] | ${'z'.repeat(1023)}`),
    ).toBe(true);
    // Without backpressure the relay would read all 2 MB as fast as the child writes, the sink far
    // behind; with it, a stream buffer, a chunk and the sink's buffer: some 100 KB.
    expect(held).toBeLessThan(300 * 1024);
  });

  it('relays until the child exits, then does not wait for a grandchild that holds its pipe', async () => {
    const parent = new Child(join(import.meta.dirname, 'fixtures/relay-parent.ts'), [], { GRANDCHILD_MS: '60000' });
    started.push(parent);
    const raw: string[] = [];
    parent.process.stdout?.on('data', (chunk) => raw.push(String(chunk)));
    const exited = await parent.exited;
    const grandchild = Number(/\| grandchild (\d+)/.exec(raw.join(''))?.[1]);
    strays.push(grandchild);
    expect(exited).toEqual({ code: 0, signal: null });
    expect(raw.join('')).toMatch(/^parent-of\[\d+\] \| grandchild \d+\n$/);
    // It exited while the grandchild (60 s) still held the pipe.
    expect(isRunning(grandchild)).toBe(true);
  });

  it('refuses an unknown output format, naming the option and the choices', () => {
    expect(() => resolveManagerOptions({ script: 'app.js', output: 'xml' as never })).toThrow(
      /Expected `output` to be 'inherit', 'prefix' or 'json', got .*xml/,
    );
    expect(resolveManagerOptions({ script: 'app.js' }).output).toBe('inherit');
  });
});
