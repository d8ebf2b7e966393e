import { verify, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A token request as the fake token endpoint saw it, its assertion decoded and checked. */
export interface TokenRequest {
  grantType: string | null;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signatureValid: boolean;
}

export interface FakeGoogleOptions {
  /** The service account's public key: assertions must verify against it. */
  publicKey: KeyObject;
  /** `expires_in` of every token issued; default 3600. */
  expiresInSeconds?: number;
  /** FCM answers 401 to every token, fresh or not (a service account without FCM rights, say). */
  refuseAllTokens?: boolean;
}

/**
 * A real HTTP server playing Google's OAuth 2 token endpoint (`POST /token`, JWT bearer grant)
 * and FCM (`POST /v1/projects/<id>/messages:send`). It issues `ya29.token-<n>`, accepts only
 * tokens it issued and has not revoked, and records what it was sent.
 */
export async function startFakeGoogle(options: FakeGoogleOptions) {
  const issued = new Set<string>();
  const tokenRequests: TokenRequest[] = [];
  const fcmRequests: Array<{ authorization: string | undefined; body: unknown }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, json: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(json));
      };
      if (request.method === 'POST' && request.url === '/token') {
        const form = new URLSearchParams(body);
        const seen = checkAssertion(form.get('assertion') ?? '', options.publicKey);
        tokenRequests.push({ grantType: form.get('grant_type'), ...seen });
        if (!seen.signatureValid) {
          return answer(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        }
        const token = `ya29.token-${tokenRequests.length}`;
        issued.add(token);
        return answer(200, {
          access_token: token,
          expires_in: options.expiresInSeconds ?? 3600,
          token_type: 'Bearer',
        });
      }
      if (request.method === 'POST' && request.url?.endsWith('/messages:send')) {
        const authorization = request.headers.authorization;
        fcmRequests.push({ authorization, body: JSON.parse(body) as unknown });
        const token = authorization?.replace(/^Bearer /, '') ?? '';
        if (options.refuseAllTokens || !issued.has(token)) {
          return answer(401, {
            error: {
              code: 401,
              message: 'Request had invalid authentication credentials.',
              status: 'UNAUTHENTICATED',
            },
          });
        }
        return answer(200, { name: `projects/acme-app/messages/${fcmRequests.length}` });
      }
      answer(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    tokenUri: `${url}/token`,
    tokenRequests,
    fcmRequests,
    /** The token stops working, as an expired or revoked one does. */
    revoke(token: string) {
      issued.delete(token);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkAssertion(jwt: string, publicKey: KeyObject): Omit<TokenRequest, 'grantType'> {
  const [header = '', claims = '', signature = ''] = jwt.split('.');
  const decode = (part: string) => {
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const signatureValid = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    publicKey,
    Buffer.from(signature, 'base64url'),
  );
  return { header: decode(header), claims: decode(claims), signatureValid };
}
