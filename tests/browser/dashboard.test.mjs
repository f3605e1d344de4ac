// Browser tests of the dashboard: headless Debian Chromium driven by playwright-core against the
// real fluxlab binary. Screenshots of every page go to target/test-output/screenshots/.
// Set UPDATE_DOCS_SCREENSHOT=1 to also refresh docs/dashboard.png from the job page and the
// README's screenshots in docs/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, repo } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = join(repo, 'target', 'test-output', 'screenshots');
const LONG_EVOLUTION = 'N = 8 evolution'; // 2,000 generations: minutes, so it is still running when cancelled

let server;
let browser;
let page;
const pageErrors = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(30000);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Pages shown in the README (docs/screenshots/), refreshed with UPDATE_DOCS_SCREENSHOT=1. */
const README_SHOTS = ['job-lif', 'submit'];

async function shot(name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  if (process.env.UPDATE_DOCS_SCREENSHOT && README_SHOTS.includes(name)) {
    mkdirSync(join(repo, 'docs', 'screenshots'), { recursive: true });
    copyFileSync(path, join(repo, 'docs', 'screenshots', `${name}.png`));
  }
  return path;
}

/** Submits a preset from the submit page and returns the new job's id (from the job page URL). */
async function submitPreset(label, adjust) {
  await page.goto(`${server.base}/#/submit`);
  await page.getByRole('button', { name: label, exact: true }).click();
  if (adjust) await adjust();
  await page.locator('#submit').click();
  await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
  return page.url().split('/').pop();
}

async function api(path, init) {
  const res = await fetch(`${server.base}${path}`, { headers: { 'content-type': 'application/json' }, ...init });
  return res.json();
}

/** Opens a job page, through the list so the hash changes and the page renders anew. */
async function openJob(id) {
  await page.goto(`${server.base}/#/jobs`);
  await page.goto(`${server.base}/#/jobs/${id}`);
}

let quickJob;

test('a preset job runs to 100 % and shows its result', async () => {
  quickJob = await submitPreset('N-rooks check');
  const bar = page.locator('section[aria-labelledby="h-progress"] [role="progressbar"]');
  await page.waitForFunction(() => document.querySelector('section[aria-labelledby="h-progress"] [role="progressbar"]')?.getAttribute('aria-valuenow') === '100');
  assert.equal(await bar.getAttribute('aria-valuenow'), '100');
  await page.locator('.meta .badge[data-status="succeeded"]').waitFor();
  // The summary shows I of the 4-rooks network: 4·(1 − h2(σ(−2))) = 1.89174 bits.
  const figures = page.locator('#result .figures');
  await figures.waitFor();
  assert.match(await figures.innerText(), /1\.8917/);
});

test('its plots render inline as non-empty SVG', async () => {
  await openJob(quickJob);
  await page.waitForFunction(() => [...document.querySelectorAll('#plots figure svg')]
    .some((svg) => svg.querySelectorAll('path, line, rect, circle, polyline, text').length > 0), null, { timeout: 20000 });
  assert.equal(await page.locator('section[aria-labelledby="h-plots"]').isVisible(), true);
});

test('each plot downloads as SVG, PNG and PDF (checked by their bytes)', async () => {
  await openJob(quickJob);
  const figure = page.locator('#plots figure').first();
  await figure.locator('svg').waitFor({ timeout: 20000 });
  const name = await figure.getAttribute('data-plot');
  const magic = { svg: '<svg', png: '\x89PNG', pdf: '%PDF' };
  for (const format of ['svg', 'png', 'pdf']) {
    const [file] = await Promise.all([page.waitForEvent('download'), figure.locator(`button[data-format="${format}"]`).click()]);
    assert.equal(file.suggestedFilename(), `${quickJob}-${name}.${format}`);
    const bytes = readFileSync(await file.path());
    assert.ok(bytes.length > 1000, `${format}: ${bytes.length} bytes`);
    assert.ok(bytes.toString('latin1').includes(magic[format]), `${format} magic bytes`);
  }
});

