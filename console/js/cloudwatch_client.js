// CloudWatch on this server, as boto3 reaches it: JSON 1.0 (X-Amz-Target), signed for service
// "monitoring" with the signed-in key. Timestamps travel as Unix seconds.
import { signedFetch } from './signed_fetch.js';

const TARGET = 'GraniteServiceVersion20100801.';

export class CloudWatchError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export class CloudWatchClient {
  constructor(credentials, { fetchImpl = (...a) => fetch(...a) } = {}) {
    this.credentials = credentials;
    this.fetch = fetchImpl;
  }

  async call(operation, input) {
    let response;
    try {
      response = await signedFetch(this.credentials, 'monitoring', {
        method: 'POST', path: '/', body: JSON.stringify(input),
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': TARGET + operation },
      }, this.fetch);
    } catch (e) {
      throw new CloudWatchError('NetworkError', `The server cannot be reached (${e.message}).`, 0);
    }
    const text = await response.text();
    let doc = {};
    try {
      doc = text ? JSON.parse(text) : {};
    } catch (_) {
      throw new CloudWatchError(`HTTP${response.status}`, text.slice(0, 200), response.status);
    }
    if (!response.ok) {
      const query = response.headers.get('x-amzn-query-error');
      const code = query ? query.split(';')[0] : String(doc.__type || '').split('#').pop();
      throw new CloudWatchError(code || `HTTP${response.status}`, doc.message || doc.Message ||
                                response.statusText, response.status);
    }
    return doc;
  }

  // Every page of GetMetricData, merged per query id: {id: {timestamps: [ms], values: []}}.
  async metricData(queries, start, end) {
    const out = {};
    let token;
    do {
      const page = await this.call('GetMetricData', {
        MetricDataQueries: queries, StartTime: start / 1000, EndTime: end / 1000,
        ScanBy: 'TimestampAscending', NextToken: token });
      for (const r of page.MetricDataResults || []) {
        const into = (out[r.Id] ||= { timestamps: [], values: [] });
        into.timestamps.push(...(r.Timestamps || []).map((t) => t * 1000));
        into.values.push(...(r.Values || []));
      }
      token = page.NextToken;
    } while (token);
    return out;
  }

  // The metrics of a namespace with these dimensions (every page).
  async listMetrics(namespace, dimensions) {
    const metrics = [];
    let token;
    do {
      const page = await this.call('ListMetrics', {
        Namespace: namespace, Dimensions: dimensions, NextToken: token });
      metrics.push(...(page.Metrics || []));
      token = page.NextToken;
    } while (token);
    return metrics;
  }
}
