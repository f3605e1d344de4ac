// Browser tests of the analysis pages: datasets (upload with progress, list, delete, the picker
// in the lif form), predict (draw a digit, class probabilities of a trained model), compare (any
// metric, per-neuron normalisation, unique labels, spec diff) and the job page's tables and plot
// controls (metric columns ordered by meaning, every result value, log axes, network picker).
// Headless Debian Chromium against the real binary; screenshots go to
// target/test-output/screenshots/ (and, with UPDATE_DOCS_SCREENSHOT=1, to docs/screenshots/).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, repo } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = join(repo, 'target', 'test-output', 'screenshots');
const DOC_SHOTS = join(repo, 'docs', 'screenshots');

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

async function shot(name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  if (process.env.UPDATE_DOCS_SCREENSHOT) {
    mkdirSync(DOC_SHOTS, { recursive: true });
    copyFileSync(path, join(DOC_SHOTS, `${name}.png`));
  }
}

async function api(path, init) {
  const res = await fetch(`${server.base}${path}`, { headers: { 'content-type': 'application/json' }, ...init });
  return res.json();
}

async function submit(kind, name, spec) {
  return (await api('/v1/jobs', { method: 'POST', body: JSON.stringify({ kind, name, spec }) })).id;
}

async function finished(id, timeoutMs = 120000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const job = await api(`/v1/jobs/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      return job;
    }
    if (Date.now() > end) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Goes to `hash` through another page, so the route renders anew. */
async function open(hash) {
  await page.goto(`${server.base}/#/settings`);
  await page.goto(`${server.base}/${hash}`);
}

// ---- an IDX pair: 28 × 28 images of a bright bar whose row tells the label ---------------------

const COUNT = 300;
function idxPair() {
  const images = Buffer.alloc(16 + COUNT * 784);
  images.writeUInt32BE(0x0803, 0); images.writeUInt32BE(COUNT, 4); images.writeUInt32BE(28, 8); images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + COUNT);
  labels.writeUInt32BE(0x0801, 0); labels.writeUInt32BE(COUNT, 4);
  for (let i = 0; i < COUNT; i += 1) {
    const label = i % 10;
    labels[8 + i] = label;
    const row = 2 + label * 2 + (i % 3 === 0 ? 1 : 0);
    for (let c = 4; c < 24; c += 1) images[16 + i * 784 + row * 28 + c] = 255;
  }
  return { images, labels };
}

let datasetId;
let modelJob;

