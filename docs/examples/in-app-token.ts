import { createInAppToken } from '../../engine/index.js';

/**
 * In the app's backend, behind its own login: a token for the signed-in customer's inbox. It
 * needs the API's IN_APP_TOKEN_SECRET; the API key never leaves the backend.
 */
export function inAppTokenFor(signedInUserId: string, secret = process.env.IN_APP_TOKEN_SECRET!) {
  const ttlSeconds = 3600;
  return { token: createInAppToken(secret, signedInUserId, { ttlSeconds }), expiresIn: ttlSeconds };
}

interface InAppMessage {
  id: string;
  title: string;
  body: string;
  cta: { label: string; url: string };
  readAt: number | null;
}

/**
 * In the app (a browser, from an origin in IN_APP_CORS_ORIGINS, or a mobile app): the customer's
 * inbox, straight from Chorus. A 401 (`CHORUS_IN_APP_TOKEN_EXPIRED`) means: get a new token.
 */
export async function loadInbox(chorusUrl: string, userId: string, token: string): Promise<InAppMessage[]> {
  const answer = await fetch(`${chorusUrl}/v1/customers/${encodeURIComponent(userId)}/in-app`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!answer.ok) {
    const { error } = (await answer.json()) as { error: { code: string; message: string } };
    throw new Error(`${error.code}: ${error.message}`);
  }
  return ((await answer.json()) as { messages: InAppMessage[] }).messages;
}
