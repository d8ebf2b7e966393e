import { describe, expect, it } from 'vitest';
import {
  attribute,
  InvalidInputError,
  type Attribution,
  type AttributionModel,
  type Touchpoint,
} from '../../engine/index.js';

const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const HALF_LIFE = 7 * DAY;

// A customer got a welcome email on day 0, a push reminder on day 7 and an sms offer on day 14,
// and bought for 100 on day 14 (the sms at the same instant counts).
const conversion = { at: 14 * DAY, revenue: 100, customerId: 'c1' };
const email: Touchpoint = { at: 0, channel: 'email', message: 'welcome' };
const push: Touchpoint = { at: 7 * DAY, channel: 'push', message: 'reminder' };
const sms: Touchpoint = { at: 14 * DAY, channel: 'sms', message: 'offer' };
// Given out of order, plus one after the conversion and one older than the 30-day window.
const afterConversion: Touchpoint = { at: 15 * DAY, channel: 'email', message: 'thanks' };
const tooOld: Touchpoint = { at: 14 * DAY - WINDOW - 1, channel: 'email', message: 'old' };
const touchpoints = [sms, afterConversion, email, tooOld, push];

function credits(result: Attribution): Array<[string, number]> {
  if (result.kind === 'unattributed') return [];
  return result.credits.map(({ touchpoint, credit }) => [touchpoint.message, credit]);
}

function creditsUnder(model: AttributionModel, paths: Touchpoint[] = touchpoints): Array<[string, number]> {
  return credits(attribute(conversion, paths, { model, windowMs: WINDOW, halfLifeMs: HALF_LIFE }));
}

function expectCredits(actual: Array<[string, number]>, expected: Array<[string, number]>): void {
  expect(actual.map(([message]) => message)).toEqual(expected.map(([message]) => message));
  actual.forEach(([, credit], i) => expect(credit).toBeCloseTo(expected[i]![1], 12));
  expect(actual.reduce((sum, [, credit]) => sum + credit, 0)).toBeCloseTo(1, 12);
}

describe('attribute', () => {
  it('gives first touch all the credit to the earliest touchpoint in the window', () => {
    expectCredits(creditsUnder('first-touch'), [
      ['welcome', 1],
      ['reminder', 0],
      ['offer', 0],
    ]);
  });

  it('gives last touch all the credit to the latest touchpoint at or before the conversion', () => {
    expectCredits(creditsUnder('last-touch'), [
      ['welcome', 0],
      ['reminder', 0],
      ['offer', 1],
    ]);
  });

  it('splits linear credit evenly: 1/3 each', () => {
    expectCredits(creditsUnder('linear'), [
      ['welcome', 1 / 3],
      ['reminder', 1 / 3],
      ['offer', 1 / 3],
    ]);
  });

  it('halves time-decay weight per half-life: ages 14d, 7d, 0d give 1/7, 2/7, 4/7', () => {
    // weights 2^(-14/7) = 0.25, 2^(-7/7) = 0.5, 2^0 = 1; total 1.75;
    // 0.25/1.75 = 1/7, 0.5/1.75 = 2/7, 1/1.75 = 4/7.
    expectCredits(creditsUnder('time-decay'), [
      ['welcome', 1 / 7],
      ['reminder', 2 / 7],
      ['offer', 4 / 7],
    ]);
  });

  it('keeps time-decay credits summing to 1 when every touchpoint is many half-lives old', () => {
    // A one-minute half-life: the sms is 2^-1440 as heavy as one at the conversion, which a
    // double cannot hold. Only the ratios matter: the email is 2^-720 of the sms, so ~0 and ~1.
    const options = { model: 'time-decay', windowMs: WINDOW, halfLifeMs: 60_000 } as const;
    const late = { ...conversion, at: conversion.at + DAY };
    expectCredits(credits(attribute(late, [sms], options)), [['offer', 1]]);
    expectCredits(credits(attribute(late, [push, sms], options)), [
      ['reminder', 0],
      ['offer', 1],
    ]);
  });

  it('uses a 7-day half-life when none is given', () => {
    const result = attribute(conversion, touchpoints, { model: 'time-decay', windowMs: WINDOW });
    expectCredits(credits(result), [
      ['welcome', 1 / 7],
      ['reminder', 2 / 7],
      ['offer', 4 / 7],
    ]);
  });

  it('gives position-based 40% to each end and 20% to the middle', () => {
    expectCredits(creditsUnder('position-based'), [
      ['welcome', 0.4],
      ['reminder', 0.2],
      ['offer', 0.4],
    ]);
  });

  it('shares the middle 20% of position-based among the middle touchpoints: 10% each of two', () => {
    const extra: Touchpoint = { at: 10 * DAY, channel: 'email', message: 'tips' };
    expectCredits(creditsUnder('position-based', [email, push, extra, sms]), [
      ['welcome', 0.4],
      ['reminder', 0.1],
      ['tips', 0.1],
      ['offer', 0.4],
    ]);
  });

  it('gives position-based 50/50 with two touchpoints and 100% with one', () => {
    expectCredits(creditsUnder('position-based', [push, email]), [
      ['welcome', 0.5],
      ['reminder', 0.5],
    ]);
    expectCredits(creditsUnder('position-based', [push]), [['reminder', 1]]);
  });

  it('counts a touchpoint exactly one window old', () => {
    const edge: Touchpoint = { at: 14 * DAY - WINDOW, channel: 'sms', message: 'edge' };
    expectCredits(creditsUnder('first-touch', [edge, sms]), [
      ['edge', 1],
      ['offer', 0],
    ]);
  });

  it('keeps the given order for touchpoints at the same instant', () => {
    const twin: Touchpoint = { at: 7 * DAY, channel: 'sms', message: 'twin' };
    expectCredits(creditsUnder('first-touch', [twin, push]), [
      ['twin', 1],
      ['reminder', 0],
    ]);
  });

  it('leaves a conversion unattributed when no touchpoint is in the window', () => {
    const result = attribute(conversion, [afterConversion, tooOld], { model: 'linear', windowMs: WINDOW });
    expect(result).toEqual({ kind: 'unattributed', reason: 'no-touchpoint-in-window' });
  });

  it('refuses a window or half-life that is not positive', () => {
    expect(() => attribute(conversion, touchpoints, { model: 'linear', windowMs: 0 })).toThrow(
      InvalidInputError,
    );
    expect(() =>
      attribute(conversion, touchpoints, { model: 'time-decay', windowMs: WINDOW, halfLifeMs: -1 }),
    ).toThrow(/halfLifeMs/);
  });
});
