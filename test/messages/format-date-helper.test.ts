import { describe, expect, it } from 'vitest';
import { createTemplateEnvironment } from '../../engine/messages/handlebars-env.js';

const text = createTemplateEnvironment('text');
const render = (source: string, at: unknown, zone = 'Europe/Berlin', locale = 'en-GB') =>
  text.compile(source)({ at, timezone: zone, locale });
const day = '{{formatDate at "yyyy-MM-dd HH:mm"}}';

describe('the formatDate helper', () => {
  it('reads Unix time in seconds, as Customer.io sends created_at, and in milliseconds', () => {
    // 2026-12-07T10:00:00Z
    expect(render(day, 1796637600)).toBe('2026-12-07 11:00');
    expect(render(day, 1796637600000)).toBe('2026-12-07 11:00');
    expect(render(day, '1796637600')).toBe('2026-12-07 11:00');
    expect(render(day, -315619200)).toBe('1960-01-01 01:00');
    expect(render('{{formatDate at}}', 1796637600, 'America/New_York', 'en-US')).toBe('Dec 7, 2026');
  });

  it('reads the dates a SQL export or a mail header writes, besides ISO 8601', () => {
    expect(render(day, '2026-12-07T10:00:00Z')).toBe('2026-12-07 11:00');
    expect(render(day, '2026-12-07 10:00:00')).toBe('2026-12-07 10:00');
    expect(render(day, '2026-12-07 10:00:00Z')).toBe('2026-12-07 11:00');
    expect(render(day, 'Mon, 07 Dec 2026 10:00:00 +0000')).toBe('2026-12-07 11:00');
    expect(render(day, ' 2026-12-07 ')).toBe('2026-12-07 00:00');
    expect(render(day, '20261207')).toBe('2026-12-07 00:00');
  });

  it('writes nothing for what is not a date', () => {
    for (const value of ['', 'soon', 'Infinity', Number.NaN, true, {}, null, undefined]) {
      expect(render(day, value)).toBe('');
    }
  });
});
