// The official @hubspot/api-client (unchanged) against the simulator.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const hubspot = require('@hubspot/api-client');
const { startSimulator } = require('../lib/sim');

let sim;
const client = (opts = {}) => new hubspot.Client({ accessToken: 'pat-sim-hubsync', basePath: sim.base, ...opts });

test.before(async () => {
  sim = await startSimulator(['--tier', '250']);
});
test.after(async () => {
  await sim.stop();
});
test.beforeEach(async () => {
  await sim.admin('POST', '/_sim/reset');
  await sim.admin('POST', '/_sim/tier', { tier: 250 });
});

test('create, read, update, archive a contact', async () => {
  const hs = client();
  const created = await hs.crm.contacts.basicApi.create({ properties: { email: 'Conf@Example.com', firstname: 'Con' } });
  assert.match(created.id, /^\d+$/);
  assert.equal(created.properties.email, 'conf@example.com');
  assert.ok(created.createdAt instanceof Date);
  const read = await hs.crm.contacts.basicApi.getById(created.id, ['email', 'firstname', 'lastname']);
  assert.equal(read.properties.firstname, 'Con');
  assert.equal(read.properties.lastname, null);
  const byEmail = await hs.crm.contacts.basicApi.getById('conf@example.com', ['email'], undefined, undefined, false, 'email');
  assert.equal(byEmail.id, created.id);
  const updated = await hs.crm.contacts.basicApi.update(created.id, { properties: { firstname: 'Connie' } });
  assert.equal(updated.properties.firstname, undefined === updated.properties.firstname ? undefined : 'Connie');
  await hs.crm.contacts.basicApi.archive(created.id);
  await assert.rejects(hs.crm.contacts.basicApi.getById(created.id), (e) => e.code === 404 && e.body.category === 'OBJECT_NOT_FOUND');
  const archived = await hs.crm.contacts.basicApi.getById(created.id, undefined, undefined, undefined, true);
  assert.equal(archived.archived, true);
});

test('validation and conflict errors surface with HubSpot bodies', async () => {
  const hs = client();
  await hs.crm.contacts.basicApi.create({ properties: { email: 'dup@example.com' } });
  await assert.rejects(hs.crm.contacts.basicApi.create({ properties: { email: 'dup@example.com' } }), (e) => {
    assert.equal(e.code, 409);
    assert.equal(e.body.category, 'CONFLICT');
    assert.match(e.body.message, /Existing ID: \d+/);
    return true;
  });
  await assert.rejects(hs.crm.contacts.basicApi.create({ properties: { nope: 'x' } }), (e) => {
    assert.equal(e.code, 400);
    assert.equal(e.body.category, 'VALIDATION_ERROR');
    assert.equal(e.body.errors[0].code, 'PROPERTY_DOESNT_EXIST');
    return true;
  });
});

test('search with paging reaches every match', async () => {
  const hs = client();
  await sim.admin('POST', '/_sim/seed', { type: 'contacts', count: 45, seed: 9 });
  const seen = new Set();
  let after;
  let pages = 0;
  do {
    const page = await hs.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@example.com' }] }],
      sorts: ['hs_object_id'],
      properties: ['email'],
      limit: 20,
      after,
    });
    assert.equal(page.total, 45);
    page.results.forEach((r) => seen.add(r.id));
    after = page.paging?.next?.after;
    pages += 1;
  } while (after);
  assert.equal(seen.size, 45);
  assert.equal(pages, 3);
});

test('batch upsert creates then updates by email', async () => {
  const hs = client();
  const inputs = Array.from({ length: 100 }, (_, i) => ({ id: `u${i}@example.com`, idProperty: 'email', properties: { firstname: `F${i}` } }));
  const first = await hs.crm.contacts.batchApi.upsert({ inputs });
  assert.equal(first.status, 'COMPLETE');
  assert.equal(first.results.length, 100);
  const again = await hs.crm.contacts.batchApi.upsert({ inputs: inputs.map((i) => ({ ...i, properties: { lastname: 'L' } })) });
  assert.equal(again.results.length, 100);
  const dump = await sim.admin('GET', '/_sim/dump/contacts');
  assert.equal(dump.body.results.length, 100);
  await assert.rejects(
    hs.crm.contacts.batchApi.upsert({ inputs: [...inputs, { id: 'x@example.com', idProperty: 'email', properties: {} }] }),
    (e) => e.code === 400,
  );
});

test('schemas: create a custom object and write records by every name', async () => {
  const hs = client();
  const schema = await hs.crm.schemas.coreApi.create({
    name: 'machines',
    labels: { singular: 'Machine', plural: 'Machines' },
    primaryDisplayProperty: 'serial',
    requiredProperties: ['serial'],
    associatedObjects: ['CONTACT'],
    properties: [{ name: 'serial', label: 'Serial', type: 'string', fieldType: 'text', hasUniqueValue: true }],
  });
  assert.match(schema.objectTypeId, /^2-\d+$/);
  assert.equal(schema.fullyQualifiedName, 'p62515_machines');
  const all = await hs.crm.schemas.coreApi.getAll();
  assert.equal(all.results.length, 1);
  for (const ref of [schema.objectTypeId, 'p_machines', schema.fullyQualifiedName]) {
    const obj = await hs.crm.objects.basicApi.create(ref, { properties: { serial: `S-${ref}` } });
    assert.match(obj.id, /^\d+$/);
  }
});