test('the job page inlines listed plots safely (plot answers stubbed in the browser)', async () => {
  // Checks the client half of the plots contract on its own: listing, fetch, sanitising, scaling.
  const context = page.context();
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400"><script>window.hacked = 1</script>'
    + '<rect x="10" y="10" width="100" height="50" fill="#0072B2" onclick="window.hacked = 2"/><text x="20" y="90">I (bits)</text></svg>';
  await context.route('**/v1/jobs/*/plots', (route) => route.fulfill({
    json: { plots: [{ name: 'weights', title: 'Weight matrix', url: `/v1/jobs/${quickJob}/plots/weights.svg` }] },
  }));
  await context.route('**/v1/jobs/*/plots/weights.svg', (route) => route.fulfill({ body: svg, contentType: 'image/svg+xml' }));
  try {
    await openJob(quickJob);
    const inlined = page.locator('#plots figure[data-plot="weights"] svg');
    await inlined.waitFor();
    assert.equal(await inlined.getAttribute('viewBox'), '0 0 600 400');
    assert.equal(await inlined.getAttribute('aria-label'), 'Weight matrix');
    assert.equal(await inlined.locator('rect').count(), 1);
    assert.equal(await page.locator('#plots script').count(), 0);
    assert.equal(await inlined.locator('rect').getAttribute('onclick'), null);
    await inlined.locator('rect').click();
    assert.equal(await page.evaluate(() => window.hacked), undefined);
    assert.equal(await page.locator('#plots figcaption').textContent(), 'Weight matrix');
  } finally {
    await context.unrouteAll();
  }
});

test('artifacts download with the right bytes', async () => {
  await openJob(quickJob);
  await page.locator('.meta .badge[data-status="succeeded"]').waitFor();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('[data-artifact="metrics.csv"]').click()]);
  assert.equal(csv.suggestedFilename(), `${quickJob}-metrics.csv`);
  const lines = readFileSync(await csv.path(), 'utf8').trim().split('\n');
  assert.equal(lines[0].split(',')[0], 'step');
  assert.ok(lines[0].split(',').includes('mi_bits'), lines[0]);
  assert.equal(lines.length, 2, 'one network, one row');
  const [npy] = await Promise.all([page.waitForEvent('download'), page.locator('[data-artifact="weights.npy"]').click()]);
  const bytes = readFileSync(await npy.path());
  assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  await page.waitForLoadState('networkidle'); // plots and result fetched: a complete screenshot
  const shotPath = await shot('job');
  if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(shotPath, join(repo, 'docs', 'dashboard.png'));
});

let longJob;

test('a running job is cancelled from its page after confirmation', async () => {
  longJob = await submitPreset(LONG_EVOLUTION);
  await page.locator('.meta .badge[data-status="running"]').waitFor();
  // Wait for live progress so the cancel hits a job that is really computing.
  await page.waitForFunction(() => Number(document.querySelector('section[aria-labelledby="h-progress"] [role="progressbar"]')?.getAttribute('aria-valuenow')) >= 0
    && document.querySelectorAll('#metrics tbody tr').length > 0);
  await shot('job-running');
  await page.locator('#cancel').click();
  const dialog = page.locator('dialog#confirm');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Cancel this job\?/);
  await page.locator('#confirm-yes').click();
  await page.locator('.meta .badge[data-status="cancelled"]').waitFor({ timeout: 60000 });
  await page.locator('#resume').waitFor();
  const job = await api(`/v1/jobs/${longJob}`);
  assert.equal(job.status, 'cancelled');
});

test('a validation error appears next to the field it names', async () => {
  await page.goto(`${server.base}/#/submit`);
  await page.getByRole('button', { name: 'N-rooks check', exact: true }).click();
  const n = page.locator('#f-spec-network-nrooks-n');
  await n.fill('-3');
  await page.locator('#submit').click();
  const note = page.locator('#f-spec-network-nrooks-n-error');
  await note.waitFor();
  assert.match(await note.innerText(), /between 1 and/);
  assert.equal(await n.getAttribute('aria-invalid'), 'true');
  assert.match(await n.getAttribute('aria-describedby'), /f-spec-network-nrooks-n-error/);
  assert.equal(page.url().includes('#/submit'), true, 'stays on the form');
  await shot('submit');

  // A field the form does not show: the message goes beside the JSON editor with its path.
  const body = JSON.parse(await page.locator('#json').inputValue());
  body.spec.network.nrooks.n = 4;
  body.spec.correlation = { lag: 5 };
  await page.locator('#json').fill(JSON.stringify(body, null, 2));
  await page.locator('#submit').click();
  const editorErrors = page.locator('#json-errors li');
  await editorErrors.first().waitFor();
  assert.match(await editorErrors.first().innerText(), /spec\.correlation\.lag/);
  assert.equal(await page.locator('#f-spec-network-nrooks-n').getAttribute('aria-invalid'), null);
});

