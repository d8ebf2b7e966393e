import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { httpHarness, type HttpHarness } from '../support/http.js';

/** A pino logger whose lines are kept, as the JSON a log collector would store. */
function keptLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('the request log', () => {
  let h: HttpHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('logs every request, with the tokens of unsubscribe, confirmation and tracked links masked', async () => {
    const { lines, logger } = keptLog();
    h = await httpHarness({ journeys: [onboarding], workers: false, logger });
    // Link scanners open every link of an email, so these reach the log before the customer
    // does: whoever reads it could confirm a double opt-in the customer never confirmed.
    const token = 'SIGNED-TOKEN-kept-out-of-logs';
    for (const url of [
      `/v1/unsubscribe?token=${token}`,
      `/v1/consent/confirm?lang=de&token=${token}`,
      `/t/c/${token}`,
      `/t/o/${token}.gif`,
      `/t/s/${token}`,
    ])
      await h.app.inject({ url });
    await new Promise((resolve) => setImmediate(resolve));

    const urls = lines
      .map((line) => JSON.parse(line) as { req?: { url: string } })
      .flatMap((entry) => (entry.req ? [entry.req.url] : []));
    expect(urls).toEqual([
      '/v1/unsubscribe?token=***',
      '/v1/consent/confirm?lang=de&token=***',
      '/t/c/***',
      '/t/o/***',
      '/t/s/***',
    ]);
    expect(lines.join('\n')).not.toContain(token);
  });
});
