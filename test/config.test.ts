import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  defineWebhookSource,
  EnvConfig,
  describeRedisTarget,
  loadConfig,
  redisTargetOf,
} from '../engine/index.js';
import { resolveSecrets } from '../workers/process-secrets.js';
import { testRedis } from './support/redis.js';

describe('configuration from the environment', () => {
  it('has defaults that run the engine on embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      REDIS_PREFIX: 'chorus',
      TIME_SCALE: 1,
      OUTBOX_DIR: 'outbox',
      WORKER_ROLES: ['journeys', 'deliveries'],
      KEEP_FINISHED_INSTANCES: 5,
    });
    expect(config.SMTP_URL).toBeUndefined();
  });

  it('reads how long in-app messages are shown, 30 days unless IN_APP_TTL says otherwise', () => {
    expect(loadConfig({}).IN_APP_TTL).toBe(30 * 86_400_000);
    expect(loadConfig({ IN_APP_TTL: '7d' }).IN_APP_TTL).toBe(7 * 86_400_000);
    for (const value of ['0s', 'soon', '-1d']) {
      expect(() => loadConfig({ IN_APP_TTL: value })).toThrow(
        expect.objectContaining({ variables: [expect.objectContaining({ name: 'IN_APP_TTL' })] }),
      );
    }
  });

  it('reads how long SMS short links lead on, 365 days unless SMS_SHORT_LINK_DAYS says otherwise', () => {
    expect(loadConfig({}).SMS_SHORT_LINK_DAYS).toBe(365);
    expect(loadConfig({ SMS_SHORT_LINK_DAYS: '30' }).SMS_SHORT_LINK_DAYS).toBe(30);
    for (const value of ['0', '1.5', 'forever', '3651']) {
      expect(() => loadConfig({ SMS_SHORT_LINK_DAYS: value })).toThrow(
        expect.objectContaining({ variables: [expect.objectContaining({ name: 'SMS_SHORT_LINK_DAYS' })] }),
      );
    }
  });

  it('reads the largest ingest call, 32 KB unless MAX_CALL_BYTES says otherwise, from 1024 bytes', () => {
    expect(loadConfig({}).MAX_CALL_BYTES).toBe(32_768);
    expect(loadConfig({ MAX_CALL_BYTES: '65536' }).MAX_CALL_BYTES).toBe(65_536);
    for (const value of ['0', '1023', '104857601']) {
      expect(() => loadConfig({ MAX_CALL_BYTES: value })).toThrow(
        expect.objectContaining({ variables: [expect.objectContaining({ name: 'MAX_CALL_BYTES' })] }),
      );
    }
  });

  it('parses rates, roles and flags', () => {
    const config = loadConfig({
      RATE_LIMIT_SMS: '10/1s',
      WORKER_ROLES: 'journeys',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      TIME_SCALE: '86400',
    });
    expect(config.RATE_LIMIT_SMS).toEqual({ max: 10, duration: 1000 });
    expect(config.WORKER_ROLES).toEqual(['journeys']);
    expect(config.WEBHOOK_ALLOW_PRIVATE).toBe(true);
    expect(config.TIME_SCALE).toBe(86_400);
  });

  it('stops start-up naming each bad variable and what was expected', () => {
    const load = () =>
      loadConfig({
        TIME_SCALE: 'fast',
        REDIS_URL: 'http://x',
        RATE_LIMIT_EMAIL: '10 per second',
        WORKER_ROLES: 'api',
        KEEP_FINISHED_INSTANCES: '0',
        QUEUE_SHARDS: '65',
      });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      expect((error as ConfigError).variables.map((v) => v.name).sort()).toEqual([
        'KEEP_FINISHED_INSTANCES',
        'QUEUE_SHARDS',
        'RATE_LIMIT_EMAIL',
        'REDIS_URL',
        'TIME_SCALE',
        'WORKER_ROLES',
      ]);
      expect((error as ConfigError).message).toMatch(/REDIS_URL: a redis:\/\/ or rediss:\/\/ URL/);
    }
  });
});

