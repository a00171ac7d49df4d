// A recording HTTP proxy in front of the simulator: the official client talks
// to it unchanged (basePath), and every exchange is kept for the OpenAPI check.
'use strict';
const http = require('node:http');

async function startRecorder(target) {
  const exchanges = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headers = {};
      for (const h of ['authorization', 'content-type', 'accept']) if (req.headers[h]) headers[h] = req.headers[h];
      try {
        const upstream = await fetch(target + req.url, { method: req.method, headers, body: text || undefined });
        const body = await upstream.text();
        exchanges.push({
          method: req.method,
          urlPath: req.url,
          status: upstream.status,
          requestBody: text ? JSON.parse(text) : undefined,
          responseBody: body ? JSON.parse(body) : null,
        });
        const out = {};
        upstream.headers.forEach((v, k) => {
          if (k === 'content-type' || k.startsWith('x-hubspot')) out[k] = v;
        });
        res.writeHead(upstream.status, out);
        res.end(body);
      } catch (e) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(e));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const stop = () => new Promise((resolve) => server.close(() => resolve()));
  return { base, exchanges, stop };
}

module.exports = { startRecorder };
