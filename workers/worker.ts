// `npm run start:worker`: a worker process for scaling out. Start as many as you like, on as many
// machines as you like, all with the same REDIS_URL (and REDIS_PREFIX); WORKER_ROLES picks the roles.
import { runMain, runProcess } from './run-process.js';

runMain(() => runProcess({ embeddedRedis: false, banner: false, api: false, workers: true }));