test('associations v4: default association and paging by object', async () => {
  const hs = client();
  const contact = await hs.crm.contacts.basicApi.create({ properties: { email: 'assoc@example.com' } });
  const company = await hs.crm.companies.basicApi.create({ properties: { name: 'Acme', domain: 'acme.example' } });
  const res = await hs.crm.associations.v4.batchApi.createDefault('contacts', 'companies', {
    inputs: [{ _from: { id: contact.id }, to: { id: company.id } }],
  });
  assert.equal(res.results[0].associationSpec.associationTypeId, 279);
  const page = await hs.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'companies');
  assert.equal(page.results.length, 1);
  assert.equal(String(page.results[0].toObjectId), company.id);
  const batch = await hs.crm.associations.v4.batchApi.getPage('companies', 'contacts', { inputs: [{ id: company.id }] });
  assert.equal(batch.results[0].to[0].associationTypes[0].typeId, 280);
  const labels = await hs.crm.associations.v4.schema.definitionsApi.getAll('contacts', 'companies');
  assert.ok(labels.results.some((l) => l.typeId === 279));
});

test('associations v4: archiveLabels takes one label off and leaves the rest', async () => {
  const hs = client();
  const contact = await hs.crm.contacts.basicApi.create({ properties: { email: 'labels@example.com' } });
  const company = await hs.crm.companies.basicApi.create({ properties: { name: 'Initech' } });
  const spec = (associationTypeId) => ({ associationCategory: 'HUBSPOT_DEFINED', associationTypeId });
  const pair = (types) => ({ inputs: [{ _from: { id: contact.id }, to: { id: company.id }, types }] });
  await hs.crm.associations.v4.batchApi.create('contacts', 'companies', pair([spec(279), spec(1)]));
  await hs.crm.associations.v4.batchApi.archiveLabels('contacts', 'companies', pair([spec(1)]));
  const page = await hs.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'companies');
  assert.deepEqual(page.results[0].associationTypes.map((t) => t.typeId), [279]);
  await assert.rejects(hs.crm.associations.v4.batchApi.archiveLabels('contacts', 'companies', pair([spec(999)])),
    (e) => e.code === 400 && e.body.category === 'VALIDATION_ERROR');
});

test('OAuth: code exchange, refresh rotation, expired token', async () => {
  const redirect = 'http://localhost/callback';
  const auth = await fetch(`${sim.base}/oauth/authorize?client_id=sim-client-id&scope=crm.objects.contacts.read&redirect_uri=${encodeURIComponent(redirect)}`, { redirect: 'manual' });
  assert.equal(auth.status, 302);
  const code = new URL(auth.headers.get('location')).searchParams.get('code');
  const hs = client();
  const tokens = await hs.oauth.tokensApi.create('authorization_code', code, redirect, 'sim-client-id', 'sim-client-secret');
  assert.equal(tokens.expiresIn, 1800);
  const refreshed = await hs.oauth.tokensApi.create('refresh_token', undefined, undefined, 'sim-client-id', 'sim-client-secret', tokens.refreshToken);
  assert.notEqual(refreshed.refreshToken, tokens.refreshToken);
  await assert.rejects(
    hs.oauth.tokensApi.create('refresh_token', undefined, undefined, 'sim-client-id', 'sim-client-secret', tokens.refreshToken),
    (e) => e.code === 400,
  );
  const oauthClient = new hubspot.Client({ accessToken: refreshed.accessToken, basePath: sim.base });
  const list = await oauthClient.crm.contacts.basicApi.getPage(5);
  assert.deepEqual(list.results, []);
  await sim.admin('POST', '/_sim/oauth/expire-all');
  await assert.rejects(oauthClient.crm.contacts.basicApi.getPage(5), (e) => e.code === 401 && e.body.category === 'EXPIRED_AUTHENTICATION');
});

test('429 retry: the client retries SECONDLY search limits and 5xx, counted by the simulator', async () => {
  const hs = client({ numberOfApiCallRetries: 3 });
  const search = () => hs.crm.contacts.searchApi.doSearch({ filterGroups: [], limit: 1 });
  const results = await Promise.all(Array.from({ length: 7 }, search));
  assert.equal(results.length, 7);
  let counters = (await sim.admin('GET', '/_sim/counters')).body;
  assert.equal(counters.requests['POST /crm/v3/objects/{type}/search']['429'], 2);
  assert.equal(counters.requests['POST /crm/v3/objects/{type}/search']['200'], 7);
  await sim.admin('POST', '/_sim/counters/reset');
  await sim.admin('PUT', '/_sim/faults', { rules: [{ route: '/crm/v3/objects/companies', pct500: 100, count: 2 }] });
  const page = await hs.crm.companies.basicApi.getPage(1);
  assert.deepEqual(page.results, []);
  counters = (await sim.admin('GET', '/_sim/counters')).body;
  assert.equal(counters.requests['GET /crm/v3/objects/{type}']['500'], 2);
  assert.equal(counters.requests['GET /crm/v3/objects/{type}']['200'], 1);
});

test('429 retry: TEN_SECONDLY_ROLLING is retried after the window', { timeout: 30000 }, async () => {
  const hs = client({ numberOfApiCallRetries: 2 });
  await sim.admin('PUT', '/_sim/faults', { rules: [{ route: '/crm/v3/objects/deals', pct429: 100, count: 1 }] });
  const page = await hs.crm.deals.basicApi.getPage(1);
  assert.deepEqual(page.results, []);
  const counters = (await sim.admin('GET', '/_sim/counters')).body;
  assert.equal(counters.rateLimited, 1);
  const noRetry = client();
  await sim.admin('PUT', '/_sim/faults', { rules: [{ route: '/crm/v3/objects/deals', pct429: 100, count: 1 }] });
  await assert.rejects(noRetry.crm.deals.basicApi.getPage(1), (e) => e.code === 429 && e.body.policyName === 'TEN_SECONDLY_ROLLING');
});