describe('BRAND_LINK_HOSTS', () => {
  it('takes host names and *. for subdomains, lower case, and refuses URLs and paths', () => {
    expect(loadConfig({ BRAND_LINK_HOSTS: ' Shop.Example.com, *.cdn.example ,' }).BRAND_LINK_HOSTS).toEqual([
      'shop.example.com',
      '*.cdn.example',
    ]);
    expect(loadConfig({}).BRAND_LINK_HOSTS).toEqual([]);
    for (const bad of ['https://shop.example.com', 'shop.example.com/sale', '*', 'shop.*.example']) {
      expect(() => loadConfig({ BRAND_LINK_HOSTS: bad }), bad).toThrow(/BRAND_LINK_HOSTS: a host name/);
    }
  });
});

describe('IN_APP_CORS_ORIGINS and IN_APP_TOKEN_SECRET', () => {
  it('takes origins as a browser sends them, and refuses paths, slashes and other schemes', () => {
    expect(
      loadConfig({ IN_APP_CORS_ORIGINS: ' https://app.example.com, http://localhost:5173 ,' })
        .IN_APP_CORS_ORIGINS,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).IN_APP_CORS_ORIGINS).toEqual([]);
    for (const bad of [
      'https://app.example.com/',
      'https://app.example.com/inbox',
      'app.example.com',
      'ftp://a.example',
      '*',
    ]) {
      expect(() => loadConfig({ IN_APP_CORS_ORIGINS: bad }), bad).toThrow(/IN_APP_CORS_ORIGINS: an origin/);
    }
  });

  it('takes a secret of 16 characters or more, and previous ones for a rotation', () => {
    const config = loadConfig({
      IN_APP_TOKEN_SECRET: 'in-app-secret-of-16',
      IN_APP_TOKEN_PREVIOUS_SECRETS: 'old-in-app-secret-16, older-in-app-secret',
    });
    expect(config.IN_APP_TOKEN_SECRET).toBe('in-app-secret-of-16');
    expect(config.IN_APP_TOKEN_PREVIOUS_SECRETS).toEqual(['old-in-app-secret-16', 'older-in-app-secret']);
    expect(() => loadConfig({ IN_APP_TOKEN_SECRET: 'short' })).toThrow(/IN_APP_TOKEN_SECRET: at least 16/);
  });
});

describe('MAIL_FROM', () => {
  it('takes a sender with a name or a bare address', () => {
    expect(loadConfig({ MAIL_FROM: 'Acme <hello@acme.example>' }).MAIL_FROM).toBe(
      'Acme <hello@acme.example>',
    );
    expect(loadConfig({ MAIL_FROM: 'hello@acme.example' }).MAIL_FROM).toBe('hello@acme.example');
  });

  it.each(['nobody', 'Acme Tea', 'hello@', 'Shop <hello@bücher.example>'])(
    'stops start-up naming itself for %j',
    (from) => {
      expect(() => loadConfig({ MAIL_FROM: from })).toThrow(
        /MAIL_FROM: a sender with an address last, such as "Acme <hello@acme\.example>".*punycode/,
      );
    },
  );
});

