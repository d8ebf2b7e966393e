import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicPathPrefix } from '../../engine/index.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { DASHBOARD, httpHarness, type HttpHarness } from '../support/http.js';

/**
 * A reverse proxy that serves the app under `/chorus`, taking the prefix off, as an ingress or
 * nginx `location /chorus/ { proxy_pass http://app/; }` does. Anything else it answers 404, and
 * records: a page that leaves the prefix would break behind a real one.
 */
async function prefixProxy(target: string, outside: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (!path.startsWith('/chorus/')) {
      outside.push(path);
      response.writeHead(404).end();
      return;
    }
    const upstream = forward(
      `${target}${path.slice('/chorus'.length)}`,
      { method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/chorus`, server };
}

describe('the dashboard behind a proxy that serves the app under a path', () => {
  let h: HttpHarness;
  let proxy: { url: string; server: Server };
  const outside: string[] = [];

  beforeAll(async () => {
    h = await httpHarness({
      journeys: [onboarding],
      workers: false,
      dashboardPathPrefix: publicPathPrefix('https://mail.example/chorus/'),
    });
    proxy = await prefixProxy(await h.app.listen({ port: 0, host: '127.0.0.1' }), outside);
  });
  afterAll(async () => {
    proxy.server.close();
    await h.close();
  });

  it('takes its prefix from PUBLIC_URL', () => {
    expect(publicPathPrefix('https://mail.example/chorus/')).toBe('/chorus');
    expect(publicPathPrefix('https://mail.example')).toBe('');
  });

  it('keeps the queue board, the journey pages and their links under the path', async () => {
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
      // The root leads to the board, under the path.
      await page.goto(`${proxy.url}/`);
      expect(page.url()).toBe(`${proxy.url}/admin/queues`);
      await page.getByText('journeys', { exact: false }).first().waitFor({ timeout: 15_000 });

      await page.goto(`${proxy.url}/admin/journeys`);
      await page.click('text=onboarding');
      await page.waitForSelector('body[data-rendered="yes"]', { timeout: 15_000 });
      expect(page.url()).toBe(`${proxy.url}/admin/journeys/onboarding`);
      // The API call it names for the full figures is the one a client makes through the proxy.
      expect(await page.getByText('Full figures').textContent()).toContain(
        'GET /chorus/v1/journeys/onboarding/report',
      );
      await page.click('text=Queues');
      await page.getByText('journeys', { exact: false }).first().waitFor({ timeout: 15_000 });
      expect(page.url()).toBe(`${proxy.url}/admin/queues`);
    } finally {
      await browser.close();
    }
    expect(outside).toEqual([]);
  }, 60_000);

  it('keeps the API reference at /docs, its scripts, styles and document under the path', async () => {
    for (const docs of [`${proxy.url}/docs`, `${proxy.url}/docs/`]) {
      const page = await fetch(docs);
      expect(page.status).toBe(200);
      const links = [...(await page.text()).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(links.length, docs).toBeGreaterThan(3);
      for (const link of links) {
        // Read through, so no answer is left half-sent when the app closes.
        const asset = await fetch(new URL(link, docs));
        await asset.arrayBuffer();
        expect(asset.status, `${docs}: ${link}`).toBe(200);
      }
    }
    // The page asks for its document at ./json, from the page's path with a slash added.
    const document = await fetch(`${proxy.url}/docs/json`);
    // Its requests ("Try it out", a generated client's) go under the path too.
    expect(await document.json()).toMatchObject({ servers: [{ url: '/chorus' }] });
    expect(outside).toEqual([]);
  });
});
