// PM2 cluster mode: 4 instances of app.ts sharing one port. `pm2 start ecosystem.config.cjs`.
// The values below are read when PM2 loads this file, so `PORT=8080 pm2 start ...` works too.
const { pathToFileURL } = require('node:url');

module.exports = {
  apps: [
    {
      name: 'primacy-pm2-example',
      script: './app.ts',
      cwd: __dirname,
      instances: 4,
      exec_mode: 'cluster',
      // PM2 6 would pick Bun for a .ts file; cluster mode needs Node.
      interpreter: 'node',
      // TypeScript through tsx's loader. In cluster mode PM2 forks every instance with these node
      // arguments; the loader is given as an absolute URL because it is resolved in the PM2 daemon's
      // working directory, not this one. For a compiled app, drop this line and point `script` at the .js.
      node_args: ['--import', pathToFileURL(require.resolve('tsx')).href],
      // The app sends process.send('ready') once it listens and its first election round is over.
      wait_ready: true,
      listen_timeout: 10000,
      // PM2 sends SIGINT, then SIGKILL after kill_timeout. primacy stops the singleton work and
      // releases the lock on SIGINT (waiting up to `stopTimeout`, 5 s by default): give it that time.
      kill_timeout: 6000,
      autorestart: true,
      env: {
        PORT: process.env.PORT || '3000',
        LOCK_NAME: process.env.LOCK_NAME || 'pm2-example',
        EVENTS_FILE: process.env.EVENTS_FILE || '',
      },
    },
  ],
};
