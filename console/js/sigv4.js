// AWS Signature Version 4 (AWS4-HMAC-SHA256, header form) with WebCrypto: the console signs
// every EC2 Query API call itself, exactly as the aws CLI does. No DOM use: also runs in Node.

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(text) {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

async function hmac(key, text) {
  const raw = typeof key === 'string' ? encoder.encode(key) : key;
  const imported = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' },
                                                 false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', imported, encoder.encode(text)));
}

// RFC 3986 unreserved characters stay, everything else is %XX (upper case), as SigV4 wants.
export function uriEncode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g,
                                          (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// "20261122T024348Z" from a Date.
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalQuery(query) {
  if (!query) return '';
  const pairs = query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? '' : p.slice(eq + 1);
    const decode = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return [uriEncode(decode(name)), uriEncode(decode(value))];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

// Signs a request. request: {method, path, query, headers: {name: value}, body}; headers must
// include host and x-amz-date. Returns the Authorization header value.
// credentials: {accessKeyId, secretAccessKey}; scope: {region, service}.
export async function authorizationHeader(request, credentials, scope) {
  const headers = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = String(value).trim().replace(/\s+/g, ' ');
  }
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method, request.path || '/', canonicalQuery(request.query), canonicalHeaders,
    signedHeaders, await sha256Hex(request.body || ''),
  ].join('\n');
  const date = headers['x-amz-date'];
  const day = date.slice(0, 8);
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, credentialScope,
                        await sha256Hex(canonicalRequest)].join('\n');
  let key = await hmac('AWS4' + credentials.secretAccessKey, day);
  key = await hmac(key, scope.region);
  key = await hmac(key, scope.service);
  key = await hmac(key, 'aws4_request');
  const signature = hex(await hmac(key, stringToSign));
  return `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, ` +
         `SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
