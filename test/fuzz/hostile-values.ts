import fc from 'fast-check';

/** Names that mean something to JavaScript objects rather than to us. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

/** Email addresses a form, a CSV import or an attacker might hand over as a customer's email. */
export const HOSTILE_EMAILS = [
  'a@b.c\r\nBcc: x@y.z',
  'a@b.c\nBcc: x@y.z',
  'a@b.c\rBcc: x@y.z',
  'a@b.c, x@y.z',
  'a@b.c; x@y.z',
  '"Ada" <ada@example.com>',
  'Ada <ada@example.com>',
  '"a@b"@example.com',
  'a@b@example.com',
  '@example.com',
  'ada@',
  'ada',
  ' ada@example.com',
  'ada @example.com',
  'ada@example.com\u0000',
  'ada@exa\tmple.com',
  `${'a'.repeat(65)}@example.com`,
  `ada@${'d'.repeat(300)}.com`,
  `${'a'.repeat(64)}@${'b'.repeat(250)}.example.com`,
  '用户@例子.广告',
  'ädä@bücher.de',
  'ada+tag@example.com',
  'ada@[127.0.0.1]',
  'ada@example.com>',
  '<ada@example.com>',
  'x@y.z\u2028Bcc: q@r.s',
  'x@y.z\u0085Bcc: q@r.s',
  '=?utf-8?q?a=0D=0ABcc:_x@y.z?=@example.com',
];

const FIXED = [
  ...PROTOTYPE_KEYS,
  '',
  ' ',
  '\r\n',
  'a\r\nX-Injected: 1',
  'a\r\n\r\n<html>',
  '%0d%0aSet-Cookie: x=1',
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uFFFE',
  '\u202Egnp.exe',
  '../../etc/passwd',
  '{{x}}',
  '{{{x}}}',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  'null',
  'true',
  '-1',
  '1e999',
  'NaN',
  '💥',
  'ö',
  'a'.repeat(257),
  'x'.repeat(5000),
  ...HOSTILE_EMAILS.slice(0, 6),
];

/** Strings that have broken servers: CRLF, NUL, lone surrogates, prototype names, huge, templates. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FIXED) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 10 }),
        fc.constantFrom('\r\n', '\n', '\r', '\0', '\u2028'),
        fc.string({ maxLength: 10 }),
      )
      .map(([a, b, c]) => a + b + c),
  },
);

/** A string that is mostly a plausible id, sometimes hostile. */
export const someId: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,12}$/) },
  { weight: 2, arbitrary: hostileString },
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('__proto__') },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      ...PROTOTYPE_KEYS.filter((k) => k !== '__proto__'),
      'polluted',
      'email',
      'consent',
      'a.b',
      '',
    ),
  },
  { weight: 10, arbitrary: fc.string({ maxLength: 12 }) },
);

const leaf: fc.Arbitrary<string> = fc.oneof(
  hostileString.map((s) => JSON.stringify(s)),
  fc.constantFrom('0', '-0', '1e308', '-1e308', '1.5', '9007199254740993', 'true', 'false', 'null'),
  fc.integer().map(String),
);

/**
 * JSON text rather than values: an object built in JavaScript cannot carry an own `__proto__`
 * key through `JSON.stringify`, and these bodies must.
 */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(hostileKey, tie('value')), { maxLength: 5 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  }),
).value;

export const jsonObjectText: fc.Arbitrary<string> = fc
  .array(fc.tuple(hostileKey, jsonText), { maxLength: 5 })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/**
 * A JSON object with the given fields, each present or not, each a plausible or hostile value
 * (as JSON text), and sometimes an extra hostile key.
 */
export function objectText(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const entries = Object.entries(fields).map(([key, value]) =>
    fc
      .option(fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: jsonText }), { freq: 6 })
      .map((text) => (text === null ? undefined : `${JSON.stringify(key)}:${text}`)),
  );
  return fc
    .tuple(fc.tuple(...entries), fc.option(fc.tuple(hostileKey, jsonText), { freq: 6 }))
    .map(([present, extra]) => {
      const parts = present.filter((p): p is string => p !== undefined);
      if (extra) parts.push(`${JSON.stringify(extra[0])}:${extra[1]}`);
      return `{${parts.join(',')}}`;
    });
}

export const str = (arb: fc.Arbitrary<string>) => arb.map((s) => JSON.stringify(s));