test('the list shows jobs with live progress, filters and paging', async () => {
  await page.goto(`${server.base}/#/jobs`);
  const quickRow = page.locator(`tr[data-job="${quickJob}"]`);
  await quickRow.waitFor();
  assert.equal(await quickRow.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '100');
  assert.equal(await quickRow.locator('.badge').innerText(), 'succeeded');
  assert.equal(await page.locator(`tr[data-job="${longJob}"] .badge`).innerText(), 'cancelled');
  await shot('list');

  await page.locator('#f-kind').selectOption('evolution');
  await page.waitForFunction(() => !document.querySelector('tr[data-job] td:nth-child(3)') ||
    [...document.querySelectorAll('tr[data-job] td:nth-child(3)')].every((td) => td.textContent === 'evolution'));
  // The evolution columns of the run table.
  assert.ok(await page.locator('button[data-sort="rook_score"]').isVisible());
  assert.match(page.url(), /kind=evolution/);
  await page.locator('#f-kind').selectOption('');
  await page.locator('#f-limit').selectOption('10');

  // Paging: with more jobs than a page, "Next" leads to the rest.
  for (let i = 0; i < 10; i += 1) {
    await api('/v1/jobs', { method: 'POST', body: JSON.stringify({ kind: 'mi', name: `filler ${i}`, spec: { network: { nrooks: { n: 3, q: 1 } }, method: 'exact' } }) });
  }
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job]').length === 10, null, { timeout: 15000 });
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-job="${id}"]`), quickJob);
  await page.getByRole('button', { name: '← Previous' }).click();
  await page.waitForFunction(() => document.querySelector('tr[data-job] a')?.textContent === 'filler 9');
});

test('the compare page overlays fitness curves of evolution jobs', async () => {
  const short = await api('/v1/jobs?wait=60', {
    method: 'POST',
    body: JSON.stringify({
      kind: 'evolution', name: 'short N = 4',
      spec: { n: 4, init: { ensemble: { type: 'gaussian', std: 1.0 } }, strategy: 'plus', parents: 4, offspring: 12, generations: 20, mutation: { std: 0.2, rate: 1.0 }, constraint: { type: 'frobenius', value: 6.0 }, objectives: [{ name: 'mi', weight: 1.0 }], seed: 2 },
    }),
  });
  assert.equal(short.status, 'succeeded');
  await page.goto(`${server.base}/#/compare?kind=evolution`);
  await page.locator(`#c-${short.id}`).check();
  await page.locator(`#c-${longJob}`).check();
  await page.waitForFunction(() => document.querySelectorAll('#chart svg polyline').length === 2);
  const legend = await page.locator('#chart svg .legend').textContent();
  assert.match(legend, /short N = 4/);
  assert.match(legend, /N = 8 evolution/);
  assert.match(page.url(), new RegExp(`ids=.*${short.id}`));
  await shot('compare');

  // Its page shows C and the mean period of the best from the best's analysis (only I was an
  // objective, so the objectives leave them null).
  assert.equal(short.result.best.objectives.correlation_rms, null);
  await openJob(short.id);
  const figure = (label) => page.locator('#result .figures div', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');
  await figure('C of the best').waitFor();
  const c = short.result.best.analysis.correlation_rms;
  assert.equal(Number(await figure('C of the best').innerText()), Number(c.toPrecision(6)));
  const period = short.result.best.analysis.attractors?.mean_period;
  if (period != null) assert.notEqual(await figure('Mean period of the best').innerText(), '—');
});

test('a lif job shows its test accuracy and plots, and lif accuracy curves compare', async () => {
  const lif = (seed) => api('/v1/jobs?wait=60', {
    method: 'POST',
    body: JSON.stringify({
      kind: 'lif', name: `lif seed ${seed}`,
      spec: { dataset: { builtin: 'mnist10k' }, split: { train: 512, test: 128 }, encoding: { type: 'poisson', steps: 8 }, layers: [{ type: 'lif', units: 32 }], batch_size: 64, epochs: 2, seed },
    }),
  });
  const a = await lif(1);
  const b = await lif(2);
  assert.equal(a.status, 'succeeded');
  assert.equal(b.status, 'succeeded');
  await openJob(a.id);
  const figures = page.locator('#result .figures');
  await figures.waitFor();
  assert.match(await figures.innerText(), new RegExp(`${(a.result.test_accuracy * 100).toFixed(2)} %`));
  await page.waitForFunction(() => document.querySelectorAll('#plots figure svg').length >= 5, null, { timeout: 20000 });
  await shot('job-lif');
  await page.goto(`${server.base}/#/compare?kind=lif`);
  await page.locator(`#c-${a.id}`).check();
  await page.locator(`#c-${b.id}`).check();
  await page.waitForFunction(() => document.querySelectorAll('#chart svg polyline').length === 2);
  assert.match(await page.locator('#chart svg .legend').textContent(), /lif seed 2/);
});