test('a dataset uploads with a progress bar, is listed and can be picked in the lif form', async () => {
  await open('#/datasets');
  await page.locator('#ds-list table').waitFor();
  assert.match(await page.locator('#ds-list tr[data-dataset="mnist10k"]').innerText(), /10,000/);
  const { images, labels } = idxPair();
  await page.locator('#ds-name').fill('bars 28x28');
  await page.locator('#ds-images').setInputFiles({ name: 'bars-images.idx', mimeType: 'application/octet-stream', buffer: images });
  await page.locator('#ds-labels').setInputFiles({ name: 'bars-labels.idx', mimeType: 'application/octet-stream', buffer: labels });
  await page.locator('#ds-upload').click();
  await page.waitForFunction(() => /Stored/.test(document.querySelector('#ds-status')?.textContent || ''));
  assert.equal(await page.locator('[role="progressbar"][aria-label="Upload progress"]').getAttribute('aria-valuenow'), '100');
  const row = page.locator('#ds-list tr', { hasText: 'bars 28x28' });
  await row.waitFor();
  assert.match(await row.innerText(), /300/);
  assert.match(await row.innerText(), /28 × 28/);
  datasetId = await row.getAttribute('data-dataset');
  await shot('datasets');

  // A bad upload names the field.
  await page.locator('#ds-name').fill('broken');
  await page.locator('#ds-images').setInputFiles({ name: 'x.idx', mimeType: 'application/octet-stream', buffer: Buffer.from('not an idx file') });
  await page.locator('#ds-labels').setInputFiles({ name: 'y.idx', mimeType: 'application/octet-stream', buffer: labels });
  await page.locator('#ds-upload').click();
  await page.waitForFunction(() => /not accepted/.test(document.querySelector('#ds-status')?.textContent || ''));
  assert.match(await page.locator('#ds-errors').innerText(), /images/);

  // "Train on it": the lif form with the upload picked and the split left to the server.
  await row.getByRole('link', { name: 'Train on it' }).click();
  const picker = page.locator('#f-spec-dataset');
  await page.waitForFunction((id) => document.querySelector('#f-spec-dataset')?.value === `id:${id}`, datasetId);
  const body = JSON.parse(await page.locator('#json').inputValue());
  assert.deepEqual(body.spec.dataset, { id: datasetId });
  assert.equal(body.spec.split, undefined);
  // Switching back to the built-in restores its split, and forth again picks the upload.
  await picker.selectOption('builtin:mnist10k');
  assert.deepEqual(JSON.parse(await page.locator('#json').inputValue()).spec.split, { train: 8000, test: 2000 });
  await picker.selectOption(`id:${datasetId}`);
  await page.locator('#f-spec-epochs').fill('3');
  await page.locator('#f-spec-layers-0-units').fill('32');
  await page.locator('#f-spec-optimizer-lr').fill('0.01');
  await page.locator('#f-spec-batch-size').fill('32');
  await page.locator('#submit').click();
  await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
  modelJob = page.url().split('/').pop();
  const job = await finished(modelJob);
  assert.deepEqual(job.spec.dataset, { id: datasetId });
});

/** Runs in the page: the preview's ink in all and within 2 rows of the middle row (14 of 28). */
function previewInk() {
  const c = document.querySelector('#p-preview');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let total = 0; let centre = 0;
  for (let y = 0; y < c.height; y += 1) for (let x = 0; x < c.width; x += 1) {
    const v = d[4 * (y * c.width + x)];
    total += v; if (Math.abs(y - 14) <= 2) centre += v;
  }
  return { total, centre };
}

test('the predict page draws a digit and shows class probabilities of the trained model', async () => {
  await open(`#/jobs/${modelJob}`);
  await page.locator('#try-model').click();
  await page.waitForURL(/#\/predict\?job=/);
  await page.waitForFunction(() => /28 × 28/.test(document.querySelector('#p-shape')?.textContent || ''));
  // Predicting an empty pad asks for a drawing.
  await page.locator('#p-predict').click();
  assert.match(await page.locator('#p-status').innerText(), /Draw a digit/);
  // A horizontal bar, like the training images of label 4.
  const box = await page.locator('#p-pad').boundingBox();
  await page.mouse.move(box.x + 40, box.y + 140);
  await page.mouse.down();
  for (let x = 40; x <= 240; x += 20) await page.mouse.move(box.x + x, box.y + 140);
  await page.mouse.up();
  // The model input is centred by mass: ink on the middle row of the 28 × 28 preview.
  const ink = await page.evaluate(previewInk);
  assert.ok(ink.total > 0, 'the preview has ink');
  assert.ok(ink.centre / ink.total > 0.9, `ink is centred vertically (${JSON.stringify(ink)})`);
  // A scan (dark ink on light, off-white paper, wider than tall) loads as the same kind of input:
  // inverted, the paper level removed, no bands from the pad's margins.
  const scan = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 400; c.height = 200;
    const g = c.getContext('2d');
    g.fillStyle = '#e8e4dc'; g.fillRect(0, 0, 400, 200);
    g.fillStyle = '#202020'; g.fillRect(60, 90, 280, 22);
    return c.toDataURL('image/png').split(',')[1];
  });
  await page.locator('#p-file').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: Buffer.from(scan, 'base64') });
  await page.waitForFunction(`(() => { const ink = (${previewInk})(); return ink.total > 0 && ink.centre / ink.total > 0.9; })()`);
  await page.locator('#p-predict').click();
  await page.locator('table.probs').waitFor();
  const probs = await page.$$eval('table.probs tbody tr', (rows) => rows.map((r) => Number(r.querySelector('td').textContent)));
  assert.equal(probs.length, 10);
  const sum = probs.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 0.02, `probabilities sum to 1 (shown rounded): ${sum}`);
  const shown = Number(await page.locator('#p-class').innerText());
  assert.equal(await page.locator('table.probs tr.best').getAttribute('data-class'), String(shown));
  assert.equal(probs[shown], Math.max(...probs));
  await shot('predict');
});

