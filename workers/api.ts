// `npm run start:api`: the HTTP API and dashboard alone, for scaling out. Run as many behind a
// load balancer as you like, all with the same REDIS_URL, REDIS_PREFIX, API_KEY and secrets.
import { runMain, runProcess } from './run-process.js';

runMain(() => runProcess({ embeddedRedis: false, banner: false, api: true, workers: false }));