describe('a number variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['BODY_LIMIT', '1mb'],
    ['MAX_CALL_BYTES', '32kb'],
    ['MAX_CALL_BYTES', '3.2e4'],
    // Number() reads these as 16, 1000, 3 and 0.5: a setting is written in decimal digits.
    ['PORT', '0x10'],
    ['PORT', '1e3'],
    ['JOURNEY_CONCURRENCY', '0b11'],
    ['SMTP_MAX_MESSAGES', 'Infinity'],
  ])('is refused for %s=%s as no whole number written in decimals', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(
      new RegExp(`${name}: "${value}" is not a whole number: write decimal digits only, such as 30\\.`),
    );
  });

  it.each(['0x10', '1e3', '.5', '5.', '+2', 'NaN'])(
    'is refused for TIME_SCALE=%s, which takes a fraction, as no number written in decimals',
    (value) => {
      expect(() => loadConfig({ TIME_SCALE: value })).toThrow(
        new RegExp(
          `TIME_SCALE: "${value.replace('.', '\\.').replace('+', '\\+')}" is not a number: write decimal digits, with a point for a fraction, such as 30 or 0\\.5\\.`,
        ),
      );
    },
  );

  it('takes a fraction where the variable allows one, and refuses it where a whole number is expected', () => {
    expect(loadConfig({ TIME_SCALE: '0.5' }).TIME_SCALE).toBe(0.5);
    expect(loadConfig({ TIME_SCALE: ' 86400 ' }).TIME_SCALE).toBe(86_400);
    expect(loadConfig({ PORT: '8080' }).PORT).toBe(8080);
    expect(() => loadConfig({ PORT: '80.5' })).toThrow(/PORT: "80\.5" is not a whole number/);
    expect(() => loadConfig({ PORT: '-1' })).toThrow(/PORT: .*>=0/);
  });
});

describe('a duration run by a Node.js timer', () => {
  it.each(['SWEEP_INTERVAL_MS', 'SHUTDOWN_DEADLINE_MS'] as const)(
    'is refused for %s past the longest timer, which would fire after 1 ms instead',
    (name) => {
      expect(() => loadConfig({ [name]: '3000000000' })).toThrow(
        new RegExp(`${name}: at most 2147483647 \\(about 24 days, the longest timer Node\\.js keeps\\)`),
      );
      expect(loadConfig({ [name]: '2147483647' })[name]).toBe(2_147_483_647);
    },
  );
});

describe('a variable set but empty', () => {
  /** Read as unset: a `.env` template's `REDIS_URL=`, or a list left with no entries. */
  const readAsUnset = new Set([
    'REDIS_URL',
    'REDIS_CLUSTER_NODES',
    'SMTP_URL',
    'FREQUENCY_CAPS',
    'UNSUBSCRIBE_PREVIOUS_SECRETS',
    'IN_APP_TOKEN_PREVIOUS_SECRETS',
    'IN_APP_CORS_ORIGINS',
    'WEBHOOK_SOURCE_SECRETS',
    'BRAND_LINK_HOSTS',
  ]);
  const numbers = new Set([
    'TIME_SCALE',
    'JOURNEY_CONCURRENCY',
    'DELIVERY_CONCURRENCY',
    'LOCK_DURATION_MS',
    'SWEEP_INTERVAL_MS',
    'QUEUE_SHARDS',
    'SHUTDOWN_DEADLINE_MS',
    'SMTP_MAX_CONNECTIONS',
    'SMTP_MAX_MESSAGES',
    'KEEP_FINISHED_INSTANCES',
    'DELIVERY_RETRY_MAX_MS',
    'PORT',
    'BODY_LIMIT',
    'MAX_CALL_BYTES',
    'REQUEST_TIMEOUT_MS',
    'API_REDIS_TIMEOUT_MS',
    'SMS_SHORT_LINK_DAYS',
  ]);
  const cases = Object.keys(EnvConfig.shape).flatMap((name) => ['', '  '].map((value) => ({ name, value })));

  it.each(cases)('is read as unset or refused plainly for $name=$value', ({ name, value }) => {
    if (readAsUnset.has(name)) {
      expect(loadConfig({ [name]: value })).toEqual(loadConfig({}));
      return;
    }
    const what = numbers.has(name) ? 'a number' : 'a value';
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    // Only this variable is named, once: not as a half-configured group, nor with zod's words.
    expect((thrown as ConfigError).variables).toEqual([
      { name, message: `set but empty: give ${what}, or unset it for the default` },
    ]);
  });

  it('is refused alongside the other bad values', () => {
    expect(() => loadConfig({ PUBLIC_URL: '', TIME_SCALE: 'fast' })).toThrow(
      expect.objectContaining({
        variables: [
          { name: 'PUBLIC_URL', message: 'set but empty: give a value, or unset it for the default' },
          {
            name: 'TIME_SCALE',
            message:
              '"fast" is not a number: write decimal digits, with a point for a fraction, such as 30 or 0.5',
          },
        ],
      }),
    );
  });

  it('is not read at all when another variable is asked for', () => {
    expect(loadConfig({ PUBLIC_URL: '', PORT: '4000' }, ['PORT']).PORT).toBe(4000);
  });

  it('is the default once unset', () => {
    expect(loadConfig({}).PORT).toBe(3000);
    expect(loadConfig({ PORT: '0' }).PORT).toBe(0);
  });
});

