// One SigV4-signed request to this server, as the console makes them all: the EC2 API
// (service ec2), CloudWatch (service monitoring) and the capture files (ec2).
import { amzDate, authorizationHeader } from './sigv4.js';

// request: {method, path, headers: {name: value} (lower-case names), body}; answers the fetch
// Response. Network failures throw as fetch does.
export async function signedFetch(credentials, service, request, fetchImpl = fetch) {
  const headers = { ...(request.headers || {}), host: location.host,
                    'x-amz-date': amzDate(new Date()) };
  const body = request.body || '';
  const authorization = await authorizationHeader(
    { method: request.method, path: request.path, query: '', headers, body }, credentials,
    { region: credentials.region || 'us-east-1', service });
  const sent = { ...headers, authorization };
  delete sent.host;  // the browser sets it
  return fetchImpl(request.path, { method: request.method, cache: 'no-store', headers: sent,
                                   body: request.method === 'GET' ? undefined : body });
}