test('an mi sweep shows I and C per swept value: table of the result\'s means and the sweep plot', async () => {
  const job = await api('/v1/jobs?wait=60', {
    method: 'POST',
    body: JSON.stringify({
      kind: 'mi', name: 'sweep check',
      spec: { network: { ensemble: { type: 'gaussian', n: 6, std: 1.0, replicates: 3 }, sweep: { param: 'std', values: [0.5, 1, 2] } }, method: 'exact', attractors: true, seed: 3 },
    }),
  });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const points = job.result.summary.sweep;
  assert.deepEqual(points.map((p) => p.value), [0.5, 1, 2]);
  for (const p of points) {
    const mi = job.result.networks.filter((n) => n.params.std === p.value).map((n) => n.mi_bits);
    assert.ok(Math.abs(p.mi_bits_mean - mi.reduce((a, b) => a + b, 0) / mi.length) < 1e-12);
  }
  await openJob(job.id);
  const rows = page.locator('#result table.sweep tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  for (const [k, p] of points.entries()) {
    const cells = await rows.nth(k).locator('td').allInnerTexts();
    const shown = Number(p.mi_bits_mean.toPrecision(4)).toString();
    assert.ok(cells[2].startsWith(`${shown} ± `), `${cells[2]} vs ${p.mi_bits_mean}`);
  }
  const plot = page.locator('#plots figure[data-plot="sweep"] svg');
  await plot.waitFor({ timeout: 20000 });
  assert.match(await plot.innerHTML(), /replicates per value; mean ± 1 s\.d\./);
  await shot('job-mi-sweep');
});

test('a sampled mi job shows every estimate with its error, and its warnings', async () => {
  const job = await api('/v1/jobs?wait=60', {
    method: 'POST',
    body: JSON.stringify({
      kind: 'mi', name: 'sampled N = 24',
      spec: { network: { ensemble: { type: 'gaussian', n: 24, std: 1.0 } }, method: 'sampled', sampling: { steps: 2000, burn_in: 100 }, attractors: true, seed: 4 },
    }),
  });
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const net = job.result.networks[0];
  await openJob(job.id);
  const section = page.locator('#result section[aria-label="Sampled estimates"]');
  await section.waitFor();
  const text = await section.innerText();
  const estimates = Object.keys(net.sampled).filter((k) => k.endsWith('_bits') && !k.includes('stderr'));
  assert.ok(estimates.length >= 2, JSON.stringify(net.sampled));
  for (const key of estimates) {
    assert.match(text, new RegExp(key.replace(/_bits$/, '').replaceAll('_', ' ')));
  }
  for (const w of [...(net.sampled.warnings || []), ...(net.warnings || [])]) assert.ok(text.includes(w), w);
  if (net.attractors?.unresolved_starts) {
    assert.match(await page.locator('#result .figures').first().innerText(), /starts unresolved/);
  }
  await shot('job-mi-sampled');
});

test('a stored token is sent with every request, event streams included', async () => {
  const running = await api('/v1/jobs', {
    method: 'POST',
    body: JSON.stringify({ kind: 'evolution', name: 'token check', spec: { n: 8, init: { ensemble: { type: 'gaussian', std: 1.0 } }, strategy: 'plus', parents: 16, offspring: 64, generations: 2000, mutation: { std: 0.1, rate: 1.0 }, constraint: { type: 'frobenius', value: 8.49 }, objectives: [{ name: 'mi', weight: 1.0 }], seed: 5 } }),
  });
  await page.goto(`${server.base}/#/settings`);
  await page.getByLabel('API token').fill('secret-token-1');
  await page.getByRole('button', { name: 'Save' }).click();
  await shot('settings');
  const seen = [];
  const listener = (req) => { if (req.url().includes('/v1/')) seen.push([req.url(), req.headers().authorization]); };
  page.on('request', listener);
  const stream = page.waitForRequest((req) => req.url().endsWith(`/v1/jobs/${running.id}/events`));
  await page.goto(`${server.base}/#/jobs/${running.id}`);
  const events = await stream;
  assert.equal(events.headers().authorization, 'Bearer secret-token-1');
  await page.locator('.meta .badge[data-status="running"]').waitFor();
  page.off('request', listener);
  assert.ok(seen.length >= 2);
  for (const [url, auth] of seen) assert.equal(auth, 'Bearer secret-token-1', url);
  await api(`/v1/jobs/${running.id}/cancel`, { method: 'POST' });
  await page.goto(`${server.base}/#/settings`);
  await page.getByRole('button', { name: 'Clear' }).click();
  assert.equal(await page.evaluate(() => localStorage.getItem('fluxlab.token')), null);
});

test('no uncaught errors in the page', () => {
  assert.deepEqual(pageErrors, []);
});