describe('the public URL', () => {
  it('refuses a public URL too long for an unsubscribe link to fit in an email header', () => {
    const long = `https://example.com/${'a'.repeat(140)}`;
    expect(() => loadConfig({ PUBLIC_URL: long })).toThrow(
      expect.objectContaining({
        variables: [
          {
            name: 'PUBLIC_URL',
            message: 'at most 150 characters (it starts every unsubscribe and tracked link)',
          },
        ],
      }),
    );
    expect(loadConfig({ PUBLIC_URL: long.slice(0, 150) }).PUBLIC_URL).toBe(long.slice(0, 150));
  });
});

describe('the default locale', () => {
  it('is a BCP 47 locale, kept in its canonical form', () => {
    expect(loadConfig({}).DEFAULT_LOCALE).toBe('en-US');
    expect(loadConfig({ DEFAULT_LOCALE: 'de-de' }).DEFAULT_LOCALE).toBe('de-DE');
  });

  it.each(['xx_bad_locale', 'en_US', 'en-US,de-DE'])('refuses %j, naming the variable', (locale) => {
    expect(() => loadConfig({ DEFAULT_LOCALE: locale })).toThrow(
      /DEFAULT_LOCALE: ".*" is not a BCP 47 locale such as en-US or de-DE/,
    );
  });
});

