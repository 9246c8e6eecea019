// The trivial HTTP app of the throughput and reload comparisons, the same file under primacy's
// manager, plain node:cluster and PM2 cluster mode. CommonJS, no dependencies, so PM2's process
// container loads it as is. Listens on APP_PORT (all workers share it through node:cluster).
const { createServer } = require('node:http');

createServer((_request, response) => response.end('ok\n')).listen(Number(process.env.APP_PORT), '127.0.0.1');
