import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ChannelConfigError } from './errors.js';
import { httpBase } from './http-result.js';

/**
 * A Google service account key, as the JSON file Firebase or Google Cloud hands out
 * (Project settings → Service accounts → Generate new private key). Fields it does not need are dropped.
 */
export const ServiceAccount = z.object({
  type: z.literal('service_account').optional(),
  project_id: z.string().min(1).optional(),
  private_key_id: z.string().min(1).optional(),
  /** PEM, PKCS #8. */
  private_key: z.string().min(1),
  client_email: z.string().min(3),
  /** Where signed assertions are exchanged for access tokens. */
  token_uri: z.url().default('https://oauth2.googleapis.com/token'),
});
export type ServiceAccount = z.infer<typeof ServiceAccount>;

/** A service account ready to sign: its key parsed once. */
export interface SigningAccount {
  email: string;
  keyId: string | undefined;
  key: KeyObject;
  tokenUri: string;
  projectId: string | undefined;
}

/** Parses and checks a service account key; `option` names it in a `ChannelConfigError`. */
export function signingAccount(input: z.input<typeof ServiceAccount>, option: string): SigningAccount {
  const parsed = ServiceAccount.safeParse(input);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new ChannelConfigError(
      option,
      `The service account key is incomplete or malformed (${fields}). To fix: pass the JSON key file ` +
        'of a service account as downloaded, with client_email and private_key.',
    );
  }
  const account = parsed.data;
  let key: KeyObject;
  try {
    key = createPrivateKey(account.private_key);
  } catch (error) {
    throw new ChannelConfigError(
      `${option}.private_key`,
      'The service account private_key cannot be read. To fix: pass the key file as downloaded; ' +
        'in an environment variable, keep its "\\n" escapes inside the JSON string.',
      { cause: error },
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ChannelConfigError(
      `${option}.private_key`,
      `The service account private_key is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not RSA. ` +
        'To fix: use the RSA key Google issues for the service account.',
    );
  }
  httpBase(account.token_uri, `${option}.token_uri`); // http(s) only
  return {
    email: account.client_email,
    keyId: account.private_key_id,
    key,
    tokenUri: account.token_uri,
    projectId: account.project_id,
  };
}

/** Tokens obtained with a signed assertion last at most this long (Google's limit). */
export const ASSERTION_LIFETIME_S = 3600;

/**
 * The signed JWT (RS256) a service account exchanges for an access token, per RFC 7523 and
 * Google's OAuth 2 for service accounts: issued by the account, for `scope`, addressed to the
 * token URI, valid from `nowMs` for an hour.
 */
export function signAssertion(account: SigningAccount, scope: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(account.keyId ? { kid: account.keyId } : {}) };
  const claims = {
    iss: account.email,
    scope,
    aud: account.tokenUri,
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
  };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signed), account.key);
  return `${signed}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
