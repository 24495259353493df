// The console's SigV4 signer (console/js/sigv4.js, WebCrypto) against the AWS SigV4 test
// suite's known answers (awslabs/aws-c-auth tests/aws-signing-test-suite/v4/<name>: the same
// vectors tests/api/sigv4_test.cc checks the server's verifier with). The browser test then
// proves it against the server itself.
import './node_webcrypto.mjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { amzDate, authorizationHeader, uriEncode } from '../../console/js/sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE',
                      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const scope = { region: 'us-east-1', service: 'service' };
const base = { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' };

const vectors = [
  ['get-vanilla', 'GET', '/', '', {}, '',
   '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
  ['get-vanilla-query-order-key-case', 'GET', '/', 'Param2=value2&Param1=value1', {}, '',
   'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
  ['get-vanilla-empty-query-key', 'GET', '/', 'Param1=value1', {}, '',
   'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb'],
  ['get-vanilla-utf8-query', 'GET', '/', '\u1234=bar', {}, '',
   '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04'],
  ['get-vanilla-query-unreserved', 'GET', '/',
   '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=' +
   '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', {}, '',
   '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197'],
  ['get-header-value-trim', 'GET', '/', '',
   { 'My-Header1': ' value1', 'My-Header2': ' "a   b   c"' }, '',
   'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736'],
];

for (const [name, method, path, query, headers, body, signature] of vectors) {
  test(`SigV4 test suite: ${name}`, async () => {
    const authorization = await authorizationHeader(
      { method, path, query, headers: { ...base, ...headers }, body }, credentials, scope);
    const signed = ['host', ...Object.keys(headers).map((n) => n.toLowerCase()), 'x-amz-date']
      .sort().join(';');
    assert.equal(authorization,
                 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
                 `SignedHeaders=${signed}, Signature=${signature}`);
  });
}

test('A different secret gives a different signature', async () => {
  const request = { method: 'GET', path: '/', query: '', headers: base, body: '' };
  const good = await authorizationHeader(request, credentials, scope);
  const bad = await authorizationHeader(request, { ...credentials, secretAccessKey: 'x' }, scope);
  assert.notEqual(good, bad);
});

test('X-Amz-Date is yyyymmddThhmmssZ in UTC', () => {
  assert.equal(amzDate(new Date(Date.UTC(2026, 10, 22, 2, 43, 48, 123))), '20261122T024348Z');
});

test('Names and values are encoded as SigV4 wants (RFC 3986 unreserved kept)', () => {
  assert.equal(uriEncode("a b/c*d'~._-"), 'a%20b%2Fc%2Ad%27~._-');
  assert.equal(uriEncode('10.0.0.0/16'), '10.0.0.0%2F16');
});
