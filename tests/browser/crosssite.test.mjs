// Cross-site requests in a real browser: a page on another origin tries to create a job with a
// no-cors `text/plain` POST (which a browser sends without asking) and to upload a dataset with
// a form POST. fluxlab must create nothing (415 for the wrong content type, 403 for a foreign
// Origin), and the browser must not let that page read any answer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let server;
let evil;
let evilBase;
let browser;

function attackPage(target) {
  const job = JSON.stringify({ kind: 'mi', spec: { network: { nrooks: { n: 3, q: 2 } }, method: 'exact' } });
  return `<!doctype html><html><body>
<form id="f" method="POST" action="${target}/v1/datasets" enctype="multipart/form-data" target="sink">
  <input name="name" value="planted">
</form>
<iframe name="sink"></iframe>
<script>
window.results = [];
async function attack() {
  const tries = [
    ['text/plain', ${JSON.stringify(job)}],
    ['application/x-www-form-urlencoded', ${JSON.stringify(job)}],
  ];
  for (const [type, body] of tries) {
    try {
      const r = await fetch('${target}/v1/jobs', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': type }, body });
      window.results.push({ type, opaque: r.type === 'opaque' });
    } catch (e) { window.results.push({ type, error: String(e) }); }
  }
  try {
    await fetch('${target}/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: ${JSON.stringify(job)} });
    window.results.push({ type: 'json-cors', readable: true });
  } catch (e) { window.results.push({ type: 'json-cors', blocked: true }); }
  document.getElementById('f').submit();
  window.done = true;
}
attack();
</script></body></html>`;
}

before(async () => {
  server = await startServer();
  evil = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(attackPage(server.base));
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  // Another origin: a different port (and host name) than the fluxlab server.
  evilBase = `http://localhost:${evil.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  evil?.close();
  await server?.stop();
});

test('a page on another site cannot create jobs or upload datasets', async () => {
  const page = await browser.newPage();
  await page.goto(evilBase);
  await page.waitForFunction(() => window.done === true, null, { timeout: 15000 });
  await page.waitForTimeout(1000);
  const results = await page.evaluate(() => window.results);
  const cors = results.find((r) => r.type === 'json-cors');
  assert.ok(cors.blocked, `the browser blocks a JSON POST without CORS: ${JSON.stringify(results)}`);
  const jobs = await (await fetch(`${server.base}/v1/jobs`)).json();
  assert.equal(jobs.jobs.length, 0, `no job was created: ${JSON.stringify(jobs)}`);
  const datasets = await (await fetch(`${server.base}/v1/datasets`)).json();
  assert.ok(!datasets.datasets.some((d) => d.name === 'planted'), 'no dataset was planted');
  await page.close();
});
