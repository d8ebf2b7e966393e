import { describe, expect, it } from 'vitest';
import { isTwilioSignatureValid, twilioSignature } from '../../engine/index.js';

// The example of Twilio's webhook security docs (and its api-snippets): token, URL, fields, signature.
const DOCS = {
  authToken: '12345',
  url: 'https://mycompany.com/myapp.php?foo=1&bar=2',
  params: {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675310',
    Digits: '1234',
    From: '+14158675310',
    To: '+18005551212',
  },
  signature: 'GvWf1cFY/Q7PnoempGyD5oXAezc=',
};

describe('Twilio webhook signatures', () => {
  it("match the example in Twilio's docs", () => {
    expect(twilioSignature(DOCS.authToken, DOCS.url, DOCS.params)).toBe(DOCS.signature);
    expect(isTwilioSignatureValid(DOCS.authToken, DOCS.signature, DOCS.url, DOCS.params)).toBe(true);
  });

  it('fail for another token, URL, field or value, and for no signature', () => {
    const { authToken, url, params, signature } = DOCS;
    expect(isTwilioSignatureValid('54321', signature, url, params)).toBe(false);
    expect(
      isTwilioSignatureValid(authToken, signature, 'https://mycompany.com/myapp.php?foo=1&bar=3', params),
    ).toBe(false);
    expect(isTwilioSignatureValid(authToken, signature, url, { ...params, Body: 'STOP' })).toBe(false);
    expect(isTwilioSignatureValid(authToken, signature, url, { ...params, Digits: '1235' })).toBe(false);
    expect(isTwilioSignatureValid(authToken, undefined, url, params)).toBe(false);
    expect(isTwilioSignatureValid(authToken, signature.slice(1), url, params)).toBe(false);
  });

  it("hold with the scheme's default port written out or left out, and only the default port", () => {
    const { authToken, params } = DOCS;
    const at = (url: string) => twilioSignature(authToken, url, params);
    const plain = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const ported = 'https://mycompany.com:443/myapp.php?foo=1&bar=2';
    expect(isTwilioSignatureValid(authToken, at(ported), plain, params)).toBe(true);
    expect(isTwilioSignatureValid(authToken, at(plain), ported, params)).toBe(true);
    expect(isTwilioSignatureValid(authToken, at('http://h:80/x'), 'http://h/x', params)).toBe(true);
    expect(isTwilioSignatureValid(authToken, at('https://h:8443/x'), 'https://h/x', params)).toBe(false);
    expect(isTwilioSignatureValid(authToken, at('https://h/x'), 'https://h:8443/x', params)).toBe(false);
  });

  it("sign a field sent more than once with each of its values, in order of value, as Twilio's library does", () => {
    const url = 'https://example.com/sms';
    const expected = twilioSignature('t', url, { A: ['1', '2'] });
    expect(twilioSignature('t', url, { A: ['2', '1'] })).toBe(expected);
    expect(isTwilioSignatureValid('t', expected, url, { A: ['2', '1'] })).toBe(true);
  });
});
