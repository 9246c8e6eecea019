/**
 * The baseline of the throughput comparison: plain node:cluster, N workers of the same app, no
 * supervision at all. Reports `started` once every worker listens; SIGTERM kills the workers and
 * exits (a worker also exits by itself when this primary's IPC channel closes).
 */
import cluster from 'node:cluster';
import { wallNow } from '../../harness/clock.js';

const [script = '', workers = '4', port = '0'] = process.argv.slice(2);
process.env.APP_PORT = port;
cluster.setupPrimary({ exec: script });
let listening = 0;
for (let i = 0; i < Number(workers); i++) {
  cluster.fork().once('listening', () => {
    if (++listening === Number(workers)) process.stdout.write(`${JSON.stringify({ ev: 'started', pid: process.pid, t: wallNow() })}\n`);
  });
}
process.on('SIGTERM', () => {
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  process.exit(0);
});
