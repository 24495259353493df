// Starts a real `tmirror server` for the browser tests (as tests/integration/api/harness.py
// does): a fresh data directory, an access key, an agent token, a port the kernel picks.
import './node_webcrypto.mjs';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { amzDate, authorizationHeader, uriEncode } from '../../console/js/sigv4.js';

export async function startServer(binary, extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tmirror-console-'));
  const key = JSON.parse(execFileSync(binary, ['server', '--data-dir', dataDir,
                                               '--create-access-key'], { encoding: 'utf8' }));
  const agentToken = execFileSync(binary, ['server', '--data-dir', dataDir, '--create-agent-token'],
                                  { encoding: 'utf8' }).trim();
  const proc = spawn(binary, ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0',
                              ...extraArgs], { stdio: ['ignore', 'inherit', 'pipe'] });
  // The server logs to stderr, its address too; the lines go on to ours.
  proc.stderr.on('data', (chunk) => process.stderr.write(chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tmirror server did not start in 20 s')), 20000);
    let seen = '';
    proc.stderr.on('data', (chunk) => {
      seen += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`tmirror server exited with ${code}`)));
  });
  return {
    url, key, agentToken, dataDir,
    stop() {
      proc.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// One signed EC2 Query API call from Node (the console's own signer); answers the XML text,
// throws on an error envelope.
export async function apiCall(server, action, params = {}) {
  const pairs = [['Action', action], ['Version', '2016-11-15'], ...Object.entries(params)];
  const body = pairs.map(([n, v]) => `${uriEncode(n)}=${uriEncode(String(v))}`).join('&');
  const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
                    host: new URL(server.url).host, 'x-amz-date': amzDate(new Date()) };
  const authorization = await authorizationHeader(
    { method: 'POST', path: '/', query: '', headers, body },
    { accessKeyId: server.key.AccessKeyId, secretAccessKey: server.key.SecretAccessKey },
    { region: 'us-east-1', service: 'ec2' });
  const response = await fetch(`${server.url}/`, {
    method: 'POST', body,
    headers: { 'Content-Type': headers['content-type'], 'X-Amz-Date': headers['x-amz-date'],
               Authorization: authorization } });
  const text = await response.text();
  if (!response.ok) throw new Error(`${action}: HTTP ${response.status}: ${text}`);
  return text;
}

// The agent channel, as an agent uses it (Authorization: Bearer <token>).
export async function agentPost(server, path, document) {
  const response = await fetch(`${server.url}/agent/v1/${path}`, {
    method: 'POST', body: JSON.stringify(document),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.agentToken}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`agent ${path}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}
