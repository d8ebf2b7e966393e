import { describe, expect, it } from 'vitest';
import { consentOfTraits } from '../../engine/policy/trait-consent.js';

describe("consent as a profile's consent trait gives it (the CLI simulation)", () => {
  const plain = { doubleOptIn: false };

  it('falls back to the defaults without an answer: SMS marketing needs a grant, email does not', () => {
    expect(consentOfTraits({}, 'email', 'marketing', plain)).toEqual({ allowed: true });
    expect(consentOfTraits({}, 'sms', 'marketing', plain)).toEqual({
      allowed: false,
      why: 'no sms marketing consent on record: SMS marketing needs an explicit grant',
    });
    expect(consentOfTraits({}, 'sms', 'transactional', plain)).toEqual({ allowed: true });
  });

  it('follows a grant or a refusal, in either form an identify call takes', () => {
    const traits = {
      consent: { sms: { marketing: { granted: true, source: 'form' } }, email: { marketing: false } },
    };
    expect(consentOfTraits(traits, 'sms', 'marketing', plain)).toEqual({ allowed: true });
    expect(consentOfTraits(traits, 'email', 'marketing', plain)).toEqual({
      allowed: false,
      why: 'email marketing consent was refused',
    });
  });

  it('holds an email marketing grant back for its confirmation under double opt-in', () => {
    const traits = { consent: { email: { marketing: true } } };
    expect(consentOfTraits(traits, 'email', 'marketing', { doubleOptIn: true })).toMatchObject({
      allowed: false,
    });
    expect(consentOfTraits({}, 'email', 'marketing', { doubleOptIn: true })).toMatchObject({
      allowed: false,
    });
  });

  it('does not ask about webhooks, and reads an unreadable trait as no answer', () => {
    expect(
      consentOfTraits({ consent: { webhook: { marketing: false } } }, 'webhook', 'marketing', plain),
    ).toEqual({
      allowed: true,
    });
    expect(consentOfTraits({ consent: 'yes' }, 'email', 'marketing', plain)).toEqual({ allowed: true });
  });
});
