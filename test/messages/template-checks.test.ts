import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJourney } from '../../engine/journey/define-journey.js';
import {
  checkTemplates,
  checkTemplatesForJourneys,
  loadTemplates,
  TemplateValidationError,
  type TemplateProblem,
} from '../../engine/messages/template-checks.js';
import { MessageRenderer } from '../../engine/messages/message-renderer.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { onboarding } from '../fixtures/journeys/onboarding.js';
import { renderContext } from './render-context.js';

function problemsOf(load: () => unknown): readonly TemplateProblem[] {
  try {
    load();
  } catch (error) {
    if (error instanceof TemplateValidationError) return error.problems;
    throw error;
  }
  return [];
}

/** A journey that sends `welcome` on `channels`, with a strict profile and a typed trigger. */
function greeter(channels: Array<'email' | 'sms'>) {
  return defineJourney({
    id: 'greet',
    version: 2,
    trigger: { event: 'Signed Up', properties: z.object({ plan: z.string() }) },
    profile: z.object({ firstName: z.string().optional() }),
    machine: (j) =>
      j.createMachine({
        initial: 'hello',
        states: { hello: { tags: 'awareness', entry: j.send('welcome', channels) } },
      }),
  });
}

describe('loading templates', () => {
  it("passes every check for the onboarding journey's messages", () => {
    const templates = loadTemplates('templates', { journeys: [onboarding] });
    expect(templates.channels('welcome')).toEqual(['email', 'push', 'in-app']);
    expect(templates.channels('product-spotlight')).toEqual(['email', 'push']);
    expect(templates.channels('nudge')).toEqual(['email', 'sms']);
    expect(templates.channels('thank-you')).toEqual(['email', 'webhook']);
  });

  it('passes a message that carries its declared key phrase instead of a long headline', () => {
    expect(checkTemplates(TemplateSet.fromDirectory('test/fixtures/templates-render'))).toEqual([]);
  });

  it('fails when a template drops the CTA, naming message, channel and file', () => {
    const problems = problemsOf(() => loadTemplates('test/fixtures/templates-no-cta'));
    expect(problems).toContainEqual({
      message: 'welcome',
      channel: 'email',
      file: 'test/fixtures/templates-no-cta/welcome/email.html.hbs',
      text: expect.stringMatching(
        /^Message "welcome", channel email: the HTML does not link to the CTA URL https:\/\/example\.com\/blends \(test\/fixtures\/templates-no-cta\/welcome\/email\.html\.hbs\)\. To fix: link to \{\{message\.cta\.url\}\}/,
      ),
    });
    expect(problems.map((p) => p.text)).toContainEqual(
      expect.stringMatching(
        /channel email: the text part \(derived from the HTML\) does not link to the CTA URL/,
      ),
    );
  });

  it('fails when a channel drops the headline, naming the file and how to fix it', () => {
    const problems = problemsOf(() => loadTemplates('test/fixtures/templates-no-cta'));
    expect(problems).toContainEqual(
      expect.objectContaining({
        message: 'welcome',
        channel: 'sms',
        file: 'test/fixtures/templates-no-cta/welcome/sms.hbs',
        text: expect.stringContaining(`does not carry the core message's headline "Welcome to the circle"`),
      }),
    );
    expect(problems).toHaveLength(3);
  });

  it('throws one error listing every problem, with a stable code', () => {
    let error: unknown;
    try {
      loadTemplates('test/fixtures/templates-no-cta');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TemplateValidationError);
    expect(error).toMatchObject({ code: 'CHORUS_TEMPLATE_INVALID' });
    expect((error as Error).message).toMatch(/^3 template problems:\n- Message "welcome", channel email: /);
  });

  it('reports every broken template at once: syntax, helpers, partials, files, limits and JSON', () => {
    const problems = checkTemplates(TemplateSet.fromDirectory('test/fixtures/templates-broken'));
    const texts = problems.map((p) => p.text);
    const expected = [
      /^Message "helpers": emial\.text\.hbs is not a channel template/,
      /^Message "helpers", channel push: push\.body\.hbs missing, so push is not supported/,
      /^Message "bad-webhook", channel webhook: .*webhook\.json\.hbs rendered an array, not a JSON object/,
      /^Message "helpers", channel email: .*email\.html\.hbs line 1 calls helper "shout", which does not exist/,
      /^Message "helpers", channel email: .*includes partial "missing-footer", which does not exist/,
      /^Message "long-push", channel push: the push title is 76 characters .* over the 65/,
      /^Message "long-push", channel push: the push body is 279 characters .* over the 240/,
      /^Message "long-sms", channel sms: .*sms\.hbs renders to 6 SMS parts .* more than 3\. It is UCS-2 .* "🍵"/,
      /^Message "syntax", channel email: .*syntax\/email\.subject\.hbs is not a valid template: Parse error on line 1/,
    ];
    expect(texts).toHaveLength(expected.length);
    for (const pattern of expected) expect(texts).toContainEqual(expect.stringMatching(pattern));
    for (const text of texts) expect(text).toContain('To fix:');
  });

  it('names a character that makes an SMS UCS-2, not an accented letter GSM-7 has nor a curly apostrophe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-sms-'));
    try {
      mkdirSync(join(dir, 'cafe'));
      writeFileSync(
        join(dir, 'cafe', 'message.json'),
        JSON.stringify({
          id: 'cafe',
          proposition: 'Our café blends, picked by hand. '.repeat(8),
          headline: 'Tea at Ana’s café 🍵',
          cta: { label: 'Explore', url: 'https://example.com/blends' },
        }),
      );
      writeFileSync(
        join(dir, 'cafe', 'sms.hbs'),
        '{{message.headline}} {{message.proposition}} {{message.cta.url}}',
      );
      const [problem] = checkTemplates(TemplateSet.fromDirectory(dir));
      // "é" is in the GSM 03.38 alphabet, and "’" would go as "'": replacing them would not make the parts longer.
      expect(problem?.text).toContain('because of characters outside GSM-7 such as "🍵"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the SMS segment limit as an option', () => {
    const templates = TemplateSet.fromDirectory('test/fixtures/templates-broken');
    const sms = (max: number) =>
      checkTemplates(templates, { maxSmsSegments: max }).filter((p) => p.channel === 'sms');
    expect(sms(6)).toEqual([]);
    expect(sms(5)).toHaveLength(1);
  });

  it('counts a link that tracking shortens at the length of its short link', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-sms-links-'));
    try {
      const message = (id: string, url: string, text: string) => {
        mkdirSync(join(dir, id));
        writeFileSync(
          join(dir, id, 'message.json'),
          JSON.stringify({ id, proposition: 'Blends.', headline: 'Tea', cta: { label: 'Go', url } }),
        );
        writeFileSync(join(dir, id, 'sms.hbs'), `{{message.headline}} ${text} {{message.cta.url}}`);
      };
      // A long link: two parts as rendered, one once it is a short link.
      message('long-link', `https://yuetea.example.com/${'blends/'.repeat(20)}`, 'Our blends.');
      // A short link in a full text: one part as rendered, two once the short link is longer.
      message('full-text', 'https://ye.tc/b', 'x'.repeat(40));
      const templates = TemplateSet.fromDirectory(dir);
      const over = (options: Parameters<typeof checkTemplates>[1]) =>
        checkTemplates(templates, { maxSmsSegments: 1, ...options })
          .filter((p) => p.channel === 'sms')
          .map((p) => p.message);
      expect(over({})).toEqual(['long-link']);
      expect(over({ trackedSmsLinks: { baseUrl: 'https://chorus.test' } })).toEqual([]);
      const longApi = { baseUrl: `https://chorus.example.com/${'tracking/'.repeat(10)}` };
      const [problem] = checkTemplates(templates, { maxSmsSegments: 1, trackedSmsLinks: longApi });
      expect(problem).toMatchObject({ message: 'full-text', channel: 'sms' });
      expect(problem?.text).toContain('its tracked links counted as the short links sent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checking the size of a push', () => {
  /** A templates folder with one push message, `sale`, whose CTA URL is `length` characters long. */
  function pushWithCta(length: number) {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-push-size-'));
    mkdirSync(join(dir, 'sale'));
    const start = 'https://yuetea.example.com/sale?';
    const url = `${start}${'a'.repeat(length - start.length)}`;
    writeFileSync(
      join(dir, 'sale', 'message.json'),
      JSON.stringify({
        id: 'sale',
        proposition: 'Tea.',
        headline: 'Sale ends tonight',
        cta: { label: 'Go', url },
      }),
    );
    writeFileSync(join(dir, 'sale', 'push.title.hbs'), '{{message.headline}}');
    writeFileSync(join(dir, 'sale', 'push.body.hbs'), 'Every blend at 20% off.');
    return dir;
  }
  const pushProblems = (dir: string, options: Parameters<typeof checkTemplates>[1] = {}) =>
    checkTemplates(TemplateSet.fromDirectory(dir), options).filter((p) => p.channel === 'push');

  it('reports a push over the 4096 bytes FCM takes, naming its files', () => {
    const dir = pushWithCta(4200);
    try {
      const [problem, ...more] = pushProblems(dir);
      expect(more).toEqual([]);
      expect(problem).toMatchObject({
        message: 'sale',
        channel: 'push',
        file: expect.stringMatching(/sale\/push\.body\.hbs$/),
      });
      expect(problem?.text).toMatch(
        /^Message "sale", channel push: the push is \d+ bytes with placeholder values \(title, body, CTA URL and data as sent to FCM\), over the 4096 FCM takes, so every send of it would fail \(.*push\.title\.hbs and .*push\.body\.hbs\)\. To fix: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts the CTA as the tracked link it becomes when links are tracked', () => {
    // Within the limit as rendered; over it once the link carries its whole URL in a token.
    const dir = pushWithCta(3300);
    try {
      expect(pushProblems(dir)).toEqual([]);
      const [problem] = pushProblems(dir, { trackedSmsLinks: { baseUrl: 'https://chorus.test' } });
      expect(problem?.text).toContain('with placeholder values, its links tracked (title, body');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checking the brand layout', () => {
  it('reports a layout that escapes the body, naming it, rather than every email it breaks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-layout-'));
    try {
      cpSync('templates', dir, { recursive: true });
      writeFileSync(
        join(dir, '_brand', 'layout.html.hbs'),
        '<html>\n<body>\n{{#if message.brand}}<p>{{message.brand}}</p>{{/if}}\n{{body}}\n</body>\n</html>',
      );
      const templates = TemplateSet.fromDirectory(dir);
      const problems = checkTemplates(templates);
      expect(problems).toEqual([
        {
          file: templates.partials.get('layout.html')!.path,
          text: `Brand layout: ${templates.partials.get('layout.html')!.path} line 4 writes {{body}}, which escapes the email's HTML, so every email shows its tags as text. To fix: write {{{body}}}.`,
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a layout that never writes the body, and takes one whose partial writes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-layout-'));
    try {
      cpSync('templates', dir, { recursive: true });
      const layout = join(dir, '_brand', 'layout.html.hbs');
      writeFileSync(layout, '<html><body><p>{{message.brand}}</p></body></html>');
      const templates = TemplateSet.fromDirectory(dir);
      const path = templates.partials.get('layout.html')!.path;
      expect(checkTemplates(templates)).toEqual([
        {
          file: path,
          text: `Brand layout: ${path} never writes {{{body}}}, so every email is the layout alone, without its message. To fix: write {{{body}}} where the message goes.`,
        },
      ]);
      writeFileSync(layout, '<html><body>{{> content}}</body></html>');
      writeFileSync(join(dir, '_brand', 'content.hbs'), '<div>{{{body}}}</div>');
      expect(checkTemplates(TemplateSet.fromDirectory(dir))).toEqual([]);
      writeFileSync(
        join(dir, '_brand', 'layout.text.hbs'),
        '{{message.brand}}\n\nUnsubscribe: {{unsubscribeUrl}}',
      );
      const text = TemplateSet.fromDirectory(dir).partials.get('layout.text')!.path;
      expect(checkTemplates(TemplateSet.fromDirectory(dir))).toEqual([
        {
          file: text,
          text: `Brand layout: ${text} never writes {{body}}, so every email's text part is the layout alone, without its message. To fix: write {{body}} where the message goes.`,
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checking a helper whose argument the placeholder customer lacks', () => {
  function emailTemplates(subject: string): { templates: TemplateSet; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-currency-'));
    mkdirSync(join(dir, 'receipt'));
    writeFileSync(
      join(dir, 'receipt', 'message.json'),
      JSON.stringify({
        id: 'receipt',
        proposition: 'Your order is on its way',
        headline: 'Order confirmed',
        cta: { label: 'Track it', url: 'https://example.com/orders' },
      }),
    );
    writeFileSync(join(dir, 'receipt', 'email.subject.hbs'), subject);
    writeFileSync(
      join(dir, 'receipt', 'email.html.hbs'),
      '<p>{{message.headline}}</p><a href="{{message.cta.url}}">Track it</a>',
    );
    return { templates: TemplateSet.fromDirectory(dir), dir };
  }

  it('reports a misspelt currency code written in the template, with its line and fix', () => {
    // Sends no longer fail on a code they cannot use (it may come from data), so the template's
    // own code is checked here: "EURO" is no code, "EUO" is one in form that ISO 4217 lacks.
    const { templates, dir } = emailTemplates(
      '{{message.headline}}: {{currency trigger.total "EURO"}}\n{{#if trigger.total}}{{currency trigger.total "EUO"}}{{/if}}',
    );
    try {
      const file = templates.template('receipt', 'email.subject')!.path;
      expect(checkTemplates(templates)).toEqual([
        {
          message: 'receipt',
          channel: 'email',
          file,
          text: `Message "receipt", channel email: ${file} line 1: currency "EURO" is not a three-letter ISO 4217 code such as "EUR" or "USD". To fix: write the code (https://www.iso.org/iso-4217-currency-codes.html), or take it from the event's data.`,
        },
        expect.objectContaining({
          file,
          text: expect.stringContaining(`${file} line 2: currency "EUO" is not`) as unknown,
        }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a valid currency code, and formats the amount with it', () => {
    const { templates, dir } = emailTemplates('{{message.headline}}: {{currency trigger.total "EUR"}}');
    try {
      expect(checkTemplates(templates)).toEqual([]);
      const email = new MessageRenderer(templates).render(
        'receipt',
        'email',
        renderContext(templates.message('receipt')!, { trigger: { total: 12.5 } }),
      );
      expect(email.subject).toBe('Order confirmed: €12.50');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checking templates against journeys', () => {
  const templates = TemplateSet.fromDirectory('test/fixtures/templates-undeclared');

  it('fails for a variable without a fallback that the journey does not declare, naming journey, state and variable', () => {
    const problems = checkTemplatesForJourneys(templates, [greeter(['email'])]);
    expect(problems).toContainEqual({
      journey: 'greet@2',
      state: 'hello',
      message: 'welcome',
      channel: 'email',
      file: 'test/fixtures/templates-undeclared/welcome/email.html.hbs',
      variable: 'profile.age',
      text:
        'Journey "greet@2", state "hello": message "welcome" on email reads profile.age in ' +
        "test/fixtures/templates-undeclared/welcome/email.html.hbs line 3, which the journey's profile schema does not declare. " +
        `To fix: declare it in the journey's profile schema, or write {{default profile.age "…"}} (or wrap it in {{#if profile.age}}).`,
    });
  });

  it('follows with, each and partials to the variable they read', () => {
    const problems = checkTemplatesForJourneys(templates, [greeter(['email'])]);
    expect(problems.map((p) => [p.variable, p.file?.split('/').slice(-2).join('/')])).toEqual([
      ['profile.age', 'welcome/email.html.hbs'],
      ['trigger.coupon.code', 'welcome/email.html.hbs'],
      ['event.properties.items[].name', 'welcome/email.html.hbs'],
      ['message.brand', 'welcome/email.html.hbs'],
      ['data.signature', '_brand/signoff.hbs'],
    ]);
    expect(problems[1]?.text).toContain('reads trigger.coupon.code (written code)');
    expect(problems[3]?.text).toContain(
      'To fix: declare "brand" in test/fixtures/templates-undeclared/welcome/message.json',
    );
  });

  it('accepts variables with a fallback, in an #if or #with on them, or declared by the journey', () => {
    const journey = defineJourney({
      id: 'greet',
      version: 3,
      trigger: {
        event: 'Signed Up',
        properties: z.object({ plan: z.string(), coupon: z.object({ code: z.string() }).optional() }),
      },
      profile: z.object({ age: z.number() }).loose(),
      events: { 'Cart Viewed': z.object({ items: z.array(z.object({ name: z.string() })) }) },
      data: z.object({ signature: z.string().default('The Chorus team') }),
      machine: (j) =>
        j.createMachine({
          initial: 'hello',
          on: { 'Cart Viewed': '.hello' },
          states: { hello: { tags: 'awareness', entry: j.send('welcome', ['email']) } },
        }),
    });
    // Left: message.brand, which this message does not declare.
    expect(checkTemplatesForJourneys(templates, [journey]).map((p) => p.variable)).toEqual(['message.brand']);
  });

  it('fails for a trait the journey declares nullable or optional, read without a fallback', () => {
    const journey = (age: z.ZodType) =>
      defineJourney({
        id: 'greet',
        version: 4,
        trigger: {
          event: 'Signed Up',
          properties: z.object({ plan: z.string(), coupon: z.object({ code: z.string() }).optional() }),
        },
        profile: z.object({ age }),
        events: { 'Cart Viewed': z.object({ items: z.array(z.object({ name: z.string() })) }) },
        data: z.object({ signature: z.string().default('The Chorus team') }),
        machine: (j) =>
          j.createMachine({
            initial: 'hello',
            states: { hello: { tags: 'awareness', entry: j.send('welcome', ['email']) } },
          }),
      });
    for (const age of [z.number().nullable(), z.number().optional(), z.number().nullish().readonly()]) {
      const problems = checkTemplatesForJourneys(templates, [journey(age)]);
      expect(problems.map((p) => p.variable)).toEqual(['profile.age', 'message.brand']);
      expect(problems[0]?.text).toBe(
        'Journey "greet@4", state "hello": message "welcome" on email reads profile.age in ' +
          'test/fixtures/templates-undeclared/welcome/email.html.hbs line 3 without a fallback, and profile.age may be missing: ' +
          'it is optional, nullable, filled in by a default (templates read the traits as stored, which a default ' +
          "does not change) or not a declared field in the journey's profile schema. " +
          `To fix: write {{default profile.age "…"}} or wrap it in {{#if profile.age}}, or make it required in the journey's profile schema.`,
      );
    }
  });

  it('fails for a trait whose schema has a default: templates read the traits as stored, which a default does not fill', () => {
    const journey = (age: z.ZodType) =>
      defineJourney({
        id: 'greet',
        version: 5,
        trigger: {
          event: 'Signed Up',
          properties: z.object({ plan: z.string(), coupon: z.object({ code: z.string() }).optional() }),
        },
        profile: z.object({ age }),
        events: { 'Cart Viewed': z.object({ items: z.array(z.object({ name: z.string() })) }) },
        data: z.object({ signature: z.string().default('The Chorus team') }),
        machine: (j) =>
          j.createMachine({
            initial: 'hello',
            states: { hello: { tags: 'awareness', entry: j.send('welcome', ['email']) } },
          }),
      });
    // What a customer who never sent the trait gets: the delivery worker renders the stored traits.
    const message = templates.message('welcome')!;
    const html = new MessageRenderer(templates).render(
      'welcome',
      'email',
      renderContext(message, { trigger: { plan: 'pro' }, data: { signature: 'The Chorus team' } }),
    ).html;
    expect(html).toContain('<p>You are .</p>');
    for (const age of [z.number().default(30), z.number().optional().default(30), z.number().catch(30)]) {
      const problems = checkTemplatesForJourneys(templates, [journey(age)]);
      expect(problems.map((p) => p.variable)).toEqual(['profile.age', 'message.brand']);
      expect(problems[0]?.text).toContain(
        'reads profile.age in test/fixtures/templates-undeclared/welcome/email.html.hbs line 3 without a fallback, ' +
          'and profile.age may be missing: it is optional, nullable, filled in by a default (templates read the ' +
          'traits as stored, which a default does not change) or not a declared field',
      );
    }
    // The journey's data is stored as its schema parsed it, defaults filled in: signature is there.
    expect(checkTemplatesForJourneys(templates, [journey(z.number())]).map((p) => p.variable)).toEqual([
      'message.brand',
    ]);
  });

  it('tells once of a send that several arms of a guard make on a channel the message has no templates for', () => {
    const journey = defineJourney({
      id: 'guarded',
      version: 1,
      trigger: { event: 'Signed Up' },
      profile: z.object({ vip: z.boolean().optional() }),
      events: { Go: z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'hello',
          states: {
            hello: {
              tags: 'awareness',
              on: {
                Go: [
                  {
                    guard: ({ context }) => context.profile.vip === true,
                    target: 'done',
                    actions: j.send('welcome', ['sms']),
                  },
                  { target: 'done', actions: j.send('welcome', ['sms']) },
                ],
              },
            },
            done: { tags: 'awareness', type: 'final' },
          },
        }),
    });
    expect(checkTemplatesForJourneys(templates, [journey]).map((problem) => problem.text)).toEqual([
      expect.stringMatching(
        /^Journey "guarded@1", state "hello": message "welcome" on sms has no sms templates/,
      ),
    ]);
  });

  it('fails for a send on a channel the message has no templates for', () => {
    const problems = checkTemplatesForJourneys(templates, [greeter(['sms'])]);
    expect(problems).toEqual([
      expect.objectContaining({
        journey: 'greet@2',
        state: 'hello',
        message: 'welcome',
        channel: 'sms',
        text: expect.stringMatching(/on sms has no sms templates \(the message supports email\)\. To fix:/),
      }),
    ]);
  });

  it('fails for a send on webhook of a message that declares no webhook URL, naming its message.json', () => {
    const thanks = defineJourney({
      id: 'thanks',
      version: 1,
      trigger: { event: 'Order Completed' },
      machine: (j) =>
        j.createMachine({
          initial: 'thanked',
          states: { thanked: { tags: 'loyalty', entry: j.send('thank-you', ['webhook', 'email']) } },
        }),
    });
    const problems = checkTemplatesForJourneys(TemplateSet.fromDirectory('templates'), [thanks]);
    expect(problems.filter((p) => p.channel === 'webhook')).toEqual([
      {
        journey: 'thanks@1',
        state: 'thanked',
        message: 'thank-you',
        channel: 'webhook',
        file: 'templates/thank-you/message.json',
        text:
          'Journey "thanks@1", state "thanked": message "thank-you" on webhook: templates/thank-you/message.json declares no webhook URL, ' +
          'so every such send is skipped, the customer having no webhook address. To fix: add "webhook": { "url": "https://…" } to it, or send on another channel.',
      },
    ]);
  });

  it('checks the sends of transitions on the machine itself, which any state takes', () => {
    const journey = defineJourney({
      id: 'greet',
      version: 6,
      trigger: { event: 'Signed Up', properties: z.object({ plan: z.string() }) },
      profile: z.object({ firstName: z.string().optional() }),
      events: { 'Cart Viewed': z.object({}) },
      machine: (j) =>
        j.createMachine({
          initial: 'hello',
          on: { 'Cart Viewed': { target: '.viewed', actions: j.send('welcome', ['email', 'sms']) } },
          states: { hello: { tags: 'awareness' }, viewed: { tags: 'consideration' } },
        }),
    });
    const problems = checkTemplatesForJourneys(templates, [journey]);
    expect(problems.map((p) => [p.state, p.channel, p.variable])).toEqual([
      ['(root)', 'email', 'profile.age'],
      ['(root)', 'email', 'trigger.coupon.code'],
      ['(root)', 'email', 'event.properties.items[].name'],
      ['(root)', 'email', 'message.brand'],
      ['(root)', 'email', 'data.signature'],
      ['(root)', 'sms', undefined],
    ]);
    expect(problems[0]?.text).toMatch(
      /^Journey "greet@6", state "\(root\)": message "welcome" on email reads profile\.age/,
    );
  });

  it('fails loading when given the journeys', () => {
    const problems = problemsOf(() =>
      loadTemplates('test/fixtures/templates-undeclared', { journeys: [greeter(['email'])] }),
    );
    expect(problems.map((p) => p.variable)).toContain('profile.age');
  });
});

describe('variables that may be missing', () => {
  const templates = TemplateSet.fromDirectory('test/fixtures/templates-optional');
  const journey = defineJourney({
    id: 'traits',
    version: 1,
    trigger: { event: 'Signed Up' },
    profile: z
      .object({
        firstName: z.string().optional(),
        nickname: z.string().nullable(),
        address: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
      })
      .loose(),
    machine: (j) =>
      j.createMachine({
        initial: 'hello',
        states: { hello: { tags: 'awareness', entry: j.send('welcome', ['email', 'webhook']) } },
      }),
  });
  const problems = checkTemplatesForJourneys(templates, [journey]);
  const about = (variable: string) => problems.find((p) => p.variable === variable)?.text;

  it('need a fallback: optional and undeclared traits, undeclared trigger properties and variants', () => {
    // Accepted: default's and json's argument, and a field under an #if on the part that may be missing.
    expect(problems.map((p) => [p.variable, p.channel])).toEqual([
      ['profile.firstName', 'email'],
      ['profile.address.zip', 'email'],
      ['profile.vip', 'email'],
      ['trigger.coupon', 'email'],
      ['variants.tips', 'email'],
    ]);
  });

  it('are named with the guard that would do, at the part of the path that may be missing', () => {
    expect(about('profile.firstName')).toMatch(
      /reads profile\.firstName in .*email\.html\.hbs line 2 without a fallback, and profile\.firstName may be missing: .* To fix: write \{\{default profile\.firstName "…"\}\} or wrap it in \{\{#if profile\.firstName\}\}, or make it required in the journey's profile schema\.$/,
    );
    expect(about('profile.address.zip')).toContain('and profile.address.zip may be missing');
    expect(about('profile.vip')).toContain(
      'profile.vip may be missing: it is optional, nullable, filled in by a default',
    );
    expect(about('variants.tips')).toContain(
      'and variants.tips is missing until the customer passes that split.',
    );
  });

  it('name the journey that declares no trigger properties, and how to declare them', () => {
    expect(about('trigger.coupon')).toBe(
      'Journey "traits@1", state "hello": message "welcome" on email reads trigger.coupon in ' +
        'test/fixtures/templates-optional/welcome/email.html.hbs line 5 without a fallback, ' +
        'but journey "traits@1" declares no trigger properties, so every trigger.* may be missing. ' +
        'To fix: write {{default trigger.coupon "…"}} or wrap it in {{#if trigger.coupon}}, or declare the ' +
        "trigger's properties in defineJourney(): trigger: { event: 'Signed Up', properties: z.object({ coupon: … }) }.",
    );
  });

  it('are accepted once declared required', () => {
    const declared = defineJourney({
      id: 'traits',
      version: 2,
      trigger: { event: 'Signed Up', properties: z.object({ plan: z.string(), coupon: z.string() }) },
      profile: z.object({
        firstName: z.string(),
        nickname: z.string().nullable(),
        address: z.object({ city: z.string(), zip: z.string() }).optional(),
        vip: z.boolean(),
      }),
      machine: (j) =>
        j.createMachine({
          initial: 'hello',
          states: { hello: { tags: 'awareness', entry: j.send('welcome', ['email']) } },
        }),
    });
    expect(checkTemplatesForJourneys(templates, [declared]).map((p) => p.variable)).toEqual([
      'variants.tips',
    ]);
  });
});

describe('the values of a record, read in an #each over it', () => {
  it('are there, while a key read by name may be missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-record-'));
    try {
      mkdirSync(join(dir, 'totals'));
      writeFileSync(
        join(dir, 'totals', 'message.json'),
        JSON.stringify({
          id: 'totals',
          proposition: 'Your month in tea',
          headline: 'Your month',
          cta: { label: 'See it', url: 'https://example.com/month' },
        }),
      );
      writeFileSync(join(dir, 'totals', 'email.subject.hbs'), '{{message.headline}}');
      writeFileSync(
        join(dir, 'totals', 'email.html.hbs'),
        [
          '<h1>{{message.headline}}</h1><a href="{{message.cta.url}}">See it</a>',
          '{{#each trigger.spent}}<p>{{@key}}: {{currency this @key}}</p>{{/each}}',
          '{{#each variants as |variant split|}}<p>{{split}}={{variant}}</p>{{/each}}',
          '<p>{{trigger.spent.EUR}}</p>',
        ].join('\n'),
      );
      const journey = defineJourney({
        id: 'monthly',
        version: 1,
        trigger: { event: 'Month Closed', properties: z.object({ spent: z.record(z.string(), z.number()) }) },
        machine: (j) =>
          j.createMachine({
            initial: 'report',
            states: { report: { tags: 'loyalty', entry: j.send('totals', ['email']) } },
          }),
      });
      const problems = checkTemplatesForJourneys(TemplateSet.fromDirectory(dir), [journey]);
      expect(problems.map((p) => [p.variable, p.text.match(/line \d+/)?.[0]])).toEqual([
        ['trigger.spent.EUR', 'line 4'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a core message hidden behind a condition', () => {
  const templates = TemplateSet.fromDirectory('test/fixtures/templates-variants');
  const tasting = defineJourney({
    id: 'tasting',
    version: 1,
    trigger: { event: 'Signed Up' },
    profile: z.object({ firstName: z.string().optional() }),
    machine: (j) =>
      j.createMachine({
        initial: 'start',
        states: {
          start: {
            tags: 'awareness',
            always: j.split('cta-test', {
              a: { weight: 50, target: 'offered' },
              holdout: { weight: 50, target: 'quiet' },
            }),
          },
          offered: { tags: 'consideration', entry: j.send('offer', ['email', 'sms', 'push']) },
          quiet: { tags: 'consideration', type: 'final' },
        },
      }),
  });
  const problems = checkTemplates(templates, { journeys: [tasting] });
  const texts = problems.map((p) => p.text);

  it('is reported for a customer without optional traits, naming message, channel and the fix', () => {
    expect(problems).toContainEqual({
      message: 'offer',
      channel: 'sms',
      file: 'test/fixtures/templates-variants/offer/sms.hbs',
      variant: 'control, cta-test=a, cta-test=holdout',
      text:
        'Message "offer", channel sms, for a customer without optional traits: the body does not carry ' +
        `the core message's headline "Your tasting set is ready" (test/fixtures/templates-variants/offer/sms.hbs). ` +
        'To fix: include {{message.headline}}, or declare a shorter "keyPhrase" in message.json and write it in the template. ' +
        'Other renderings have it, so a condition hides it: move it out of the {{#if}}, {{#unless}} or {{#with}} ' +
        'on a trait or variant, so that every customer in every variant gets it.',
    });
  });

  it('is reported for the variant that lacks it, in every part that lacks it', () => {
    expect(problems.filter((p) => p.channel === 'email')).toEqual([
      expect.objectContaining({
        variant: 'control',
        file: 'test/fixtures/templates-variants/offer/email.html.hbs',
      }),
      expect.objectContaining({ variant: 'control' }),
    ]);
    expect(texts).toContainEqual(
      expect.stringMatching(
        /^Message "offer", channel email, in variant control: the HTML does not link to the CTA URL https:\/\/example\.com\/tasting .* To fix: link to \{\{message\.cta\.url\}\}, .* Other renderings have it/,
      ),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(
        /^Message "offer", channel email, in variant control: the text part \(derived from the HTML\) does not link/,
      ),
    );
    // Push carries the headline whatever the customer and variant.
    expect(problems.filter((p) => p.channel === 'push')).toEqual([]);
    expect(problems).toHaveLength(3);
  });

  it('is reported plainly when no rendering has it, and per variant only for journeys that split', () => {
    const alone = checkTemplates(templates);
    expect(alone.filter((p) => p.channel === 'email').map((p) => [p.variant, p.text.split(':')[0]])).toEqual([
      [undefined, 'Message "offer", channel email'],
      [undefined, 'Message "offer", channel email'],
    ]);
    expect(alone.find((p) => p.channel === 'sms')?.text).toMatch(
      /^Message "offer", channel sms, for a customer without optional traits: /,
    );
  });

  it('fails loading with the journeys that send it', () => {
    const problems = problemsOf(() =>
      loadTemplates('test/fixtures/templates-variants', { journeys: [tasting] }),
    );
    expect(problems.map((p) => [p.channel, p.variant])).toEqual([
      ['email', 'control'],
      ['email', 'control'],
      ['sms', 'control, cta-test=a, cta-test=holdout'],
    ]);
  });
});

describe('a core message only where no reader sees it', () => {
  /** A folder with one message `m` whose email HTML body is `html`; the text part carries everything. */
  function emailProblems(html: string): TemplateProblem[] {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-unseen-'));
    try {
      mkdirSync(join(dir, 'm'));
      writeFileSync(
        join(dir, 'm', 'message.json'),
        JSON.stringify({
          id: 'm',
          proposition: 'Tea for you.',
          headline: 'Fresh blends are here',
          cta: { label: 'Shop now', url: 'https://example.com/shop' },
        }),
      );
      writeFileSync(join(dir, 'm', 'email.subject.hbs'), '{{message.headline}}');
      writeFileSync(join(dir, 'm', 'email.text.hbs'), '{{message.headline}}\n{{message.cta.url}}\n');
      writeFileSync(join(dir, 'm', 'email.html.hbs'), html);
      return checkTemplates(TemplateSet.fromDirectory(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const headline = '<h1>{{message.headline}}</h1>';
  const link = '<a href="{{message.cta.url}}">{{message.cta.label}}</a>';

  it("passes a CTA link to one of the CTA page's sections (a #fragment)", () => {
    expect(emailProblems(`${headline}<p><a href="{{message.cta.url}}#pricing">See prices</a></p>`)).toEqual(
      [],
    );
  });

  it('passes a headline and CTA a reader sees, beside a hidden preheader and comments', () => {
    expect(
      emailProblems(
        `<div style="display:none"><div>{{message.proposition}}</div></div>${headline}<!-- a note --><p>${link}</p>`,
      ),
    ).toEqual([]);
  });

  it.each([
    ['in an HTML comment', `${headline}<!-- ${link} -->`],
    [
      'on a link hidden by display: none',
      `${headline}<a style="color: red; display: none" href="{{message.cta.url}}">x</a>`,
    ],
    ['inside a hidden element', `${headline}<div hidden><p>${link}</p></div>`],
    ['inside an element Outlook hides', `${headline}<div style="mso-hide:all;"><div>${link}</div></div>`],
    [
      'as the href of a tag other than a link',
      `<link rel="canonical" href="{{message.cta.url}}">${headline}`,
    ],
    ['in a style block', `${headline}<style>/* {{message.cta.url}} */</style>`],
    ['on a link with nothing in it', `${headline}<p><a href="{{message.cta.url}}"></a></p>`],
    [
      'on a link whose label rendered empty',
      `${headline}<a href="{{message.cta.url}}"> <span>{{#if profile.shopLabel}}Shop{{/if}}</span> &nbsp;&zwnj;</a>`,
    ],
    [
      'on a link whose label is hidden',
      `${headline}<a href="{{message.cta.url}}"><span style="display:none">Shop</span></a>`,
    ],
  ])('fails for a CTA only %s, saying why it does not count', (_where, html) => {
    expect(emailProblems(html).map((p) => p.text)).toEqual([
      expect.stringMatching(
        /^Message "m", channel email: the HTML does not link to the CTA URL https:\/\/example\.com\/shop \(.*email\.html\.hbs\)(: it is there only where no reader sees it \(a comment, the head, a hidden element, a tag other than <a> or a link with nothing in it to click\), which does not count)?\. To fix: link to \{\{message\.cta\.url\}\}/,
      ),
    ]);
  });

  it('passes a CTA link drawn as an image or an icon', () => {
    for (const inner of ['<img src="https://example.com/b.png" alt="">', '<svg width="9"></svg>']) {
      expect(emailProblems(`${headline}<p><a href="{{message.cta.url}}">${inner}</a></p>`)).toEqual([]);
    }
  });

  it('fails for a headline only in a hidden preheader, saying it is hidden', () => {
    expect(
      emailProblems(`<div style="display: none; max-height: 0">{{message.headline}}</div><p>${link}</p>`),
    ).toEqual([
      expect.objectContaining({
        text: expect.stringContaining(
          `the HTML does not carry the core message's headline "Fresh blends are here"`,
        ),
      }),
    ]);
    expect(
      emailProblems(`<div style="display: none"><div></div>{{message.headline}}</div><p>${link}</p>`)[0]
        ?.text,
    ).toContain(': it is there only where no reader sees it (a hidden element), which does not count.');
  });

  it('fails for a headline only in a preheader cut to no height, or transparent', () => {
    for (const style of ['max-height: 0; overflow: hidden', 'opacity:0']) {
      expect(emailProblems(`<div style="${style}">{{message.headline}}</div><p>${link}</p>`)).toEqual([
        expect.objectContaining({
          text: expect.stringContaining(': it is there only where no reader sees it (a hidden element)'),
        }),
      ]);
    }
  });

  it('passes a headline after a hidden element left open, once the element around it ends', () => {
    expect(
      emailProblems(
        `<table><tr><td><div style="display:none">preheader</td></tr></table>${headline}<p>${link}</p>`,
      ),
    ).toEqual([]);
  });

  it('passes a headline beside a responsive column wrapper that sets no font size (font-size: 0)', () => {
    expect(
      emailProblems(
        `<div style="font-size:0"><div style="font-size:16px">${headline}<p>${link}</p></div></div>`,
      ),
    ).toEqual([]);
  });

  it('fails for a headline found only inside a longer word', () => {
    expect(emailProblems(`<h1>Refresh blends are heresy</h1><p>${link}</p>`).map((p) => p.text)).toEqual([
      expect.stringContaining(`the HTML does not carry the core message's headline "Fresh blends are here"`),
    ]);
  });
});
