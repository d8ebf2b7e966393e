import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/** What an SMTP URL gives nodemailer: where to connect, how, and the login. */
export type SmtpConnectionOptions = SMTPConnection.Options & Record<string, unknown>;

/**
 * An SMTP URL read, or what is wrong with it and the fix (neither repeats the URL, which holds a
 * password).
 */
export type SmtpUrl =
  { ok: true; options: SmtpConnectionOptions } | { ok: false; problem: string; fix: string };

const ENCODE_FIX =
  'percent-encode the special characters of the user name and password (/ as %2F, ? as %3F, # as %23, ' +
  '@ as %40, % as %25), e.g. with encodeURIComponent';

/** Ports whose servers expect a plain greeting, upgraded with STARTTLS: TLS from the first byte never gets one. */
const STARTTLS_PORTS = new Set([25, 587]);

/** The port of implicit TLS (RFC 8314): its servers answer a plain client with nothing. */
const IMPLICIT_TLS_PORT = 465;

/**
 * nodemailer options a URL's query could name that the email adapter sets over it (the pool, its
 * timeouts) or that the scheme decides (`secure`): each with where to set it instead.
 */
const ADAPTER_OWNED: Record<string, string> = {
  secure: 'write smtps:// for TLS from the first byte, smtp:// for STARTTLS',
  pool: 'leave pool out: the adapter always pools its connections',
  maxConnections: 'set SMTP_MAX_CONNECTIONS (maxConnections of createEmailAdapter) instead',
  maxMessages: 'set SMTP_MAX_MESSAGES (maxMessages of createEmailAdapter) instead',
  connectionTimeout: 'set timeoutMs of createEmailAdapter instead',
  greetingTimeout: 'set timeoutMs of createEmailAdapter instead',
  socketTimeout: 'set timeoutMs of createEmailAdapter instead',
};

const EXAMPLE = 'smtp://user:password@smtp.example.com:587 or smtps://user:password@smtp.example.com:465';

/**
 * Reads `smtp://user:password@host:port/?tls.rejectUnauthorized=false` (WHATWG URL rules, the
 * query as nodemailer reads it: numbers and booleans converted, `tls.*` nested).
 *
 * Options the adapter sets itself (`pool`, `maxConnections`, `maxMessages`, the timeouts) or the
 * scheme decides (`secure`) are refused in the query, with where to set them, rather than ignored.
 *
 * A login needs both a user name and a password: a URL with only one of them is refused. With a
 * login, `smtp://` requires STARTTLS (`?requireTLS=false` allows a login in the clear).
 *
 * A password with an unencoded `/`, `?` or `#` (Amazon SES writes its SMTP passwords in base64,
 * with `/` and `+`) ends the URL's authority early: read leniently, its host became the user
 * name, and every email was then retried against a host that does not exist until it was given up.
 * A scheme that disagrees with a well-known port (`smtp://…:465`, `smtps://…:587`) would time out
 * or fail its TLS handshake on every connection. Both are refused, with the fix.
 *
 * @example
 * ```ts
 * const url = parseSmtpUrl(`smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@smtp.example.com:587`);
 * if (!url.ok) throw new Error(`SMTP URL: ${url.problem}. To fix: ${url.fix}`);
 * ```
 */
export function parseSmtpUrl(text: string): SmtpUrl {
  const refuse = (problem: string, fix: string): SmtpUrl => ({ ok: false, problem, fix });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('it cannot be read as a URL', ENCODE_FIX);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    return refuse('it is not an smtp:// or smtps:// URL', `write it as ${EXAMPLE}`);
  // What follows an unencoded `/`, `?` or `#` in a password is read as a path, query or fragment.
  if ((url.pathname !== '' && url.pathname !== '/') || url.hash !== '' || url.search.includes('@'))
    return refuse(
      'it has a path, a fragment or an @ after its host, as when a password holds an unencoded /, ? or #',
      ENCODE_FIX,
    );
  if (url.hostname === '') return refuse('it names no host', `write it as ${EXAMPLE}`);
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    return refuse('its user name or password has a % that starts no percent-encoded character', ENCODE_FIX);
  }
  // With one half of a login missing (a password lost from a secret, a user name pasted alone)
  // no login can be made: every message would be retried against it until given up. Refused at
  // start instead.
  if ((user === '') !== (pass === ''))
    return refuse(
      user === ''
        ? 'it has a password but no user name, so no login can be made'
        : 'it has a user name but no password, so no login can be made',
      `write both, percent-encoded, as ${EXAMPLE}; for a relay that takes mail without a login, leave both out (smtp://smtp.example.com:25)`,
    );
  const secure = url.protocol === 'smtps:';
  const port = url.port === '' ? undefined : Number(url.port);
  if (!secure && port === IMPLICIT_TLS_PORT)
    return refuse(
      'it asks for smtp:// (plain, upgraded by STARTTLS) on port 465, where servers speak TLS from the ' +
        'first byte, so every connection would wait for a greeting until it timed out',
      'write smtps:// for port 465, or use port 587 with smtp://',
    );
  if (secure && port !== undefined && STARTTLS_PORTS.has(port))
    return refuse(
      `it asks for smtps:// (TLS from the first byte) on port ${port}, where servers greet in plain text ` +
        'and upgrade with STARTTLS, so every TLS handshake would fail',
      'write smtp:// for this port (STARTTLS is used whenever the server offers it), or use port 465 with smtps://',
    );

  const owned = [...new Set(url.searchParams.keys())].filter((key) => Object.hasOwn(ADAPTER_OWNED, key));
  if (owned.length > 0)
    return refuse(
      `its query sets ${owned.join(', ')}, which the email adapter sets itself, so the value would be ignored`,
      owned.map((key) => ADAPTER_OWNED[key]).join('; '),
    );

  const options: SmtpConnectionOptions = {
    // An IPv6 literal keeps its brackets in a URL, not in a socket address.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    secure,
    ...(port !== undefined ? { port } : {}),
    ...(user !== '' ? { auth: { user, pass } } : {}),
  };
  for (const [key, raw] of url.searchParams) {
    const value =
      raw === 'true' ? true : raw === 'false' ? false : raw !== '' && !isNaN(Number(raw)) ? Number(raw) : raw;
    if (key.startsWith('tls.')) {
      const tls = (options.tls ??= {}) as Record<string, unknown>;
      if (!(key.slice(4) in tls)) tls[key.slice(4)] = value;
    } else if (!key.includes('.') && !(key in options)) {
      // As nodemailer's own reading: the URL's host, port, scheme and login win over the query.
      options[key] = value;
    }
  }
  // nodemailer upgrades with STARTTLS only when the server offers it, and otherwise logs in in
  // the clear: a relay without TLS, or anyone on the path who strips STARTTLS from the EHLO
  // answer, would be handed the password. With a login, TLS is required unless the URL says
  // `requireTLS=false` (a relay on this machine or a test server without TLS).
  if (!secure && options.auth !== undefined && !('requireTLS' in options)) options.requireTLS = true;
  return { ok: true, options };
}
