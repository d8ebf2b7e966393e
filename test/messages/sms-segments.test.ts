import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageRenderer } from '../../engine/messages/message-renderer.js';
import { isGsm7, smsSegments } from '../../engine/messages/sms-segments.js';
import { TemplateSet } from '../../engine/messages/template-set.js';
import { renderContext } from './render-context.js';

describe('SMS segments', () => {
  it('fits 160 GSM-7 characters in one message and needs two parts for 161', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts the extension characters of GSM 03.38 as two septets', () => {
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('€'.repeat(80) + '[')).toEqual({ encoding: 'GSM-7', units: 162, segments: 2 });
  });

  it('never splits an escaped extension character between two parts', () => {
    // 306 septets would fit two parts of 153, but the escape of "€" cannot end the first.
    expect(smsSegments('a'.repeat(152) + '€' + 'a'.repeat(152)).segments).toBe(3);
  });

  it('keeps accented letters of the GSM alphabet in GSM-7', () => {
    expect(isGsm7('Café für Åsa, ¿qué tal? £5 @ 10%')).toBe(true);
  });

  it('switches the whole message to UCS-2 for an emoji, counting UTF-16 code units', () => {
    expect(smsSegments('Your tea is ready 🍵')).toEqual({ encoding: 'UCS-2', units: 20, segments: 1 });
    expect(smsSegments('a'.repeat(69) + '🍵')).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSegments('é'.repeat(70)).encoding).toBe('GSM-7');
    expect(smsSegments('ç'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments('ç'.repeat(71)).segments).toBe(2);
  });

  it('never splits a surrogate pair between two parts', () => {
    // 134 code units would fit two parts of 67, but the emoji cannot straddle them.
    expect(smsSegments('ç'.repeat(66) + '🍵' + 'ç'.repeat(66)).segments).toBe(3);
  });
});

describe('an SMS with a price or count in the customer locale', () => {
  it('stays GSM-7: the no-break spaces Intl writes in "12,50 €" and "1 234" are sent as spaces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-sms-locale-'));
    try {
      mkdirSync(join(dir, 'sale'));
      writeFileSync(
        join(dir, 'sale', 'message.json'),
        JSON.stringify({
          id: 'sale',
          proposition: 'Spring teas, picked by hand',
          headline: 'Spring sale',
          cta: { label: 'Shop', url: 'https://example.com/sale' },
        }),
      );
      writeFileSync(
        join(dir, 'sale', 'sms.hbs'),
        '{{message.headline}}: {{currency trigger.price "EUR"}}, {{plural trigger.stock "tin" "tins"}} left. {{message.cta.url}}',
      );
      const templates = TemplateSet.fromDirectory(dir);
      const renderer = new MessageRenderer(templates);
      const trigger = { price: 1234.5, stock: 1500 };
      for (const locale of ['de-DE', 'fr-FR', 'sv-SE']) {
        const sms = renderer.render(
          'sale',
          'sms',
          renderContext(templates.message('sale')!, { trigger, locale }),
        );
        expect(sms.encoding).toBe('GSM-7');
        expect(sms.segments).toBe(1);
        expect(sms.body).not.toMatch(/[\u00A0\u2007\u202F]/);
      }
      const german = renderer.render(
        'sale',
        'sms',
        renderContext(templates.message('sale')!, { trigger, locale: 'de-DE' }),
      );
      expect(german.body).toMatch(
        /^Spring sale: 1\.234,50 €, 1\.500 tins left\. https:\/\/example\.com\/sale\?/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an SMS with typographic punctuation in a trait', () => {
  const templates = TemplateSet.fromDirectory('templates');
  const renderer = new MessageRenderer(templates);
  const nudge = (firstName: string) =>
    renderer.render('nudge', 'sms', renderContext(templates.message('nudge')!, { profile: { firstName } }));

  it('stays GSM-7: curly quotes, dashes and an ellipsis (an iPhone types O’Brien) go as their plain forms', () => {
    // One ’ made the whole text UCS-2, parts of 67 characters instead of 153: three texts billed for one.
    const plain = nudge("Ana O'Brien");
    for (const name of ['Ana O’Brien', 'Ana ‘O’Brien’', '“Ana” O‘Brien—Smith…']) {
      const sms = nudge(name);
      expect(sms.encoding).toBe('GSM-7');
      expect(sms.segments).toBe(plain.segments);
      expect(sms.body).not.toMatch(/[‘’“”—…]/);
    }
    expect(nudge('“Ana” O‘Brien—Smith…').body).toContain('Hi "Ana" O\'Brien-Smith...!');
  });

  it('keeps them as written when the text is UCS-2 anyway, where they cost nothing', () => {
    const sms = nudge('Ana O’Brien 🍵');
    expect(sms.encoding).toBe('UCS-2');
    expect(sms.body).toContain('Hi Ana O’Brien 🍵!');
  });
});