describe('REDIS_URL', () => {
  it('takes a database number, TLS, and credentials percent-encoded or holding a bare @', () => {
    for (const url of [
      'redis://10.0.0.1:6379/3',
      'rediss://app:s%2Fcr%23t@redis.internal:6380',
      'redis://:p@ss@127.0.0.1:6379/2',
      'redis://[::1]:6379',
    ])
      expect(loadConfig({ REDIS_URL: url }).REDIS_URL).toBe(url);
  });

  it('refuses a URL ioredis cannot read, naming REDIS_URL and never repeating the password', () => {
    const refusals: Array<[string, RegExp]> = [
      // Unencoded, these end the host early: ioredis threw a bare "TypeError: Invalid URL".
      ['redis://:pa/ss-hunter2@10.0.0.1:6379', /not a URL ioredis can read.*percent-encode/],
      ['redis://:pa#ss-hunter2@10.0.0.1:6379', /not a URL ioredis can read.*percent-encode/],
      // A lone % stopped start-up with "URIError: URI malformed".
      ['redis://:pa%ss-hunter2@10.0.0.1:6379', /percent-encode/],
      ['redis://10.0.0.1:port', /not a URL ioredis can read/],
      ['redis://', /names no host/],
      // The path is the database: /abc made ioredis send SELECT NaN, which crashed the process.
      ['redis://:hunter2@10.0.0.1:6379/abc', /the path is the database number, such as \/0/],
    ];
    for (const [url, message] of refusals) {
      let error: unknown;
      try {
        loadConfig({ REDIS_URL: url });
      } catch (thrown) {
        error = thrown;
      }
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variables.map((v) => v.name)).toEqual(['REDIS_URL']);
      expect((error as ConfigError).message, url).toMatch(message);
      expect((error as ConfigError).message, url).not.toContain('hunter2');
    }
  });

  it('is described in logs and banners without its credentials, whatever characters they hold', () => {
    const described = (url: string) => describeRedisTarget(redisTargetOf(loadConfig({ REDIS_URL: url })));
    expect(described('redis://:p@ss@127.0.0.1:6379/2')).toBe('redis://***@127.0.0.1:6379/2');
    expect(described('rediss://app:s3cr%40t@redis.internal:6380')).toBe('rediss://***@redis.internal:6380');
    expect(described('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('a Redis Cluster', () => {
  it('is named by its nodes in REDIS_CLUSTER_NODES, with credentials and TLS from a URL form', () => {
    expect(redisTargetOf(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:6379, 10.0.0.2:6380' }))).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 6379 },
        { host: '10.0.0.2', port: 6380 },
      ],
      tls: false,
    });
    expect(
      redisTargetOf(
        loadConfig({
          REDIS_CLUSTER_NODES: 'rediss://app:s%40cret@redis-1.internal:6379,redis-2.internal:6379',
        }),
      ),
    ).toMatchObject({ username: 'app', password: 's@cret', tls: true });
    expect(redisTargetOf(loadConfig({}))).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
  });

  it('refuses a node without repeating its password', () => {
    let error: unknown;
    try {
      loadConfig({ REDIS_CLUSTER_NODES: 'rediss://app:hunter2@redis-1.internal,redis-2.internal:6379' });
    } catch (thrown) {
      error = thrown;
    }
    expect((error as ConfigError).message).toMatch(
      /REDIS_CLUSTER_NODES: "rediss:\/\/\*\*\*@redis-1.internal" is not host:port \(a port is required\)/,
    );
    expect((error as ConfigError).message).not.toContain('hunter2');
  });

  it('refuses a node with a password ioredis cannot decode, or a database path, naming the variable', () => {
    // A lone % stopped start-up with a bare "URIError: URI malformed".
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://:pa%zz-hunter2@10.0.0.1:6379' })).toThrow(
      /REDIS_CLUSTER_NODES: "redis:\/\/\*\*\*@10.0.0.1:6379" is not host:port \(percent-encode/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:6379/3' })).toThrow(
      /REDIS_CLUSTER_NODES: "10.0.0.1:6379\/3" is not host:port \(no path: a Redis Cluster has database 0 alone\)/,
    );
  });

  it('refuses nodes without a port, and REDIS_URL set as well', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1.internal' })).toThrow(
      /REDIS_CLUSTER_NODES: "redis-1.internal" is not host:port \(a port is required\)/,
    );
    expect(() =>
      loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:6379', REDIS_URL: 'redis://10.0.0.1:6379' }),
    ).toThrow(/REDIS_CLUSTER_NODES: REDIS_URL is set too/);
  });
});

describe('provider settings', () => {
  it('must be given whole, so production SMS never lands in the outbox by accident', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't' })).toThrow(
      /SMS_FROM: Twilio SMS is half configured \(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN set\)/,
    );
    expect(
      loadConfig({ TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 't', SMS_FROM: '+15550100' }).SMS_FROM,
    ).toBe('+15550100');
  });
});

