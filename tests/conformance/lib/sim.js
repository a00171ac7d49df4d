// Starts the hubspot-sim binary on port 0 and talks to its /_sim/ admin API.
'use strict';
const { spawn } = require('node:child_process');
const readline = require('node:readline');

async function startSimulator(extraArgs = []) {
  const bin = process.env.HUBSPOT_SIM_BIN;
  if (!bin) throw new Error('HUBSPOT_SIM_BIN is not set (ctest passes the hubspot-sim binary path)');
  const child = spawn(bin, ['--port', '0', '--index-lag-ms', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hubspot-sim did not start within 10 s')), 10000);
    child.once('exit', (code) => reject(new Error(`hubspot-sim exited early with ${code}`)));
    rl.on('line', (line) => {
      const m = /^hubspot-sim listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const admin = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { base, admin, stop, child };
}

module.exports = { startSimulator };
