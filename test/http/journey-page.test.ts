import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defineJourney } from '../../engine/index.js';
import { notify } from '../fixtures/journeys/notify.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';
import { eventually } from '../support/redis.js';
import { customerInVariant } from '../support/variants.js';

const basic = `Basic ${Buffer.from(`${DASHBOARD.user}:${DASHBOARD.password}`).toString('base64')}`;

/** Debian's chromium, headless, without downloading a browser. */
const launchChromium = () =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });

/** A page that signs in to the dashboard with its basic auth. */
async function dashboardPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    httpCredentials: { username: DASHBOARD.user, password: DASHBOARD.password },
  });
  return context.newPage();
}

describe('the journey page at /admin/journeys/:id', () => {
  let h: HttpHarness;
  let url = '';

  beforeAll(async () => {
    h = await httpHarness({ journeys: [onboarding] });
    for (const salt of ['a', 'b', 'c']) {
      const id = customerInVariant('tips', salt);
      await h.engine.identify({ userId: id, traits: { email: `${salt}@example.com` } });
      await h.engine.track({ userId: id, event: 'Signed Up' });
    }
    const holdout = customerInVariant('holdout', 'd');
    await h.engine.track({ userId: holdout, event: 'Signed Up' });
    await eventually(async () => {
      const res = await h.app.inject({ url: '/v1/journeys/onboarding', headers: h.auth });
      return res.json<{ entered: number }>().entered === 4;
    });
    url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  }, 20_000);
  afterAll(() => h.close());

  it('is behind the dashboard auth and lists the journeys', async () => {
    expect((await h.app.inject('/admin/journeys/onboarding')).statusCode).toBe(401);
    const list = await h.app.inject({ url: '/admin/journeys', headers: { authorization: basic } });
    expect(list.body).toContain('href="/admin/journeys/onboarding"');
    const unknown = await h.app.inject({
      url: '/admin/journeys/nope',
      headers: { authorization: basic, accept: 'text/html' },
    });
    expect(unknown.statusCode).toBe(404);
    // A page that leads back to the list, not JSON.
    expect(unknown.headers['content-type']).toMatch(/^text\/html/);
    expect(unknown.body).toContain('No journey "nope" is loaded');
    expect(unknown.body).toContain('href="/admin/journeys"');
    const asJson = await h.app.inject({ url: '/admin/journeys/nope', headers: { authorization: basic } });
    expect(asJson.json()).toMatchObject({
      error: { code: 'CHORUS_JOURNEY_NOT_FOUND', message: expect.stringContaining('(loaded: onboarding') },
    });
  });

  it.each(['/admin/journeys/nope/', '/admin/journeys/onboarding/', '/admin/journeys/a/b?x=1'])(
    'answers %s with a page leading back to the list for a browser, JSON for a script',
    async (path) => {
      const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
      const page = await h.app.inject({ url: path, headers: { authorization: basic, accept: browser } });
      expect(page.statusCode).toBe(404);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain(`No journey page at ${path.split('?')[0]}.`);
      expect(page.body).toContain('href="/admin/journeys"');
      const script = await h.app.inject({ url: path, headers: { authorization: basic } });
      expect(script.statusCode).toBe(404);
      expect(script.json()).toMatchObject({ error: { code: 'CHORUS_NOT_FOUND' } });
      // Still behind the dashboard's auth.
      expect((await h.app.inject({ url: path, headers: { accept: browser } })).statusCode).toBe(401);
    },
  );

  it('shows the state diagram with live counts, the funnel and the experiment table', async () => {
    const res = await h.app.inject({ url: '/admin/journeys/onboarding', headers: { authorization: basic } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('stateDiagram-v2');
    expect(res.body).toMatch(/s_browsing : 3 customers now/);
    expect(res.body).toMatch(/s_holdout : 1 customer now/);
    expect(res.body).toMatch(/<td>awareness<\/td><td>4<\/td>/);
    expect(res.body).toContain('Split tips');
    // Four customers: too few for the z-test, so the exact test's p-value is shown, marked.
    expect(res.body).toMatch(/Journey against holdout: lift [^<]*, p = 1\.0000 <span[^>]*>\(exact\)/);
  });

  it('shows the queue dashboard in headless Chromium without asking any other site for anything', async () => {
    const browser = await launchChromium();
    try {
      const page = await dashboardPage(browser);
      // Requests to other sites, with why each failed: none may leave (this machine reaches no
      // other site anyway, so only the browser's own refusal shows the policy at work).
      const elsewhere: Array<{ url: string; failure?: string }> = [];
      page.on('requestfailed', (request) => {
        if (!request.url().startsWith(url))
          elsewhere.push({ url: request.url(), failure: request.failure()?.errorText ?? '' });
      });
      page.on('requestfinished', (request) => {
        if (!request.url().startsWith(url)) elsewhere.push({ url: request.url() });
      });
      // Nor does it log an error for a request it was refused: an operator reading the console
      // for a real fault would find one on every page.
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(`${url}/admin/queues`);
      await page.getByText('journeys', { exact: false }).first().waitFor({ timeout: 15_000 });
      for (const request of elsewhere) expect(request, request.url).toMatchObject({ failure: 'csp' });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 30_000);

  it('cannot be framed by another page, so no click on it can be lured from elsewhere', async () => {
    const browser = await launchChromium();
    try {
      const page = await dashboardPage(browser);
      // A page of another origin (another port) that frames the board.
      const lure = createServer((_request, response) =>
        response
          .writeHead(200, { 'content-type': 'text/html' })
          .end(`<iframe src="${url}/admin/queues"></iframe>`),
      );
      await new Promise<void>((resolve) => lure.listen(0, '127.0.0.1', resolve));
      const { port } = lure.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
      lure.close();
      const frame = page.frames().find((f) => f !== page.mainFrame());
      // The browser refuses to show it: an error page stands where the board would be.
      expect(frame?.url()).toMatch(/^chrome-error:/);
    } finally {
      await browser.close();
    }
    for (const path of ['/admin/queues', '/admin/journeys', '/admin/journeys/onboarding']) {
      const res = await h.app.inject({ url: path, headers: { authorization: basic } });
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
    }
  }, 30_000);

  it('renders in headless Chromium, diagram included, and keeps a screenshot', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const context = await browser.newContext({
        httpCredentials: { username: DASHBOARD.user, password: DASHBOARD.password },
        viewport: { width: 1280, height: 1600 },
      });
      const page = await context.newPage();
      await page.goto(`${url}/admin/journeys/onboarding`);
      await page.waitForSelector('body[data-rendered="yes"]', { timeout: 15_000 });
      // Mermaid drew an SVG with a node per state, the live count written on it.
      const svgText = (await page.locator('#diagram svg').textContent()) ?? '';
      expect(svgText).toContain('browsing');
      expect(svgText).toContain('3 customers now');
      expect(await page.locator('#funnel tr').count()).toBe(5);
      expect(await page.locator('table.experiment tr').count()).toBe(3);
      mkdirSync('test/artifacts', { recursive: true });
      await page.screenshot({ path: 'test/artifacts/journey-page.png', fullPage: true });
    } finally {
      await browser.close();
    }
  }, 30_000);
});

/** A journey described by a long link, as a team's wiki page: one word longer than any screen. */
const documented = defineJourney({
  id: 'documented',
  version: 1,
  description: `Playbook: https://wiki.example.com/marketing/${'lifecycle/'.repeat(30)}onboarding`,
  trigger: { event: 'Documented' },
  machine: (j) =>
    j.createMachine({ initial: 'done', states: { done: { tags: 'awareness', type: 'final' } } }),
});

describe('the journey pages of journeys with no goal or a long description', () => {
  let h: HttpHarness;
  let url = '';
  beforeAll(async () => {
    h = await httpHarness({ journeys: [notify, documented], workers: false });
    url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => h.close());

  it.each([
    ['a laptop', { width: 1280, height: 800 }],
    ['a phone', { width: 390, height: 844 }],
  ])(
    'fits a long description on %s without scrolling sideways',
    async (_, viewport) => {
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({
          httpCredentials: { username: DASHBOARD.user, password: DASHBOARD.password },
          viewport,
          isMobile: viewport.width < 500,
        });
        const page = await context.newPage();
        for (const path of ['/admin/journeys', '/admin/journeys/documented']) {
          await page.goto(`${url}${path}`);
          const width = await page.evaluate<number>('document.documentElement.scrollWidth');
          expect(width, path).toBeLessThanOrEqual(viewport.width);
        }
      } finally {
        await browser.close();
      }
    },
    30_000,
  );

  it('says no goal is set rather than showing a 0% conversion rate', async () => {
    const res = await h.app.inject({ url: '/admin/journeys/notify', headers: { authorization: basic } });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('reached the goal');
    expect(res.body).toContain('0 entered · no goal set, so no conversion is counted');
  });
});

describe('the journey list of an engine with no journey loaded', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await httpHarness({ journeys: [], workers: false });
  });
  afterAll(() => h.close());

  it('says that none is loaded and where they are loaded from, rather than showing an empty list', async () => {
    const res = await h.app.inject({ url: '/admin/journeys', headers: { authorization: basic } });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<ul></ul>');
    expect(res.body).toContain('No journey is loaded');
  });
});

