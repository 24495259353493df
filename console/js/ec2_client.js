// The console's only way to change anything: the EC2 Query API on this server (POST /,
// form-encoded, Version=2016-11-15), SigV4-signed in the browser, XML replies.
import { signedFetch } from './signed_fetch.js';
import { uriEncode } from './sigv4.js';
import { errorOf, parseXml, toObject } from './xml.js';

export const API_VERSION = '2016-11-15';

export class ApiError extends Error {
  constructor(code, message, status, action) {
    super(message);
    this.code = code;
    this.status = status;
    this.action = action;
  }
}

// {Name: value | [values] | {nested}} into EC2 wire pairs: lists become Name.1, Name.2, …,
// objects Name.Child; undefined, null and '' are left out (as the SDKs do for unset members).
export function flatten(params, prefix = '', out = []) {
  for (const [name, value] of Object.entries(params)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (item !== null && typeof item === 'object') flatten(item, `${key}.${i + 1}`, out);
        else if (item !== undefined && item !== '') out.push([`${key}.${i + 1}`, String(item)]);
      });
    } else if (typeof value === 'object') {
      flatten(value, key, out);
    } else {
      out.push([key, String(value)]);
    }
  }
  return out;
}

export class Ec2Client {
  // credentials: {accessKeyId, secretAccessKey, region}; endpoint: the API's URL path ('/').
  constructor(credentials, { endpoint = '/', fetchImpl = (...a) => fetch(...a) } = {}) {
    this.credentials = credentials;
    this.endpoint = endpoint;
    this.fetch = fetchImpl;
  }

  // Answers the reply's root element as an object; throws ApiError on an error envelope.
  async call(action, params = {}) {
    const pairs = [['Action', action], ['Version', API_VERSION], ...flatten(params)];
    const body = pairs.map(([n, v]) => `${uriEncode(n)}=${uriEncode(v)}`).join('&');
    let response;
    try {
      response = await signedFetch(this.credentials, 'ec2', {
        method: 'POST', path: this.endpoint, body,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      }, this.fetch);
    } catch (e) {
      throw new ApiError('NetworkError', `The server cannot be reached (${e.message}).`, 0, action);
    }
    const doc = parseXml(await response.text());
    const error = errorOf(doc);
    if (!response.ok || error) {
      throw new ApiError(error?.code || `HTTP${response.status}`,
                         error?.message || response.statusText, response.status, action);
    }
    return toObject(doc.documentElement);
  }

  // Every page of a Describe* call, merged (for selectors; tables page themselves).
  async all(action, params, setName) {
    const items = [];
    let token;
    do {
      const page = await this.call(action, { ...params, MaxResults: 1000, NextToken: token });
      items.push(...(page[setName] || []));
      token = page.nextToken;
    } while (token);
    return items;
  }
}
