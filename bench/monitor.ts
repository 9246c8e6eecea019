/**
 * A MONITOR stream on a plain socket. ioredis's `monitor()` trips over MONITOR lines that reach its
 * command queue first on a busy server ("Command queue state error"), which twice killed a bench
 * run; MONITOR's output is simple enough to read directly: `+OK`, then one status line per command,
 * `+<unix time> [<db> <source>] "<arg>" "<arg>" ...`.
 */
import { connect, type Socket } from 'node:net';

export interface MonitorLine {
  time: number;
  /** `ip:port` of the connection that sent the command (`lua` for a script's own commands). */
  source: string;
  args: string[];
}

export function monitor(port: number, onLine: (line: MonitorLine) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write('MONITOR\r\n'));
    let buffered = '';
    let ready = false;
    socket.setEncoding('utf8');
    socket.on('error', (error) => (ready ? undefined : reject(error)));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
        const text = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!ready) {
          if (text !== '+OK') return reject(new Error(`MONITOR answered ${text}`));
          ready = true;
          resolve(socket);
          continue;
        }
        const parsed = parseLine(text);
        if (parsed) onLine(parsed);
      }
    });
  });
}

function parseLine(text: string): MonitorLine | null {
  const head = /^\+(\d+\.\d+) \[\d+ ([^\]]+)\] /.exec(text);
  if (!head) return null;
  const args: string[] = [];
  // Each argument is a double-quoted string with C-style escapes (\" \\ \xHH \n ...).
  for (const match of text.slice(head[0].length).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    args.push(
      (match[1] ?? '').replace(/\\(x[0-9a-f]{2}|.)/g, (_, e: string) =>
        e.length === 3 ? String.fromCharCode(Number.parseInt(e.slice(1), 16)) : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e,
      ),
    );
  }
  return { time: Number(head[1]), source: head[2] as string, args };
}
