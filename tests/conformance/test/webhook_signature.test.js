// The official client's Signature.isValid and hubsync's webhook::verify give
// the same verdict on the same request (method, uri, body, timestamp,
// secret): v1, v2 and v3, untouched and tampered, and a stale v3 timestamp.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { Signature } = require('@hubspot/api-client');

const bin = process.env.HUBSYNC_WEBHOOK_VERIFY_BIN;
const secret = 'conformance-secret-2f6e1c';
const url = 'https://hubsync.example.com/hooks/hubspot?portal=62515&x=%C3%A9';
const body = JSON.stringify([
  { eventId: 7, subscriptionId: 12, portalId: 62515, occurredAt: 1700000000000,
    subscriptionType: 'contact.propertyChange', objectId: 123, propertyName: 'city', propertyValue: 'Østfold ✓' },
]);

// hubsync's verdict: valid | bad_signature | stale | missing.
function hubsync({ method, version, signature, requestBody, timestamp }) {
  assert.ok(bin, 'HUBSYNC_WEBHOOK_VERIFY_BIN is not set (ctest passes the webhook_verify binary)');
  const args = [method, url, version, signature];
  if (timestamp !== undefined) args.push(String(timestamp));
  return execFileSync(bin, args, {
    input: Buffer.from(requestBody, 'utf8'),
    env: { ...process.env, HUBSYNC_WEBHOOK_SECRET: secret },
  }).toString().trim();
}

// The Node client's verdict; it throws on a stale v3 timestamp (a rejection).
function node({ method, version, signature, requestBody, timestamp }) {
  try {
    return Signature.isValid({ method, signatureVersion: version, signature, clientSecret: secret,
                               requestBody, url, timestamp });
  } catch (e) {
    return false;
  }
}

function signed(version, timestamp) {
  return Signature.getSignature('POST', version, { clientSecret: secret, requestBody: body, url, timestamp });
}

const cases = [];
for (const version of ['v1', 'v2', 'v3']) {
  const ts = version === 'v3' ? Date.now() : undefined;
  const signature = signed(version, ts);
  cases.push({ name: `${version} as signed`, method: 'POST', version, signature, requestBody: body, timestamp: ts, ok: true });
  cases.push({ name: `${version} tampered body`, method: 'POST', version, signature,
               requestBody: body.replace('Østfold', 'Ostfold'), timestamp: ts, ok: false });
  cases.push({ name: `${version} one byte appended`, method: 'POST', version, signature,
               requestBody: body + ' ', timestamp: ts, ok: false });
}
{
  const ts = Date.now();
  const signature = signed('v3', ts);
  cases.push({ name: 'v3 other method', method: 'PUT', version: 'v3', signature, requestBody: body, timestamp: ts, ok: false });
  cases.push({ name: 'v3 other timestamp', method: 'POST', version: 'v3', signature, requestBody: body, timestamp: ts + 1, ok: false });
  const old = Date.now() - 301000;
  cases.push({ name: 'v3 stale timestamp', method: 'POST', version: 'v3', signature: signed('v3', old),
               requestBody: body, timestamp: old, ok: false, verdict: 'stale' });
}

for (const c of cases) {
  test(`webhook signature: ${c.name}`, () => {
    const n = node(c);
    const h = hubsync(c);
    assert.equal(n, c.ok, 'Node client');
    assert.equal(h === 'valid', c.ok, `hubsync said ${h}`);
    if (c.verdict) assert.equal(h, c.verdict);
  });
}
