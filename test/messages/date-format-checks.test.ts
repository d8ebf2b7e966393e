import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dateFormatMistake } from '../../engine/messages/date-format-checks.js';
import { checkTemplates } from '../../engine/messages/template-checks.js';
import { TemplateSet } from '../../engine/messages/template-set.js';

describe('a formatDate format', () => {
  it('is reported when written for strftime or Moment.js, as Liquid and Braze templates carry it', () => {
    expect(dateFormatMistake('%B %d, %Y')).toMatch(/strftime/);
    expect(dateFormatMistake('YYYY-MM-DD')).toMatch(/"YYYY" is not one of its tokens/);
    expect(dateFormatMistake('MMMM Do, YYYY')).toMatch(/"YYYY"/);
    expect(dateFormatMistake('dd/mm/yyyy')).toMatch(/"mm" is the minutes/);
  });

  it('passes with Luxon tokens, quoted text and minutes beside an hour', () => {
    for (const format of [
      'd MMMM yyyy',
      'yyyy-MM-dd',
      'dd/MM/yyyy HH:mm',
      "d 'de' MMMM",
      "h:mm a 'o''clock'",
      'EEEE',
      'DDD',
    ]) {
      expect(dateFormatMistake(format)).toBeUndefined();
    }
  });

  it('is reported at load time, naming the message, channel, file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-date-format-'));
    try {
      mkdirSync(join(dir, 'm'));
      mkdirSync(join(dir, '_brand'));
      writeFileSync(
        join(dir, 'm', 'message.json'),
        JSON.stringify({
          id: 'm',
          proposition: 'Tea for you.',
          headline: 'Fresh blends are here',
          cta: { label: 'Shop now', url: 'https://example.com/shop' },
        }),
      );
      writeFileSync(
        join(dir, 'm', 'email.subject.hbs'),
        '{{message.headline}} until {{formatDate trigger.at "%b %e"}}',
      );
      writeFileSync(
        join(dir, 'm', 'email.html.hbs'),
        '<h1>{{message.headline}}</h1>\n<p>{{> since}} <a href="{{message.cta.url}}">Shop</a></p>\n<p>{{default (formatDate trigger.at "dd/mm/yyyy") "soon"}}</p>',
      );
      writeFileSync(join(dir, '_brand', 'since.hbs'), 'Since {{formatDate profile.created_at "YYYY-MM-DD"}}');
      const problems = checkTemplates(TemplateSet.fromDirectory(dir));
      expect(
        problems.map((p) => [p.message, p.channel, p.file?.split('/').slice(-2).join('/'), p.text]),
      ).toEqual([
        [
          undefined,
          undefined,
          '_brand/since.hbs',
          expect.stringMatching(
            /^Brand partial: .*since\.hbs line 1 formats a date as "YYYY-MM-DD": "YYYY" is not one of its tokens, so it is written out as it stands\. To fix: write it with Luxon's tokens/,
          ),
        ],
        [
          'm',
          'email',
          'm/email.html.hbs',
          expect.stringMatching(
            /email\.html\.hbs line 3 formats a date as "dd\/mm\/yyyy": "mm" is the minutes/,
          ),
        ],
        [
          'm',
          'email',
          'm/email.subject.hbs',
          expect.stringMatching(
            /^Message "m", channel email: .*email\.subject\.hbs line 1 formats a date as "%b %e": it is written for strftime/,
          ),
        ],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
