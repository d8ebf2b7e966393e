// The latency benchmark's one journey, loaded by its worker processes through JOURNEYS_DIR:
// `Notify` sends the `nudge` email.
export { notify } from '../../test/fixtures/journeys/notify.js';
