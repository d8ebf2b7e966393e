import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewMessage } from '../../engine/cli/preview-message.js';
import { parseTestAddress, sendTestEmail } from '../../engine/cli/send-test.js';
import { SendTestError } from '../../engine/cli/cli-errors.js';
import {
  createEmailAdapter,
  InvalidInputError,
  MessageRenderError,
  TemplateSet,
  verifyUnsubscribeToken,
} from '../../engine/index.js';
import { header, startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const templates = TemplateSet.fromDirectory('test/fixtures/cli/templates');
const settings = {
  defaults: { locale: 'en-US', timezone: 'UTC' },
  unsubscribe: { baseUrl: 'https://api.example.com', secret: 'a-secret-of-sixteen-chars' },
  doubleOptIn: false,
};
const now = Date.parse('2026-02-01T00:00:00Z');

describe('previewMessage', () => {
  it('renders one message for one profile, with a working unsubscribe link', () => {
    const { rendered, context } = previewMessage(templates, 'nudge', 'sms', {
      customerId: 'ada',
      profile: { firstName: 'Ada' },
      settings,
      now,
    });
    expect(rendered).toMatchObject({
      channel: 'sms',
      body: expect.stringMatching(
        /^Hi Ada! Still looking for your blend\? https:\/\/example\.com\/quiz\?utm_source=chorus&utm_medium=sms/,
      ),
      segments: 1,
    });
    const token = new URL(context.unsubscribeUrl).searchParams.get('token')!;
    expect(verifyUnsubscribeToken(settings.unsubscribe.secret, token, now)).toMatchObject({
      customerId: 'ada',
    });
  });

  it('renders in the default locale and zone when the traits name none that exists', () => {
    const { context } = previewMessage(templates, 'welcome', 'email', {
      customerId: 'lena',
      profile: { locale: 'German (Germany)', timezone: 'China Standard Time' },
      settings: { ...settings, defaults: { locale: 'de-DE', timezone: 'Asia/Shanghai' } },
      now,
    });
    expect(context).toMatchObject({ locale: 'de-DE', timezone: 'Asia/Shanghai' });
    const valid = previewMessage(templates, 'welcome', 'email', {
      customerId: 'lena',
      profile: { locale: 'fr-CA', timezone: 'America/Toronto' },
      settings,
      now,
    });
    expect(valid.context).toMatchObject({ locale: 'fr-CA', timezone: 'America/Toronto' });
  });

  it('reads a locale written as iOS, Android and Java write it, with an underscore', () => {
    const localeOf = (locale: string) =>
      previewMessage(templates, 'welcome', 'email', {
        customerId: 'lena',
        profile: { locale },
        settings: { ...settings, defaults: { locale: 'en-US', timezone: 'UTC' } },
        now,
      }).context.locale;
    expect(['de_DE', 'pt_BR', 'zh_Hant_TW', 'de_DE.UTF-8', ' fr_ca ', 'sr_RS@latin'].map(localeOf)).toEqual([
      'de-DE',
      'pt-BR',
      'zh-Hant-TW',
      'de-DE',
      'fr-CA',
      'sr-RS',
    ]);
  });

  it('names the messages there are when asked for one that is not', () => {
    const preview = () =>
      previewMessage(templates, 'welcom', 'email', { customerId: 'a', profile: {}, settings, now });
    expect(preview).toThrow(MessageRenderError);
    expect(preview).toThrow(
      'Message "welcom" is not in test/fixtures/cli/templates/ (it has nudge, welcome).',
    );
  });

  it('says which channels a message supports when asked for another', () => {
    expect(() =>
      previewMessage(templates, 'welcome', 'push', { customerId: 'a', profile: {}, settings, now }),
    ).toThrow(/has no push templates \(it supports email\)/);
  });
});

describe('parseTestAddress', () => {
  it('takes one plain address', () => {
    expect(parseTestAddress('ada.lovelace+test@example.co.uk')).toBe('ada.lovelace+test@example.co.uk');
  });

  it.each([
    ['a header smuggled after a line break', 'ada@example.com\r\nBcc: everyone@example.com'],
    ['a list of recipients', 'ada@example.com,bo@example.com'],
    ['a display name', 'Ada <ada@example.com>'],
    ['a quoted local part', '"a b"@example.com'],
    ['no domain', 'ada@'],
    ['an address too long to be real', `${'a'.repeat(250)}@example.com`],
  ])('refuses %s, naming --to', (_what, to) => {
    expect(() => parseTestAddress(to)).toThrow(InvalidInputError);
    expect(() => parseTestAddress(to)).toThrow(
      /^Invalid send-test address: --to: ".*" is refused: expected /,
    );
  });
});

describe('sendTestEmail', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  const send = async (to: string) => {
    const { rendered, context } = previewMessage(templates, 'welcome', 'email', {
      customerId: 'send-test',
      profile: { firstName: 'Ada', email: to },
      settings,
      now,
    });
    const adapter = createEmailAdapter({
      from: 'Chorus Tea <hello@chorus.test>',
      smtpUrl: sink.url,
      maxConnections: 1,
    });
    try {
      return await sendTestEmail({
        adapter,
        messageId: 'welcome',
        to,
        rendered,
        unsubscribeUrl: context.unsubscribeUrl,
      });
    } finally {
      await adapter.close?.();
    }
  };

  it('sends the rendered message through SMTP and says what the server answered', async () => {
    sink.reset();
    const sent = await send('ada@example.com');
    expect(sent).toEqual({ provider: 'smtp', where: expect.stringMatching(/^250 /) });
    expect(sink.received).toHaveLength(1);
    const mail = sink.received[0]!;
    expect(mail.to).toMatchObject({ text: 'ada@example.com' });
    expect(mail.subject).toBe('Welcome to the circle, Ada');
    expect(mail.text).toContain('Hi Ada, Tea that fits your day.');
    expect(header(mail, 'x-chorus-journey')).toBe('send-test');
    expect(header(mail, 'list-unsubscribe')).toMatch(
      /^<https:\/\/api\.example\.com\/v1\/unsubscribe\?token=/,
    );
  });

  it('fails with the server’s answer when it refuses the message', async () => {
    sink.reset();
    sink.answers = [550];
    const error = await send('ada@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendTestError);
    expect(error).toMatchObject({ code: 'CHORUS_SEND_TEST_FAILED', retryable: false });
    expect((error as Error).message).toMatch(
      /^The test send failed: SMTP server refused: 550 Mailbox unavailable/,
    );
  });
});