describe('the journey page of a journey with conversions', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await httpHarness({ journeys: [onboarding] });
  });
  afterAll(() => h.close());

  it("reads the journey's counters only, not each converted customer's message list as a report does", async () => {
    for (const salt of ['a', 'b']) {
      const id = customerInVariant('tips', salt);
      await h.engine.identify({ userId: id, traits: { email: `${salt}@example.com` } });
      await h.engine.track({ userId: id, event: 'Signed Up' });
      await h.engine.track({ userId: id, event: 'Order Completed', properties: { revenue: 10 } });
    }
    await eventually(async () => {
      const res = await h.app.inject({ url: '/v1/journeys/onboarding', headers: h.auth });
      return res.json<{ converted: number }>().converted === 2;
    });
    h.clock.advance('1m');
    const lrange = vi.spyOn(h.apiRedis, 'lrange');
    const messageListsRead = () =>
      lrange.mock.calls.filter(([key]) => String(key).endsWith(':messages')).length;
    try {
      const page = await h.app.inject({
        url: '/admin/journeys/onboarding',
        headers: { authorization: basic },
      });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('2 entered · 2 reached the goal (100.0%)');
      // The page shows no attribution: reading up to 2,000 lists on every view was work thrown away.
      expect(messageListsRead()).toBe(0);
      // The report does read them, so the spy is where the reads go.
      const report = await h.app.inject({ url: '/v1/journeys/onboarding/report', headers: h.auth });
      expect(report.json<{ attribution: { conversions: number } }>().attribution.conversions).toBe(2);
      expect(messageListsRead()).toBe(2);
    } finally {
      lrange.mockRestore();
    }
  });
});