describe('FCM settings', () => {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const account = {
    type: 'service_account',
    project_id: 'acme-app',
    private_key: key,
    client_email: 'chorus@acme-app.iam.gserviceaccount.com',
  };
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('read a service account key file at start-up, with the default token URI', async () => {
    const path = join(dir, 'fcm.json');
    await writeFile(path, JSON.stringify(account));
    expect(loadConfig({ FCM_SERVICE_ACCOUNT_FILE: path }).FCM_SERVICE_ACCOUNT_FILE).toEqual({
      ...account,
      token_uri: 'https://oauth2.googleapis.com/token',
    });
  });

  it('take the key as JSON in a variable too, its token URI kept', () => {
    const json = JSON.stringify({ ...account, token_uri: 'http://127.0.0.1:9/token' });
    expect(loadConfig({ FCM_SERVICE_ACCOUNT_JSON: json }).FCM_SERVICE_ACCOUNT_JSON?.token_uri).toBe(
      'http://127.0.0.1:9/token',
    );
  });

  it.each([
    [{ FCM_SERVICE_ACCOUNT_FILE: '/nonexistent/fcm.json' }, /FCM_SERVICE_ACCOUNT_FILE: cannot read/],
    [{ FCM_SERVICE_ACCOUNT_JSON: '{"client_email":' }, /FCM_SERVICE_ACCOUNT_JSON: not JSON/],
    [
      { FCM_SERVICE_ACCOUNT_JSON: JSON.stringify({ client_email: 'a@b.c' }) },
      /FCM_SERVICE_ACCOUNT_JSON: not a service account key \(private_key missing or malformed\)/,
    ],
    [
      { FCM_SERVICE_ACCOUNT_JSON: JSON.stringify({ ...account, project_id: undefined }) },
      /FCM_PROJECT_ID: the service account key has no project_id/,
    ],
    [
      { FCM_SERVICE_ACCOUNT_JSON: JSON.stringify(account), FCM_ACCESS_TOKEN: 'ya29.x' },
      /FCM_ACCESS_TOKEN: FCM push takes one credential/,
    ],
    [{ FCM_ACCESS_TOKEN: 'ya29.x' }, /FCM_PROJECT_ID: FCM push is half configured \(FCM_ACCESS_TOKEN set\)/],
    [{ FCM_PROJECT_ID: 'acme-app' }, /FCM_SERVICE_ACCOUNT_FILE: FCM push is half configured/],
  ])('refuse %j, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('accept a fixed token with its project', () => {
    expect(loadConfig({ FCM_ACCESS_TOKEN: 'ya29.x', FCM_PROJECT_ID: 'acme-app' }).FCM_PROJECT_ID).toBe(
      'acme-app',
    );
  });
});

