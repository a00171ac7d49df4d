// HubSpot's OpenAPI documents and a small JSON-schema check of recorded
// exchanges against them (used by openapi-check.js and the client tests).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const specDir = process.env.HUBSYNC_OPENAPI_DIR || path.resolve(__dirname, '../../../../shared/hubspot-openapi');

// Every *.json document of the folder by name, or null when the folder is not there.
function loadSpecs() {
  if (!fs.existsSync(specDir)) return null;
  const specs = {};
  for (const f of fs.readdirSync(specDir).filter((f) => f.endsWith('.json'))) {
    specs[f.replace(/\.json$/, '')] = JSON.parse(fs.readFileSync(path.join(specDir, f), 'utf8'));
  }
  return specs;
}

function resolve(spec, node) {
  let n = node;
  while (n && n.$ref) {
    const parts = n.$ref.replace(/^#\//, '').split('/');
    n = parts.reduce((o, k) => o[k], spec);
  }
  return n;
}

// A small JSON-schema check: type, required, properties, additionalProperties,
// items, enum, allOf/oneOf/anyOf, date-time format. Null is accepted where a
// string is expected inside `properties` maps (HubSpot returns null for
// requested properties without a value).
function validate(spec, schema, value, where, errors, inPropertiesMap = false) {
  const s = resolve(spec, schema);
  if (!s) return;
  if (s.allOf) s.allOf.forEach((x) => validate(spec, x, value, where, errors));
  for (const key of ['oneOf', 'anyOf']) {
    if (!s[key]) continue;
    const ok = s[key].some((alt) => {
      const e = [];
      validate(spec, alt, value, where, e);
      return e.length === 0;
    });
    if (!ok) errors.push(`${where}: matches none of ${key}`);
  }
  if (value === null) {
    if (!(s.nullable || inPropertiesMap)) errors.push(`${where}: null where ${s.type || 'a value'} is expected`);
    return;
  }
  const t = s.type;
  const actual = Array.isArray(value) ? 'array' : typeof value;
  if (t === 'integer' || t === 'number') {
    if (actual !== 'number' || (t === 'integer' && !Number.isInteger(value))) errors.push(`${where}: expected ${t}, got ${actual}`);
  } else if (t === 'string') {
    if (actual !== 'string') errors.push(`${where}: expected string, got ${actual} (${JSON.stringify(value)})`);
    else if (s.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${where}: not a date-time: ${value}`);
    else if (s.enum && !s.enum.includes(value)) errors.push(`${where}: ${value} not in enum ${s.enum.join(',')}`);
  } else if (t === 'boolean') {
    if (actual !== 'boolean') errors.push(`${where}: expected boolean, got ${actual}`);
  } else if (t === 'array') {
    if (!Array.isArray(value)) errors.push(`${where}: expected array, got ${actual}`);
    else value.forEach((v, i) => validate(spec, s.items, v, `${where}[${i}]`, errors));
  } else if (t === 'object' || s.properties) {
    if (actual !== 'object') {
      errors.push(`${where}: expected object, got ${actual}`);
      return;
    }
    for (const r of s.required || []) if (!(r in value)) errors.push(`${where}: missing required "${r}"`);
    for (const [k, v] of Object.entries(value)) {
      if (s.properties && s.properties[k]) validate(spec, s.properties[k], v, `${where}.${k}`, errors);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object')
        validate(spec, s.additionalProperties, v, `${where}.${k}`, errors, where.endsWith('.properties'));
    }
  }
}

function findOperation(specs, method, urlPath) {
  const matches = [];
  for (const [name, spec] of Object.entries(specs)) {
    for (const [template, ops] of Object.entries(spec.paths)) {
      const re = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
      const op = ops[method.toLowerCase()];
      if (op && re.test(urlPath)) matches.push({ name, spec, template, op, literal: template.split('{').length });
    }
  }
  // Per document, only the most literal template (fewest placeholders) counts.
  const best = {};
  for (const m of matches) if (!best[m.name] || m.literal < best[m.name].literal) best[m.name] = m;
  return Object.values(best);
}

// Checks one exchange: the route exists, the status is documented, the
// response body matches its schema; with checkRequest also the request body
// (an array of member names checks only those members). Returns the
// mismatches as strings.
function checkExchange(specs, { method, urlPath, status, requestBody, responseBody, checkRequest = false }) {
  const failures = [];
  const pathOnly = urlPath.split('?')[0];
  const label = `${method} ${pathOnly} -> ${status}`;
  const ops = findOperation(specs, method, pathOnly);
  if (ops.length === 0) return [`${label}: no such route in the OpenAPI documents`];
  for (const { name, spec, template, op } of ops) {
    const reqSchema = op.requestBody?.content?.['application/json']?.schema;
    if (checkRequest && reqSchema) {
      const errors = [];
      if (Array.isArray(checkRequest)) {
        const members = resolve(spec, reqSchema).properties || {};
        for (const m of checkRequest) {
          if (!members[m]) errors.push(`request.${m}: not a documented member`);
          else validate(spec, members[m], requestBody[m], `request.${m}`, errors);
        }
      } else {
        validate(spec, reqSchema, requestBody, 'request', errors);
      }
      for (const e of errors) failures.push(`${label} [${name} ${template}]: ${e}`);
    } else if (checkRequest) {
      failures.push(`${label} [${name} ${template}]: no documented JSON request body to check`);
    }
    const responses = op.responses || {};
    let resp = responses[String(status)];
    if (!resp) {
      if (status >= 400 && responses.default) resp = responses.default;
      else {
        failures.push(`${label}: status not documented for ${name} ${template} (documented: ${Object.keys(responses).join(',')})`);
        continue;
      }
    }
    resp = resolve(spec, resp);
    const content = resp.content || {};
    const media = content['application/json'] || content['*/*'];
    if (!media || !media.schema) continue;
    const errors = [];
    validate(spec, media.schema, responseBody, 'body', errors);
    for (const e of errors) failures.push(`${label} [${name} ${template}]: ${e}`);
  }
  return failures;
}

module.exports = { specDir, loadSpecs, resolve, validate, findOperation, checkExchange };
