// Baseline for bench_hubspot_push: the official HubSpot Node client
// (@hubspot/api-client 13.5.0, pinned in tests/conformance/package.json)
// upserting N contacts in batches of 100 with its own limiter
// (DEFAULT_LIMITER_OPTIONS: 9 requests/s, 6 concurrent) and its own retries
// (numberOfApiCallRetries: 6 — 5xx and 429 TEN_SECONDLY_ROLLING/SECONDLY).
// Usage: node node_push.js <basePath> <token> <n> <dir holding node_modules>
'use strict';
const path = require('path');

const [basePath, token, nArg, modulesParent] = process.argv.slice(2);
const pkg = path.join(modulesParent, 'node_modules', '@hubspot', 'api-client');
const { Client } = require(pkg);
const { DEFAULT_LIMITER_OPTIONS } = require(path.join(pkg, 'lib', 'src', 'configuration', 'constants'));

async function main() {
  const n = parseInt(nArg, 10);
  const client = new Client({
    accessToken: token,
    basePath,
    numberOfApiCallRetries: 6,
    limiterOptions: DEFAULT_LIMITER_OPTIONS,
  });
  const batches = [];
  for (let start = 0; start < n; start += 100) {
    const inputs = [];
    for (let i = start; i < Math.min(n, start + 100); i++) {
      const email = `node${i}@example.com`;
      inputs.push({ id: email, idProperty: 'email', properties: { email, firstname: 'Node' } });
    }
    batches.push(inputs);
  }
  let ok = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    batches.map(async (inputs) => {
      try {
        const r = await client.crm.contacts.batchApi.upsert({ inputs });
        ok += r.results.length;
      } catch (e) {
        failed += inputs.length;
      }
    }),
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ records: ok, failed, elapsed_ms: ms, batches: batches.length }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
