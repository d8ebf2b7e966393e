import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY } from '../support/http.js';
import {
  expectNoWrites,
  fuzzHarness,
  fuzzParams,
  RUNS,
  watchProcess,
  writeWatch,
  type FuzzHarness,
  type WriteWatch,
} from './fuzz-support.js';

let h: FuzzHarness;
let writes: WriteWatch;
let port: number;
const watch = watchProcess();

beforeAll(async () => {
  h = await fuzzHarness();
  writes = await writeWatch(h);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  port = (h.app.server.address() as { port: number }).port;
});
afterAll(async () => {
  writes.close();
  await h.close();
  watch.stop();
});

/** Sends bytes as they are, half-closes, and returns everything the server wrote back. */
function exchange(request: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('utf8'));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.end(request);
  });
}

/** The responses in what came back (pipelined requests get several), by their Content-Length. */
function responses(answer: string): Array<{ status: number; type: string; body: string }> {
  const found: Array<{ status: number; type: string; body: string }> = [];
  let rest = Buffer.from(answer, 'utf8');
  for (;;) {
    const text = rest.toString('latin1');
    const head = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
    if (!head) return found;
    const length = Number(/^content-length: *(\d+)/im.exec(head[2]!)?.[1] ?? 0);
    const type = /^content-type: *([^\r]*)/im.exec(head[2]!)?.[1] ?? '';
    const start = head[0].length;
    found.push({
      status: Number(head[1]),
      type,
      body: rest.subarray(start, start + length).toString('utf8'),
    });
    rest = rest.subarray(start + length);
  }
}

const octets = (value: string | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'));
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))),
  );

/** Octets that HTTP framing or decoding has tripped over. */
const nasty = fc.oneof(
  fc.constantFrom<string | number[]>(
    '\r',
    '\n',
    '\r\n',
    '\0',
    ' ',
    '\t',
    '\r\n ',
    '%',
    '%ff',
    [0xff],
    [0xc3],
    [0x80],
    [0x7f],
  ),
  fc.string({ maxLength: 12 }),
);
const spoiled = (base: string) =>
  fc.tuple(fc.nat(base.length), nasty).map(([at, bad]) => bytes(base.slice(0, at), bad, base.slice(at)));

const body = '{"userId":"raw","event":"Raw"}';
const request = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), spoiled('POST')),
  path: fc.oneof(
    fc.constantFrom('/healthz', '/v1/track', '/v1/customers/ada', '/t/c/abc', '/admin/queues'),
    spoiled('/v1/track'),
    spoiled('/v1/customers/ada?x=1'),
  ),
  headers: fc.array(
    fc.oneof(
      fc.constantFrom(
        `Authorization: Bearer ${API_KEY}`,
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        'Content-Length: 3',
        'Content-Length: -1',
        'Transfer-Encoding: chunked',
        'Transfer-Encoding: chunked, identity',
        'X-Request-Id: ok-1',
        ' folded: continuation',
        'Host: a, b',
      ),
      spoiled('X-Request-Id: abc'),
      spoiled(`Authorization: Bearer ${API_KEY}`),
      spoiled('Content-Type: application/json'),
    ),
    { maxLength: 5 },
  ),
  payload: fc.oneof(
    fc.constant(body),
    fc.constant(''),
    fc.constant('5\r\nhello\r\n0\r\n\r\n'),
    spoiled(body),
  ),
});

describe('raw HTTP on a socket, below inject()', () => {
  it('never answers 5xx, answers refusals in the API shape, and a refused request writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const head = Buffer.concat([
          octets(r.method),
          Buffer.from(' '),
          octets(r.path),
          Buffer.from(' HTTP/1.1\r\nHost: localhost\r\n'),
          ...r.headers.map((line) => Buffer.concat([octets(line), Buffer.from('\r\n')])),
          Buffer.from('\r\n'),
          octets(r.payload),
        ]);
        const { result: answer, keys } = await writes.during(() => exchange(head));
        const answers = responses(answer);
        const what = `${JSON.stringify(head.toString('latin1'))} -> ${answer.slice(0, 400)}`;
        for (const { status } of answers) expect(status, what).toBeLessThan(500);
        if (answers.length > 0 && answers.every(({ status }) => status >= 400)) {
          expectNoWrites(keys, what);
          for (const { type, body } of answers)
            if (type.includes('json') && body.includes('"error"') && !body.includes('ERRORS.'))
              expect((JSON.parse(body) as { error?: { code?: unknown } }).error?.code, what).toMatch(
                /^CHORUS_/,
              );
        }
      }),
      fuzzParams(RUNS),
    );
  });

  it('names the parser complaint when a header value holds a line break, and still serves the next request', async () => {
    const answer = await exchange(bytes('GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\nX-Injected: 1\r\n\r\n'));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('CHORUS_BAD_REQUEST');
    expect(answer).toMatch(/not valid HTTP \(HPE_[A-Z_]+/);
    expect(answer.toLowerCase()).not.toContain('x-injected');
    // Like every answer, it names its request id, the one its body gives.
    const requestId = /^x-request-id: *([^\r]+)/im.exec(answer)?.[1];
    expect(answer).toContain(`"requestId":"${requestId}"`);
    const next = await exchange(bytes('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(next).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('no request crashed the process', () => {
    expect(watch.problems).toEqual([]);
  });
});
