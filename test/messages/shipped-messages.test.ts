import { describe, expect, it } from 'vitest';
import { loadJourneyFolder, loadTemplates, MessageRenderer } from '../../engine/index.js';
import { CART_COUPON } from '../../journeys/yue-tea-lifecycle.js';
import { renderContext } from './render-context.js';

const { journeys } = await loadJourneyFolder('journeys');
// The check npm start runs: every template against every shipped journey that sends it.
const templates = loadTemplates('templates', { journeys });
const renderer = new MessageRenderer(templates);

/** Renders `messageId` as the journey `journeyId` would send it, with `overrides`. */
function render<C extends 'email' | 'push'>(
  messageId: string,
  channel: C,
  journeyId: string,
  overrides: Parameters<typeof renderContext>[1] = {},
) {
  return renderer.render(
    messageId,
    channel,
    renderContext(templates.message(messageId)!, {
      journey: { id: journeyId, version: 1, state: 'any', stage: 'loyalty' },
      ...overrides,
    }),
  );
}

describe('the shipped journeys and their messages', () => {
  it('are the lifecycle and the win-back, and no two start on the same event', () => {
    expect(journeys.map((j) => j.id).sort()).toEqual(['win-back', 'yue-tea-lifecycle']);
    const events = journeys.flatMap((j) => (j.trigger.kind === 'event' ? [j.trigger.event] : []));
    expect(events).toEqual(['Signed Up']);
    expect(journeys.find((j) => j.id === 'win-back')?.trigger.kind).toBe('api');
  });

  it('greets by first name, and falls back to a neutral greeting without one', () => {
    const named = render('welcome', 'email', 'yue-tea-lifecycle', { profile: { firstName: 'Mei' } });
    expect(named.subject).toBe('Welcome to Yue Tea, Mei');
    expect(named.html).toContain('<p>Hi Mei,</p>');
    const anonymous = render('welcome', 'email', 'yue-tea-lifecycle');
    expect(anonymous.subject).toBe('Welcome to Yue Tea, friend');
    expect(anonymous.text).toContain('Hi there,');
    expect(anonymous.text).not.toContain('undefined');
  });

  it('lays an email out right to left for a customer whose language is written so', () => {
    // Without `dir`, an Arabic or Hebrew email's paragraphs and punctuation ran left to right.
    for (const [locale, dir] of [
      ['ar', 'rtl'],
      ['he-IL', 'rtl'],
      ['fa-IR', 'rtl'],
      ['en-GB', 'ltr'],
      ['zh-Hant-TW', 'ltr'],
    ] as const)
      expect(render('welcome', 'email', 'yue-tea-lifecycle', { locale }).html, locale).toContain(
        `<html lang="${locale}" dir="${dir}">`,
      );
  });

  it('names the viewed product in the spotlight email and push', () => {
    const event = { name: 'Product Viewed', properties: { name: 'Osmanthus Oolong', price: 18 } };
    const email = render('product-spotlight', 'email', 'yue-tea-lifecycle', { event });
    expect(email.subject).toBe('The blend you looked at: Osmanthus Oolong');
    expect(email.text).toContain('You were looking at Osmanthus Oolong, $18.00 a tin.');
    const push = render('product-spotlight', 'push', 'yue-tea-lifecycle', { event });
    expect(push.body).toContain('Osmanthus Oolong is waiting.');
    expect(push.url).toMatch(/^https:\/\/yuetea\.example\.com\/blends\?utm_source=chorus&utm_medium=push/);
  });

  it('puts the coupon code and the product in every part of the cart reminder', () => {
    const email = render('cart-reminder', 'email', 'yue-tea-lifecycle', {
      data: { coupon: CART_COUPON, product: 'Jasmine Pearl' },
    });
    expect(email.subject).toBe(`Your tea is waiting: ${CART_COUPON} takes 10% off`);
    for (const part of [email.html, email.text]) {
      expect(part).toContain(CART_COUPON);
      expect(part).toContain('Jasmine Pearl is still in your cart.');
    }
    expect(email.text).toMatch(/Your code: STEEP10/);
    const unnamed = render('cart-reminder', 'email', 'yue-tea-lifecycle', { data: { coupon: CART_COUPON } });
    expect(unnamed.text).toContain('The blend you chose is still in your cart.');
  });

  it('asks for a review and a refill, each with a text part, the brand and the unsubscribe link', () => {
    for (const [id, phrase] of [
      ['review-request', 'How was your tea?'],
      ['replenish', 'Time for a fresh tin?'],
    ] as const) {
      const email = render(id, 'email', 'yue-tea-lifecycle', { data: { coupon: CART_COUPON } });
      expect(email.subject).toBe(phrase);
      expect(email.text).toMatch(/^Yue Tea\n/);
      expect(email.text).toContain('Hi there,');
      expect(email.text).toContain('Unsubscribe: https://chorus.example.com/u/cust-1?sig=abc');
      expect(email.html).toContain('href="https://chorus.example.com/u/cust-1?sig=abc"');
    }
    expect(render('review-request', 'email', 'yue-tea-lifecycle').text).toContain(
      'We hope your tea has found',
    );
  });

  it('shows the win-back code only to the coupon arm, with the favourite blend when known', () => {
    const offered = render('win-back', 'email', 'win-back', {
      trigger: { daysInactive: 75, favouriteBlend: 'Rose Pu-erh', coupon: 'WELCOMEBACK15' },
      data: { coupon: 'WELCOMEBACK15' },
      variants: { offer: 'coupon' },
    });
    expect(offered.text).toContain('your last cup of Rose Pu-erh');
    expect(offered.text).toContain('Come back with code WELCOMEBACK15 for 15% off');
    expect(offered.text).toContain('utm_campaign=win-back&utm_content=win-back-offer%3Dcoupon');
    const letter = render('win-back', 'email', 'win-back', {
      trigger: { daysInactive: 75, coupon: 'WELCOMEBACK15' },
      variants: { offer: 'letter' },
    });
    expect(letter.text).toContain('your last cup of Yue Tea');
    expect(letter.text).not.toContain('WELCOMEBACK15');
  });
});