describe('email settings', () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dkim = { DKIM_DOMAIN: 'acme.example', DKIM_SELECTOR: 's1' };

  it('take a DKIM key as PEM text, or on one line with \\n where its line breaks were', () => {
    expect(loadConfig({ ...dkim, DKIM_PRIVATE_KEY: pem }).DKIM_PRIVATE_KEY).toBe(pem);
    // As a .env file or a one-line secret holds it.
    expect(loadConfig({ ...dkim, DKIM_PRIVATE_KEY: pem.replaceAll('\n', '\\n') }).DKIM_PRIVATE_KEY).toBe(pem);
  });

  it('refuse a DKIM key or an SMTP URL that cannot be read, naming the variable at start-up', () => {
    // These stopped a worker only once it had connected to Redis, naming no variable.
    expect(() => loadConfig({ ...dkim, DKIM_PRIVATE_KEY: 'not-a-key-hunter2' })).toThrow(
      /DKIM_PRIVATE_KEY: not a private key: give the PEM text of an RSA or Ed25519 key/,
    );
    expect(() => loadConfig({ SMTP_URL: 'smtp://ops:pa%zz-hunter2@smtp.example.com:587' })).toThrow(
      /SMTP_URL: its user name or password has a % that starts no percent-encoded character/,
    );
    expect(() => loadConfig({ SMTP_URL: 'smtp://' })).toThrow(/SMTP_URL: it names no host/);
    try {
      loadConfig({ ...dkim, DKIM_PRIVATE_KEY: 'not-a-key-hunter2', SMTP_URL: 'smtp://u:pa%zz-hunter2@h' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('the HTTP API configuration', () => {
  it('parses keys, limits and webhook source secrets', () => {
    const config = loadConfig({
      API_KEY: 'first-key-0123456789, second-key-0123456789',
      API_RATE_LIMIT: '100/1s',
      WEBHOOK_SOURCE_SECRETS:
        'shop=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_QUJDREVGR0hJSktMTU5PUA==,crm=whsec_QUJDREVGR0hJSktMTU5PUA==',
      DASHBOARD_WRITE: 'true',
      PORT: '8080',
    });
    expect(config.API_KEY).toEqual(['first-key-0123456789', 'second-key-0123456789']);
    expect(config.API_RATE_LIMIT).toEqual({ max: 100, duration: 1000 });
    expect(config.WEBHOOK_SOURCE_SECRETS).toEqual({
      shop: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_QUJDREVGR0hJSktMTU5PUA=='],
      crm: ['whsec_QUJDREVGR0hJSktMTU5PUA=='],
    });
    expect(config.DASHBOARD_WRITE).toBe(true);
    expect(config.PORT).toBe(8080);
  });

  it('names what is wrong in WEBHOOK_SOURCE_SECRETS without repeating a secret', () => {
    const secret = 'whsec_c2VjcmV0LW5vdC10by1sZWFr';
    const refusals: Array<[string, RegExp]> = [
      [`Shop=${secret}`, /entry 1: the source "Shop" is not lower-case letters, digits and -/],
      [
        `shop=${secret},crm=${secret}!`,
        /entry 2: secret 1 of the source "crm" is not whsec_ followed by base64/,
      ],
      [`shop=${secret},${secret}`, /entry 2: no "=": give <source>=whsec_…/],
      [`shop=`, /entry 1: no secret for "shop"/],
    ];
    for (const [value, message] of refusals) {
      let error: unknown;
      try {
        loadConfig({ WEBHOOK_SOURCE_SECRETS: value });
      } catch (thrown) {
        error = thrown;
      }
      expect(
        (error as ConfigError).variables.map((v) => v.name),
        value,
      ).toEqual(['WEBHOOK_SOURCE_SECRETS']);
      expect((error as ConfigError).message, value).toMatch(message);
      expect((error as ConfigError).message, value).not.toContain('c2VjcmV0');
    }
  });

  it('refuses an API key or dashboard user that no request could present', () => {
    for (const [name, value] of [
      ['API_KEY', 'my api key of twenty chars'],
      ['API_KEY', 'first-key-0123456789,key:0123456789abcdef'],
      ['DASHBOARD_USER', 'ops:team'],
    ] as const) {
      const load = () => loadConfig({ [name]: value });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(new RegExp(`${name}`));
    }
  });

  it('refuses a rate with no window or no request in it, naming the variable', () => {
    for (const rate of ['10/0s', '0/1m'])
      for (const name of ['API_RATE_LIMIT', 'RATE_LIMIT_EMAIL']) {
        const load = () => loadConfig({ [name]: rate });
        expect(load).toThrow(ConfigError);
        expect(load).toThrow(new RegExp(`${name}: "${rate}" is no rate`));
      }
  });

  it('names each bad API variable', () => {
    const error = (() => {
      try {
        loadConfig({
          API_KEY: 'short',
          WEBHOOK_SOURCE_SECRETS: 'shop=not-a-secret',
          PORT: '70000',
          DASHBOARD_PASSWORD: 'x',
        });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.variables.map((v) => v.name).sort()).toEqual([
      'API_KEY',
      'DASHBOARD_PASSWORD',
      'PORT',
      'WEBHOOK_SOURCE_SECRETS',
    ]);
    expect(error!.message).toMatch(
      /WEBHOOK_SOURCE_SECRETS: entry 1: secret 1 of the source "shop" is not whsec_ followed by base64/,
    );
  });

  it('refuses a webhook secret cut short or mistyped when it is read, without writing it out', () => {
    // Each passed the old check and failed every request it was used for: its source answered
    // 500 to every webhook, even those signed with the other, good, secret.
    const good = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    for (const bad of [good.slice(0, -1), 'whsec_MfKQ9r8GKYqr=wjUPD8ILPZIo2LaLaSw', 'whsec_']) {
      const sources = () => loadConfig({ WEBHOOK_SOURCE_SECRETS: `shop=${good} ${bad}` });
      expect(sources).toThrow(ConfigError);
      expect(sources).toThrow(/WEBHOOK_SOURCE_SECRETS: entry 1: secret 2 of the source "shop" is not whsec_/);
      const signing = () => loadConfig({ WEBHOOK_SECRET: bad });
      expect(signing).toThrow(ConfigError);
      expect(signing).toThrow(/WEBHOOK_SECRET: whsec_ followed by base64/);
      const unnamed = () => loadConfig({ WEBHOOK_SOURCE_SECRETS: good });
      expect(unnamed).toThrow(/WEBHOOK_SOURCE_SECRETS: entry 1: no "=": give <source>=whsec_/);
      for (const load of [sources, signing, unnamed]) {
        try {
          load();
        } catch (error) {
          expect((error as Error).message).not.toContain('MfKQ9r8');
        }
      }
    }
  });

  it('reads frequency caps, quiet hours and the default time zone, and names each one it cannot read', () => {
    const config = loadConfig({
      FREQUENCY_CAPS: 'marketing:3/24h,sms:1/1d',
      QUIET_HOURS: '21:00-08:00',
      DEFAULT_TIMEZONE: 'Europe/Berlin',
    });
    expect(config.FREQUENCY_CAPS.map((rule) => rule.label)).toEqual(['marketing:3/24h', 'sms:1/1d']);
    expect(config.QUIET_HOURS).toEqual({ start: { hour: 21, minute: 0 }, end: { hour: 8, minute: 0 } });
    expect(loadConfig({}).FREQUENCY_CAPS).toEqual([]);
    expect(loadConfig({}).QUIET_HOURS).toBeUndefined();
    const error = (() => {
      try {
        loadConfig({ FREQUENCY_CAPS: 'fax:1/1d', QUIET_HOURS: '9pm-8am', DEFAULT_TIMEZONE: 'Berlin' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error!.variables.map((v) => v.name).sort()).toEqual([
      'DEFAULT_TIMEZONE',
      'FREQUENCY_CAPS',
      'QUIET_HOURS',
    ]);
  });
});

describe('webhook source secrets', () => {
  const shop = defineWebhookSource({ id: 'shop', payload: z.object({}), toTrack: () => undefined });
  const crm = defineWebhookSource({ id: 'crm', payload: z.object({}), toTrack: () => undefined });
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const ctx = testRedis();
  afterAll(() => ctx.cleanup());

  it('are taken for the sources the journeys folder defines', async () => {
    const config = loadConfig({ WEBHOOK_SOURCE_SECRETS: `shop=${secret}`, REDIS_PREFIX: ctx.prefix });
    const secrets = await resolveSecrets(config, [shop, crm], { api: true }, ctx.redis);
    expect(secrets.webhookSecrets.shop).toEqual([secret]);
  });

  it('stop start-up when they name a source no journey file defines, listing the known ones', async () => {
    const config = loadConfig({ WEBHOOK_SOURCE_SECRETS: `shpo=${secret}`, REDIS_PREFIX: ctx.prefix });
    await expect(resolveSecrets(config, [shop, crm], { api: true }, ctx.redis)).rejects.toThrow(ConfigError);
    await expect(resolveSecrets(config, [shop, crm], { api: false }, ctx.redis)).rejects.toThrow(
      /WEBHOOK_SOURCE_SECRETS: names the webhook source "shpo", which no file in JOURNEYS_DIR defines \(known: shop, crm\)/,
    );
    await expect(resolveSecrets(config, [], { api: true }, ctx.redis)).rejects.toThrow(
      /"shpo".*\(none is defined\)/,
    );
  });
});