test('an uploaded dataset can be deleted from the datasets page', async () => {
  await open('#/datasets');
  const row = page.locator(`#ds-list tr[data-dataset="${datasetId}"]`);
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.locator('#confirm-yes').click();
  await row.waitFor({ state: 'detached' });
  const list = await api('/v1/datasets');
  assert.ok(!list.datasets.some((d) => d.id === datasetId));
  // The built-in has no delete button.
  assert.equal(await page.locator('#ds-list tr[data-dataset="mnist10k"] [data-delete]').count(), 0);
});

// ---- compare and the evolution page -------------------------------------------------------------

const evolution = (n, seed) => ({
  n, init: { ensemble: { type: 'gaussian', std: 1.0 } }, strategy: 'plus', parents: 4, offspring: 8, generations: 40,
  mutation: { std: 0.1, rate: 1.0 }, constraint: { type: 'frobenius', value: 3 * Math.sqrt(n) },
  objectives: [{ name: 'mi', weight: 1.0 }], mode: 'weighted', input: 'symmetric', seed, checkpoint_every: 10,
});

let small;
let large;

test('compare overlays any metric, divides I by N, labels same-named jobs apart and diffs their specs', async () => {
  small = await submit('evolution', 'rooks search', evolution(4, 1));
  large = await submit('evolution', 'rooks search', evolution(6, 2));
  await finished(small);
  await finished(large);
  await open(`#/compare?kind=evolution&ids=${small},${large}`);
  await page.locator('#chart svg polyline').first().waitFor();
  // Two jobs named alike get different labels (the name and the id's end).
  const labels = await page.$$eval('#c-finals tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.equal(labels.length, 2);
  assert.notEqual(labels[0], labels[1]);
  assert.ok(labels.every((l) => l.startsWith('rooks search')));
  // Every numeric metric column is offered; the first objective is the default.
  assert.equal(await page.locator('#c-metric').inputValue(), 'best_mi_bits');
  const offered = await page.$$eval('#c-metric option', (os) => os.map((o) => o.value));
  for (const m of ['best_rook_score', 'mean_mi_bits', 'step_size']) assert.ok(offered.includes(m), `${m} offered`);
  // Per neuron: the latest value is the job's last best I divided by its N.
  await page.locator('#c-per-n').check();
  await page.waitForFunction(() => /per neuron/.test(document.querySelector('#c-finals')?.textContent || ''));
  const series = (await api(`/v1/jobs/${large}/metrics`)).series;
  const expected = series.at(-1).best_mi_bits / 6;
  const row = page.locator('#c-finals tbody tr', { hasText: 'N = 6' });
  assert.ok(Math.abs(Number(await row.locator('td').last().innerText()) - expected) < 1e-4);
  // Another metric: the rook score cannot be divided by N.
  await page.locator('#c-metric').selectOption('best_rook_score');
  await page.waitForFunction(() => document.querySelector('#c-per-n').disabled);
  const rook = (await api(`/v1/jobs/${small}/metrics`)).series.at(-1).best_rook_score;
  const smallRow = page.locator('#c-finals tbody tr').filter({ has: page.locator(`a[href="#/jobs/${small}"]`) });
  assert.ok(Math.abs(Number(await smallRow.locator('td').last().innerText()) - rook) < 1e-4);
  // The spec diff names exactly the fields that differ.
  const diff = await page.$$eval('#c-diff tr[data-path]', (rows) => rows.map((r) => r.dataset.path));
  assert.deepEqual(diff.sort(), ['spec.constraint.value', 'spec.n', 'spec.seed']);
  // Log step axis keeps the choice in the URL.
  await page.locator('#c-log-x').check();
  await page.waitForFunction(() => location.hash.includes('log_x=1'));
  await shot('compare-metrics');
});

test('the evolution page orders metric columns by meaning, scrolls them and lists every result value', async () => {
  await open(`#/jobs/${small}`);
  await page.locator('#metrics table th').first().waitFor();
  const columns = await page.$$eval('#metrics th', (ths) => ths.map((t) => t.dataset.column));
  assert.deepEqual(columns.slice(0, 5), ['step', 'best_fitness', 'best_mi_bits', 'mean_mi_bits', 'std_mi_bits']);
  assert.ok(columns.indexOf('best_rook_score') < columns.indexOf('step_size'));
  // All 40 generations are there, newest first, in a box that scrolls.
  assert.equal(await page.locator('#metrics tbody tr').count(), 41);
  assert.equal(await page.locator('#metrics tbody tr').first().locator('td').first().innerText(), '40');
  assert.equal(await page.$eval('#metrics', (el) => getComputedStyle(el).overflowY), 'auto');
  // Every value of the result, e.g. the rook score and the analysis of the best.
  const result = await api(`/v1/jobs/${small}/result`);
  await page.locator('details.all-values summary').click();
  const values = await page.locator('details.all-values').innerText();
  assert.match(values, /best\.rook_score/);
  assert.match(values, /best\.analysis\.mi_bits/);
  assert.ok(values.includes(String(Number(result.best.rook_score.toPrecision(6)))));
  // A log generation axis: the fitness plot is fetched again with log_x.
  const fitness = page.locator('figure[data-plot="fitness"]');
  await fitness.locator('svg').waitFor();
  const before = await fitness.locator('svg').innerHTML();
  const asked = page.waitForRequest((r) => r.url().includes('/plots/fitness.svg?log_x=true'));
  await fitness.locator('[data-log="x"]').check();
  await asked;
  await page.waitForFunction((old) => document.querySelector('figure[data-plot="fitness"] svg')?.innerHTML !== old, before);
  await shot('evolution');
});

test('an mi sweep page picks the network its heat maps show', async () => {
  const id = await submit('mi', 'picker sweep', {
    network: { ensemble: { type: 'gaussian', n: 6, std: 1.0, replicates: 2 }, sweep: { param: 'std', values: [0.5, 2] } },
    method: 'exact', attractors: true, seed: 3,
  });
  await finished(id);
  await open(`#/jobs/${id}`);
  const pick = page.locator('[data-network-picker="weights"]');
  await pick.waitFor();
  assert.equal(await pick.locator('option').count(), 4);
  const weights = page.locator('figure[data-plot="weights"]');
  await weights.locator('svg').waitFor();
  const first = await weights.locator('svg').innerHTML();
  const asked = page.waitForRequest((r) => r.url().includes('/plots/weights.svg?network=3'));
  await pick.selectOption('3');
  await asked;
  await page.waitForFunction((old) => document.querySelector('figure[data-plot="weights"] svg')?.innerHTML !== old, first);
  assert.match(await weights.locator('svg').innerHTML(), /std = 2/);
  await shot('mi-sweep');
});

/** The points of every `<polyline>` of an SVG text, as [[x, y], ...] per polyline. */
function polylines(svg) {
  return [...svg.matchAll(/<polyline[^>]*\bpoints="([^"]*)"/g)]
    .map((m) => m[1].trim().split(/\s+/).map((p) => p.split(',').map(Number)));
}

/** Largest distance (pixels) of `pixels` from the best affine image of `values`. */
function affineMisfit(values, pixels) {
  const n = values.length;
  const mv = values.reduce((a, b) => a + b, 0) / n;
  const mp = pixels.reduce((a, b) => a + b, 0) / n;
  let [sxy, sxx] = [0, 0];
  values.forEach((v, i) => { sxy += (v - mv) * (pixels[i] - mp); sxx += (v - mv) ** 2; });
  const slope = sxy / sxx;
  return Math.max(...values.map((v, i) => Math.abs(mp + slope * (v - mv) - pixels[i])));
}

test("the sweep plot's points are the result's means per swept value", async () => {
  const id = await submit('mi', 'sweep points', {
    network: { ensemble: { type: 'gaussian', n: 6, std: 1.0, replicates: 3 }, sweep: { param: 'std', values: [0.25, 0.5, 1, 2, 4] } },
    method: 'exact', seed: 11,
  });
  await finished(id);
  const points = (await api(`/v1/jobs/${id}/result`)).summary.sweep;
  await open(`#/jobs/${id}`);
  const plot = page.locator('figure[data-plot="sweep"] svg');
  await plot.waitFor();
  // The mean lines are the polylines with one vertex per swept value: I first, then C.
  const lines = polylines(await plot.evaluate((svg) => svg.outerHTML)).filter((l) => l.length === points.length);
  assert.ok(lines.length >= 2, `two mean lines of ${points.length} points (${lines.length})`);
  const [iLine, cLine] = lines;
  const xs = points.map((p) => p.value);
  // x: the swept values on a linear or a log axis; y: the means (pixels grow downwards).
  const xMisfit = Math.min(affineMisfit(xs, iLine.map((p) => p[0])), affineMisfit(xs.map(Math.log), iLine.map((p) => p[0])));
  assert.ok(xMisfit < 1.5, `x positions follow the swept values (${xMisfit} px)`);
  assert.ok(affineMisfit(points.map((p) => p.mi_bits_mean), iLine.map((p) => p[1])) < 1.5, 'I line = mean I per value');
  assert.ok(affineMisfit(points.map((p) => p.correlation_rms_mean), cLine.map((p) => p[1])) < 1.5, 'C line = mean C per value');
});

test('the lif progress bar never goes back at an epoch boundary', async () => {
  const id = await submit('lif', 'progress check', {
    dataset: { builtin: 'mnist10k' }, split: { train: 8000, test: 500 }, encoding: { type: 'poisson', steps: 25 },
    layers: [{ type: 'lif', units: 128 }], batch_size: 64, epochs: 40, seed: 4, checkpoint_every: 1,
  });
  await open(`#/jobs/${id}`);
  const bar = '[role="progressbar"][aria-label="Job progress"]';
  await page.locator(bar).waitFor();
  await page.evaluate((sel) => {
    window.seen = [];
    window.recorder = setInterval(() => {
      const v = Number(document.querySelector(sel)?.getAttribute('aria-valuenow'));
      if (Number.isFinite(v) && window.seen.at(-1) !== v) window.seen.push(v);
    }, 20);
  }, bar);
  // Three epochs of forty (7.5 %) cross at least two epoch boundaries; then the job is stopped.
  await page.waitForFunction(() => (window.seen.at(-1) || 0) >= 8, null, { timeout: 120000 });
  const seen = await page.evaluate(() => { clearInterval(window.recorder); return window.seen; });
  await fetch(`${server.base}/v1/jobs/${id}/cancel`, { method: 'POST' });
  assert.ok(seen.length >= 3, `several values seen: ${seen}`);
  for (let i = 1; i < seen.length; i += 1) assert.ok(seen[i] >= seen[i - 1], `the bar went back: ${seen.join(' → ')}`);
});

test('no page raised a script error', () => {
  assert.deepEqual(pageErrors, []);
});
