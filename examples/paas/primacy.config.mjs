/**
 * A PaaS-style app run by `primacy start` from this directory: a web app plus two workers that
 * are not open to connections, each with its own start command, instances, environment and
 * restart behaviour. Stopping sends SIGTERM, then SIGKILL after 15 s (`killTimeout`), as a PaaS does.
 *
 *   web    the HTTP app (server: its workers share PORT through node:cluster); POST /signup
 *          queues a welcome mail
 *   queue  a plain Node program (not using primacy): turns queued signups into mails
 *   mail   a shell script (any command works): "sends" the mails
 *
 * They share a spool directory (SPOOL, default ./spool): web -> spool/queue -> spool/mail -> spool/sent.
 */
const spool = process.env.SPOOL ?? new URL('./spool', import.meta.url).pathname;

export default {
  name: 'paas-example',
  inspector: true,
  killTimeout: '15s',
  apps: [
    { name: 'web', server: true, script: './web.ts', instances: 2, env: { TYPE: 'web', SPOOL: spool } },
    { name: 'queue', command: ['node', 'queue-worker.mjs'], env: { TYPE: 'worker', SPOOL: spool }, restart: 'always' },
    { name: 'mail', command: 'sh mail-worker.sh', env: { TYPE: 'worker', SPOOL: spool }, restart: 'on-failure', maxMemory: '64M' },
  ],
};
