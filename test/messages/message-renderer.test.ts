import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageRenderError, MessageRenderer } from '../../engine/messages/message-renderer.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { renderContext } from './render-context.js';

const templates = TemplateSet.fromDirectory('test/fixtures/templates-render');
const renderer = new MessageRenderer(templates);
const hello = templates.message('hello')!;
const context = (overrides: Parameters<typeof renderContext>[1] = {}) => renderContext(hello, overrides);

describe('rendering a core message', () => {
  it('lists the channels a message has templates for', () => {
    expect(renderer.channels('hello')).toEqual(['email', 'sms', 'push', 'in-app', 'webhook']);
    expect(renderer.channels('spotlight')).toEqual(['sms', 'push']);
    expect(renderer.supports('spotlight', 'email')).toBe(false);
  });

  it('personalises from the profile and falls back when a trait is missing or empty', () => {
    const named = renderer.render(
      'hello',
      'email',
      context({ profile: { firstName: 'Mei', favourite: 'oolong' } }),
    );
    expect(named.subject).toBe('Tea for two, Mei');
    expect(named.html).toContain('Hi Mei, your oolong is waiting.');
    for (const profile of [{}, { firstName: '' }, { firstName: null }]) {
      const anonymous = renderer.render('hello', 'email', context({ profile }));
      expect(anonymous.subject).toBe('Tea for two, there');
      expect(anonymous.html).toContain('Hi there, your usual blend is waiting.');
    }
  });

  it('escapes a trait such as <script> in HTML, but not in a plain-text subject or SMS', () => {
    const profile = { firstName: '<script>alert(1)</script>', favourite: `O'Hara "&" Co` };
    const email = renderer.render('hello', 'email', context({ profile }));
    expect(email.html).toContain(
      'Hi &lt;script&gt;alert(1)&lt;/script&gt;, your O&#x27;Hara &quot;&amp;&quot; Co',
    );
    expect(email.html).not.toContain('<script>');
    expect(email.subject).toBe('Tea for two, <script>alert(1)</script>');
    expect(email.text).toContain(`Hi <script>alert(1)</script>, your O'Hara "&" Co is waiting.`);
    expect(renderer.render('hello', 'in-app', context({ profile })).body).toContain('Hi &lt;script&gt;');
  });

  it('refuses prototype access: constructor and __proto__ render empty', () => {
    const { html } = renderer.render('hello', 'email', context({ profile: { firstName: 'Mei' } }));
    expect(html).toContain('<p>[][][][]</p>');
  });

  it('formats dates, money and counts in the customer locale and time zone', () => {
    const trigger = { deadline: '2025-03-14T18:30:00Z', price: 12.5, count: 3 };
    const german = renderer.render(
      'hello',
      'email',
      context({ trigger, locale: 'de-DE', timezone: 'Europe/Berlin' }),
    );
    expect(german.text).toContain(
      `Order by 14. März 2025 at 19:30 and pay ${new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(12.5)} for 3 tins.`,
    );
    const american = renderer.render(
      'hello',
      'email',
      context({
        trigger: { deadline: Date.UTC(2025, 2, 14, 3), price: 12.5, count: 1 },
        timezone: 'America/New_York',
      }),
    );
    expect(american.text).toContain('Order by Mar 13, 2025 at 23:00 and pay €12.50 for 1 tin.');
  });

  it('adds UTM parameters to the CTA and every link, keeping parameters already present', () => {
    const { html, text } = renderer.render(
      'hello',
      'email',
      context({ variants: { tips: 'tips', subject: 'b' } }),
    );
    const utm = 'utm_medium=email&utm_campaign=onboarding&utm_content=hello-subject%3Db%2Ctips%3Dtips';
    const cta = `https://example.com/tea?ref=mail&utm_source=partner&${utm}`;
    expect(text).toContain(`Pour a cup (${cta})`);
    expect(html).toContain(`href="${cta.replace(/&/g, '&amp;')}"`);
    expect(text).toContain(`our journal (https://example.com/journal?page=2&utm_source=chorus&${utm})`);
  });

  it('leaves the unsubscribe URL and mailto: and tel: links alone', () => {
    const { html, text } = renderer.render('hello', 'email', context());
    expect(html).toContain('href="https://chorus.example.com/u/cust-1?sig=abc"');
    expect(text).toContain('Unsubscribe: https://chorus.example.com/u/cust-1?sig=abc');
    expect(html).toContain('href="mailto:hello@example.com"');
    expect(html).toContain('href="tel:+15555550123"');
  });

  it('derives the text part from the HTML when there is no email.text template', () => {
    const { text } = renderer.render('hello', 'email', context({ profile: { firstName: 'Mei' } }));
    expect(text.split('\n\n').slice(0, 2)).toEqual(['Tea for two', 'Hi Mei, your usual blend is waiting.']);
    expect(text).toMatch(
      /Pour a cup \(https:\/\/example\.com\/tea\?ref=mail&utm_source=partner&[^)]+\), read our journal/,
    );
    expect(text).toContain('write (mailto:hello@example.com) or call (tel:+15555550123).');
    expect(text).not.toMatch(/<[a-z/]/);
  });

  it('leaves out of the derived text part what the HTML hides, such as its preheader', () => {
    const { html, text } = renderer.render('hello', 'email', context({ profile: { firstName: 'Mei' } }));
    expect(html).toContain('>Two cups, one pot, for Mei&zwnj;&nbsp;');
    expect(text).not.toContain('Two cups, one pot, for Mei');
    expect(text).not.toMatch(/[\u200c\u00a0]/);
    expect(text.startsWith('Tea for two\n\nHi Mei,')).toBe(true);
  });

  it('derives the text part from the whole email when the brand has an HTML layout but no text one', () => {
    // Without layout.text.hbs, the layout's footer (its unsubscribe link, the sender's address)
    // is in the text part only if that part is derived from the email as sent.
    const dir = mkdtempSync(join(tmpdir(), 'chorus-html-layout-'));
    try {
      cpSync('test/fixtures/templates-render', dir, { recursive: true });
      rmSync(join(dir, '_brand', 'layout.text.hbs'));
      const htmlOnly = TemplateSet.fromDirectory(dir);
      const { text } = new MessageRenderer(htmlOnly).render('hello', 'email', context());
      expect(text.startsWith('Tea for two\n\nHi there,')).toBe(true);
      expect(text).toMatch(/\nUnsubscribe \(https:\/\/chorus\.example\.com\/u\/cust-1\?sig=abc\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders an SMS with its encoding and segment count, tagging bare URLs', () => {
    const sms = renderer.render('hello', 'sms', context({ profile: { firstName: 'Mei' } }));
    expect(sms.body).toMatch(
      /^Tea for two, Mei: https:\/\/example\.com\/tea\?ref=mail&utm_source=partner&utm_medium=sms/,
    );
    expect(sms.body).toMatch(
      / - or read https:\/\/example\.com\/journal\?utm_source=chorus&utm_medium=sms&[^ ]+control\.$/,
    );
    expect(sms).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    // One emoji makes the whole body UCS-2: 259 code units need four parts of 67.
    const emoji = renderer.render('hello', 'sms', context({ profile: { firstName: 'Mei 🍵' } }));
    expect(emoji.body).toHaveLength(259);
    expect(emoji).toMatchObject({ encoding: 'UCS-2', segments: 4 });
  });

  it('renders push with the CTA as its URL, and in-app with the headline as its default title', () => {
    const push = renderer.render('hello', 'push', context());
    expect(push).toEqual({
      channel: 'push',
      title: 'Tea for two',
      body: 'Hi there, Two cups, one pot.',
      url: 'https://example.com/tea?ref=mail&utm_source=partner&utm_medium=push&utm_campaign=onboarding&utm_content=hello-control',
    });
    const inApp = renderer.render('hello', 'in-app', context());
    expect(inApp.title).toBe('Tea for two');
    expect(inApp.cta.url).toContain('utm_medium=in-app');
    expect(inApp.body).toContain(
      'See https://example.com/tea?ref=mail&amp;utm_source=partner&amp;utm_medium=in-app',
    );
  });

  it("gives a push the message's time to live and collapse key, for the adapter to send", () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-push-options-'));
    try {
      cpSync('test/fixtures/templates-render', dir, { recursive: true });
      const file = join(dir, 'hello', 'message.json');
      const message = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...message, push: { ttl: '12h', collapseKey: 'hello' } }));
      const push = new MessageRenderer(TemplateSet.fromDirectory(dir)).render('hello', 'push', context());
      expect(push).toMatchObject({ ttlMs: 43_200_000, collapseKey: 'hello' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders a webhook as a JSON object, escaping values with {{json}}', () => {
    const profile = { firstName: 'Mei "the brewer"\n', favourite: { name: 'oolong', tins: 2 } };
    const { payload } = renderer.render('hello', 'webhook', context({ profile }));
    expect(payload).toEqual({
      name: 'Mei "the brewer"\n',
      favourite: { name: 'oolong', tins: 2 },
      headline: 'Tea for two',
      cta: expect.stringContaining('utm_medium=webhook'),
      links: expect.any(Array),
      note: expect.any(String),
      unsubscribe: 'https://chorus.example.com/u/cust-1?sig=abc',
    });
    expect(renderer.render('hello', 'webhook', context()).payload).toMatchObject({
      name: null,
      favourite: null,
    });
  });

  it('adds UTM parameters to the http(s) URLs of a webhook payload, keeping those already there', () => {
    const { payload } = renderer.render('hello', 'webhook', context({ variants: { 'subject-test': 'b' } }));
    const utm = 'utm_medium=webhook&utm_campaign=onboarding&utm_content=hello-subject-test%3Db';
    expect(payload).toMatchObject({
      cta: `https://example.com/tea?ref=mail&utm_source=partner&${utm}`,
      links: [
        { journal: `https://example.com/journal?page=2&utm_source=partner&${utm}` },
        { write: 'mailto:hello@example.com' },
      ],
      // Prose is left as written, and the unsubscribe URL is never tagged.
      note: 'Read https://example.com/journal',
      unsubscribe: 'https://chorus.example.com/u/cust-1?sig=abc',
    });
  });

  it('fails clearly when a webhook template does not render a JSON object', () => {
    const broken = TemplateSet.fromDirectory('test/fixtures/templates-broken');
    const bad = broken.message('bad-webhook')!;
    const render = () => new MessageRenderer(broken).render('bad-webhook', 'webhook', renderContext(bad));
    expect(render).toThrow(MessageRenderError);
    expect(render).toThrow(/bad-webhook\/webhook\.json\.hbs rendered an array, not a JSON object\. To fix:/);
  });

  it('fails naming the message and channel when asked for a channel it has no templates for', () => {
    const spotlight = templates.message('spotlight')!;
    expect(() => renderer.render('spotlight', 'email', renderContext(spotlight))).toThrow(
      /Message "spotlight" has no email templates \(it supports sms, push\)\. To fix:/,
    );
  });

  it('uses the configured utm_source', () => {
    const push = new MessageRenderer(templates, { utmSource: 'newsletter' }).render(
      'hello',
      'push',
      context(),
    );
    expect(push.url).toContain('utm_source=partner');
    const spotlight = templates.message('spotlight')!;
    const sms = new MessageRenderer(templates, { utmSource: 'newsletter' }).render(
      'spotlight',
      'sms',
      renderContext(spotlight),
    );
    expect(sms.body).toContain('https://example.com/oolong?utm_source=newsletter&utm_medium=sms');
  });
});
