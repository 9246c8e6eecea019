// The queue worker of the PaaS-style example: a plain Node program that knows nothing of primacy.
// Every 100 ms it turns queued signups (spool/queue) into mails for the mail worker (spool/mail).
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const spool = process.env.SPOOL ?? 'spool';
for (const dir of ['queue', 'mail']) mkdirSync(join(spool, dir), { recursive: true });
console.log(`queue worker up: TYPE=${process.env.TYPE} pid ${process.pid}`);

setInterval(() => {
  for (const file of readdirSync(join(spool, 'queue')).filter((name) => name.endsWith('.json'))) {
    const signup = JSON.parse(readFileSync(join(spool, 'queue', file), 'utf8'));
    const mail = join(spool, 'mail', `${signup.id}.txt`);
    writeFileSync(`${mail}.tmp`, `To: ${signup.email}\nSubject: Welcome\n`);
    renameSync(`${mail}.tmp`, mail);
    unlinkSync(join(spool, 'queue', file));
    console.log(`queued mail ${signup.id}`);
  }
}, 100);
process.on('SIGTERM', () => {
  console.log('queue worker: SIGTERM, stopping');
  process.exit(0);
});
