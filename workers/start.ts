// `npm start`: the whole engine in one process on embedded defaults: the HTTP API, the
// dashboard and all workers. When REDIS_URL is unset and no Redis answers on 127.0.0.1:6379, it
// starts a private redis-server for as long as it runs.
import { runMain, runProcess } from './run-process.js';

runMain(() => runProcess({ embeddedRedis: true, banner: process.stdout.isTTY, api: true, workers: true }));
