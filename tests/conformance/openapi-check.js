// Checks that the simulator's routes and response bodies conform to HubSpot's
// OpenAPI documents. Usage: node openapi-check.js (env HUBSPOT_SIM_BIN,
// HUBSYNC_OPENAPI_DIR). Exits 77 (ctest SKIP_RETURN_CODE) when the documents
// are not there, 1 on any mismatch.
'use strict';
const { startSimulator } = require('./lib/sim');
const { specDir, loadSpecs, checkExchange } = require('./lib/openapi');

const SKIP = 77;
const specs = loadSpecs();
if (!specs) {
  console.log(`SKIPPED: the OpenAPI documents folder ${specDir} does not exist; ` +
    'route and body validation against HubSpot\'s OpenAPI specs did not run.');
  process.exit(SKIP);
}

async function main() {
  const sim = await startSimulator(['--tier', '250']);
  const failures = [];
  let checked = 0;
  // checkRequest: also validate the request body against the operation's
  // documented requestBody (for exchanges that show a new request shape);
  // an array of member names checks only those members of the body.
  const call = async (method, urlPath, body, { form = false, expectStatus, checkRequest = false } = {}) => {
    const headers = { authorization: 'Bearer pat-sim-hubsync' };
    let payload;
    if (body !== undefined) {
      headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
      payload = form ? new URLSearchParams(body).toString() : JSON.stringify(body);
    }
    const res = await fetch(sim.base + urlPath, { method, headers, body: payload, redirect: 'manual' });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    const label = `${method} ${urlPath.split('?')[0]} -> ${res.status}`;
    checked += 1;
    if (expectStatus !== undefined && res.status !== expectStatus) failures.push(`${label}: expected status ${expectStatus}`);
    failures.push(...checkExchange(specs, { method, urlPath, status: res.status, requestBody: body, responseBody: json, checkRequest }));
    console.log(`checked ${label}`);
    return json;
  };

  try {
    // objects
    const c = await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'o@example.com', firstname: 'O' } }, { expectStatus: 201 });
    await call('GET', `/crm/v3/objects/contacts/${c.id}?properties=email,lastname&propertiesWithHistory=firstname`, undefined, { expectStatus: 200 });
    await call('PATCH', `/crm/v3/objects/contacts/${c.id}`, { properties: { lastname: 'P' } }, { expectStatus: 200 });
    await call('GET', '/crm/v3/objects/contacts?limit=1', undefined, { expectStatus: 200 });
    await call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: [{ properties: { email: 'b1@example.com' } }, { properties: { email: 'b2@example.com' } }] }, { expectStatus: 201 });
    await call('POST', '/crm/v3/objects/contacts/batch/upsert', { inputs: [{ id: 'b1@example.com', idProperty: 'email', properties: { firstname: 'B' } }] }, { expectStatus: 200 });
    await call('POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: c.id, properties: { city: 'Oslo' } }] }, { expectStatus: 200 });
    await call('POST', '/crm/v3/objects/contacts/batch/read', { properties: ['email'], inputs: [{ id: c.id }, { id: '1' }] }, { expectStatus: 207 });
    await call('POST', '/crm/v3/objects/contacts/batch/create', { inputs: [{ objectWriteTraceId: 't1', properties: { email: 'bad' } }, { objectWriteTraceId: 't2', properties: { email: 'ok@example.com' } }] }, { expectStatus: 207 });
    await call('POST', '/crm/v3/objects/contacts/search', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }] }], limit: 2 }, { expectStatus: 200 });
    // The sweep's tie-phase request with a mapping's filters ANDed into its
    // one group (ISO dates already epoch ms), as HubSpotCrm::sweep sends it.
    // Only filterGroups is checked: the sort object is the form HubSpot's
    // search guide documents, the OpenAPI document types sorts as strings.
    const sweepBody = (dateValue) => ({
      filterGroups: [{ filters: [
        { propertyName: 'lastmodifieddate', operator: 'EQ', value: '1700000000000' },
        { propertyName: 'hs_object_id', operator: 'GT', value: '1' },
        { propertyName: 'lifecyclestage', operator: 'EQ', value: 'customer' },
        { propertyName: 'city', operator: 'HAS_PROPERTY' },
        { propertyName: 'createdate', operator: 'BETWEEN', value: dateValue, highValue: '1800000000000' },
        { propertyName: 'hs_lead_status', operator: 'IN', values: ['NEW', 'OPEN'] },
      ] }],
      sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
      properties: ['email', 'lastmodifieddate', 'hs_object_id', 'hs_merged_object_ids'],
      limit: 200,
    });
    await call('POST', '/crm/v3/objects/contacts/search', sweepBody('1700000000000'), { expectStatus: 200, checkRequest: ['filterGroups', 'properties', 'limit'] });
    await call('POST', '/crm/v3/objects/contacts/search', sweepBody('2023-11-14'), { expectStatus: 400 });
    await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'o@example.com' } }, { expectStatus: 409 });
    await call('POST', '/crm/v3/objects/contacts', { properties: { nope: '1' } }, { expectStatus: 400 });
    await call('GET', '/crm/v3/objects/contacts/999', undefined, { expectStatus: 404 });
    await call('POST', '/crm/v3/objects/companies', { properties: { name: 'Acme', domain: 'acme.example' } }, { expectStatus: 201 });
    await call('POST', '/crm/v3/objects/contacts/batch/read', { idProperty: 'email', properties: ['email'], propertiesWithHistory: ['firstname'], inputs: [{ id: 'B1@Example.com' }, { id: 'none@example.com' }] }, { expectStatus: 207, checkRequest: true });
    await call('POST', '/crm/v3/objects/contacts/batch/archive', { inputs: [{ id: c.id }] }, { expectStatus: 204 });
    const archived = await call('GET', '/crm/v3/objects/contacts?archived=true&properties=email', undefined, { expectStatus: 200 });
    if (!archived.results.length || !archived.results.every((o) => o.archived === true && o.archivedAt))
      failures.push('GET /crm/v3/objects/contacts?archived=true: every result needs archived: true and archivedAt');
    await call('POST', '/crm/v3/objects/contacts/batch/read?archived=true', { properties: ['email'], propertiesWithHistory: ['email'], inputs: [{ id: c.id }] }, { expectStatus: 200, checkRequest: true });
    await call('DELETE', `/crm/v3/objects/companies/1`, undefined, { expectStatus: 204 });
    // GDPR delete: gone for good, from reads and from the archived listing.
    const purged = await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'gdpr@example.com' } }, { expectStatus: 201 });
    await call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: purged.id }, { expectStatus: 204, checkRequest: true });
    await call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: 'none@example.com', idProperty: 'email' }, { expectStatus: 204, checkRequest: true });
    await call('GET', `/crm/v3/objects/contacts/${purged.id}?archived=true`, undefined, { expectStatus: 404 });
    // properties
    await call('GET', '/crm/v3/properties/contacts', undefined, { expectStatus: 200 });
    await call('POST', '/crm/v3/properties/contacts', { name: 'mrr', label: 'MRR', type: 'number', fieldType: 'number', groupName: 'contactinformation' }, { expectStatus: 201 });
    await call('GET', '/crm/v3/properties/contacts/mrr', undefined, { expectStatus: 200 });
    await call('PATCH', '/crm/v3/properties/contacts/mrr', { label: 'Monthly revenue' }, { expectStatus: 200 });
    await call('POST', '/crm/v3/properties/contacts/batch/read', { inputs: [{ name: 'email' }], archived: false }, { expectStatus: 200 });
    await call('POST', '/crm/v3/properties/contacts/batch/create', { inputs: [{ name: 'plan', label: 'Plan', type: 'string', fieldType: 'text', groupName: 'contactinformation' }] }, { expectStatus: 201 });
    await call('GET', '/crm/v3/properties/contacts/groups', undefined, { expectStatus: 200 });
    await call('POST', '/crm/v3/properties/contacts/groups', { name: 'billing', label: 'Billing' }, { expectStatus: 201 });
    await call('GET', '/crm/v3/properties/contacts/groups/billing', undefined, { expectStatus: 200 });
    await call('DELETE', '/crm/v3/properties/contacts/plan', undefined, { expectStatus: 204 });
    // schemas
    const schema = await call('POST', '/crm-object-schemas/v3/schemas', {
      name: 'machines', labels: { singular: 'Machine', plural: 'Machines' }, primaryDisplayProperty: 'serial',
      requiredProperties: ['serial'], associatedObjects: ['CONTACT'],
      properties: [{ name: 'serial', label: 'Serial', type: 'string', fieldType: 'text', hasUniqueValue: true }],
    }, { expectStatus: 201 });
    await call('GET', '/crm-object-schemas/v3/schemas', undefined, { expectStatus: 200 });
    await call('GET', `/crm-object-schemas/v3/schemas/${schema.objectTypeId}`, undefined, { expectStatus: 200 });
    await call('PATCH', `/crm-object-schemas/v3/schemas/${schema.objectTypeId}`, { searchableProperties: ['serial'] }, { expectStatus: 200 });
    await call('POST', `/crm-object-schemas/v3/schemas/${schema.objectTypeId}/associations`, { fromObjectTypeId: schema.objectTypeId, toObjectTypeId: '0-2', name: 'machine_to_company' }, { expectStatus: 201 });
    // associations
    const a = await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'a@example.com' } }, { expectStatus: 201 });
    const co = await call('POST', '/crm/v3/objects/companies', { properties: { name: 'Globex' } }, { expectStatus: 201 });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/associate/default', { inputs: [{ from: { id: a.id }, to: { id: co.id } }] }, { expectStatus: 200 });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/create', { inputs: [{ from: { id: a.id }, to: { id: co.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] }] }, { expectStatus: 201 });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [{ id: a.id }] }, { expectStatus: 200 });
    await call('GET', `/crm/v4/objects/contacts/${a.id}/associations/companies`, undefined, { expectStatus: 200 });
    await call('PUT', `/crm/v4/objects/contacts/${a.id}/associations/default/companies/${co.id}`, undefined, { expectStatus: 200 });
    await call('GET', '/crm/associations/v4/contacts/companies/labels', undefined, { expectStatus: 200 });
    const labelsArchive = (typeId) => ({ inputs: [{ from: { id: a.id }, to: { id: co.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] }] });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/labels/archive', labelsArchive(1), { expectStatus: 204, checkRequest: true });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/labels/archive', labelsArchive(999), { expectStatus: 400, checkRequest: true });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/archive', { inputs: [{ from: { id: a.id }, to: [{ id: co.id }] }] }, { expectStatus: 204 });
    // oauth
    const auth = await fetch(`${sim.base}/oauth/authorize?client_id=sim-client-id&scope=crm&redirect_uri=http%3A%2F%2Flocalhost%2Fcb`, { redirect: 'manual' });
    const code = new URL(auth.headers.get('location')).searchParams.get('code');
    const tok = await call('POST', '/oauth/v1/token', { grant_type: 'authorization_code', client_id: 'sim-client-id', client_secret: 'sim-client-secret', redirect_uri: 'http://localhost/cb', code }, { form: true, expectStatus: 200 });
    await call('GET', `/oauth/v1/access-tokens/${tok.access_token}`, undefined, { expectStatus: 200 });
    await call('GET', `/oauth/v1/refresh-tokens/${tok.refresh_token}`, undefined, { expectStatus: 200 });
    await call('POST', '/oauth/v1/token', { grant_type: 'refresh_token', client_id: 'sim-client-id', client_secret: 'sim-client-secret', refresh_token: tok.refresh_token }, { form: true, expectStatus: 200 });
    // automation actions v4: definitions with the developer API key (the
    // bearer header is ignored there); callbacks of a blocked execution are
    // exercised by test/actions.test.js.
    const dev = (p) => `${p}${p.includes('?') ? '&' : '?'}hapikey=sim-developer-key`;
    const defs = '/automation/v4/actions/1001';
    const egg = {
      actionUrl: 'https://erp.example.com/hubspot/action', published: false, objectTypes: ['CONTACT'],
      functions: [{ functionType: 'PRE_ACTION_EXECUTION', functionSource: 'exports.main = (e, cb) => cb(e)' }],
      inputFields: [{ isRequired: true, supportedValueTypes: ['STATIC_VALUE'],
                      typeDefinition: { name: 'plan', type: 'enumeration', fieldType: 'select', options: [{ label: 'Gold', value: 'gold' }] } }],
      outputFields: [{ typeDefinition: { name: 'erpId', type: 'string', fieldType: 'text', options: [], externalOptions: false, useChirp: false, schema: { type: 'STRING' } } }],
      inputFieldDependencies: [{ dependencyType: 'SINGLE_FIELD', controllingFieldName: 'plan', dependentFieldNames: [] }],
      objectRequestOptions: { properties: ['email'] },
      labels: { en: { actionName: 'Sync to ERP', inputFieldLabels: { plan: 'Plan' } } },
    };
    const def = await call('POST', dev(defs), egg, { expectStatus: 201, checkRequest: true });
    await call('GET', dev(`${defs}/${def.id}`), undefined, { expectStatus: 200 });
    await call('PATCH', dev(`${defs}/${def.id}`), { published: true, objectTypes: ['CONTACT', 'DEAL'] }, { expectStatus: 200, checkRequest: true });
    await call('GET', dev(`${defs}?limit=1`), undefined, { expectStatus: 200 });
    await call('GET', dev(`${defs}/${def.id}/revisions`), undefined, { expectStatus: 200 });
    await call('GET', dev(`${defs}/${def.id}/revisions/2`), undefined, { expectStatus: 200 });
    await call('POST', dev(defs), { ...egg, labels: {} }, { expectStatus: 400 });
    await call('POST', defs, egg, { expectStatus: 401 });
    await call('DELETE', dev(`${defs}/${def.id}`), undefined, { expectStatus: 204 });
    await call('GET', dev(`${defs}/${def.id}?archived=true`), undefined, { expectStatus: 200 });
    await call('GET', dev(`${defs}/${def.id}`), undefined, { expectStatus: 404 });
    await call('POST', '/automation/v4/actions/callbacks/ap-62515-99-1-0/complete',
      { outputFields: { hs_execution_state: 'SUCCESS' }, typedOutputs: {} }, { expectStatus: 404, checkRequest: true });
  } finally {
    await sim.stop();
  }
  if (failures.length) {
    console.log(`\n${failures.length} OpenAPI mismatches in ${checked} exchanges:`);
    failures.forEach((f) => console.log('  ' + f));
    process.exit(1);
  }
  console.log(`OK: ${checked} exchanges match the OpenAPI documents in ${specDir}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
