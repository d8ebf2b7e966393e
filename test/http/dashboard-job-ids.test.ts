import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { drainJobId, sendOpId } from '../../engine/runtime/ids.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';

const basic = `Basic ${Buffer.from(`${DASHBOARD.user}:${DASHBOARD.password}`).toString('base64')}`;

/**
 * The job URL bull-board's page requests for a job it lists: its router decodes the id in the
 * page's address once more than the link encoded it, and its API client encodes what is left.
 */
const asTheBoardAsks = (queue: string, jobId: string) =>
  `/admin/queues/api/queues/${queue}/${encodeURIComponent(decodeURIComponent(jobId))}`;

/** Customer ids as shops have them: an email, a UUID, dashes and dots, words in any script. */
const CUSTOMERS = ['ada_1@example.com', '9b2f4e1c-5d3a-4c7e-8f21-0a6b7c8d9e10', 'a-b.c', 'Zoë 李'];

describe("the dashboard's job page for a customer whose id is more than letters and digits", () => {
  let h: HttpHarness;
  afterEach(() => h.close());

  async function expectOpened(queue: string, jobId: string) {
    const res = await h.app.inject({ url: asTheBoardAsks(queue, jobId), headers: { authorization: basic } });
    expect(res.statusCode, `${queue} ${jobId}`).toBe(200);
    expect(res.json<{ job: { id: string } }>().job.id).toBe(jobId);
  }

  it('opens the delivery job of a send the board lists', async () => {
    h = await httpHarness({ journeys: [onboarding] });
    for (const customerId of CUSTOMERS) {
      await h.engine.identify({ userId: customerId, traits: { email: 'ada@example.com' } });
      await h.engine.track({ userId: customerId, event: 'Signed Up' });
      const send = sendOpId(customerId, 'onboarding.1', 1, 0);
      const email = h.engine.shards.current.shards[0]!.deliveries.email;
      await eventually(async () => (await email.getJob(send)) !== undefined);
      await expectOpened('deliveries-email', send);
    }
  }, 20_000);

  it('shows the job in headless Chromium when it is clicked in the list', async () => {
    h = await httpHarness({ journeys: [onboarding] });
    await h.engine.identify({ userId: 'ada_1@example.com', traits: { email: 'ada@example.com' } });
    await h.engine.track({ userId: 'ada_1@example.com', event: 'Signed Up' });
    const send = sendOpId('ada_1@example.com', 'onboarding.1', 1, 0);
    const email = h.engine.shards.current.shards[0]!.deliveries.email;
    await eventually(async () => (await email.getJob(send))?.finishedOn !== undefined);
    const url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const context = await browser.newContext({
        httpCredentials: { username: DASHBOARD.user, password: DASHBOARD.password },
      });
      const page = await context.newPage();
      await page.goto(`${url}/admin/queues/queue/deliveries-email?status=completed`);
      const job = page.waitForResponse((r) => r.url().includes('/api/queues/deliveries-email/s-'));
      await page.locator('a', { hasText: 'ada' }).first().click();
      expect((await job).status()).toBe(200);
      await page.getByText('Options').first().waitFor();
      expect(await page.getByText('Job not found').count()).toBe(0);
    } finally {
      await browser.close();
    }
  }, 30_000);

  it('opens the drain job of an event the board lists, whose id has dashes of its own', async () => {
    h = await httpHarness({ journeys: [onboarding], workers: false });
    for (const customerId of CUSTOMERS) {
      await h.engine.track({ userId: customerId, event: 'Signed Up', messageId: 'evt-1.a' });
      await expectOpened('journeys', drainJobId(customerId, 'evt-1.a'));
    }
  });
});
