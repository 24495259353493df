// The console's modules use the Web Crypto API as the browser has it: the global `crypto`.
// Node.js 18 (Debian 12's) has it only as node:crypto's `webcrypto`; Node.js 19 and later
// also as the global. Imported first by every test that runs console code in Node.
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) {
  globalThis.crypto = webcrypto;
}
