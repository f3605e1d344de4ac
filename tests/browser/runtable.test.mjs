// Browser tests of the run table (#/jobs) with 10,000 jobs: the real binary on a database filled
// with 10,000 succeeded `mi` jobs (written with Python's sqlite3 while no server runs, so the
// server's start-up backfill computes their key results), sorted, searched and paged by the
// server; selection exported as CSV. Prints how long the server takes for a sorted page (a
// figure, not an assertion: speed targets live in BENCHMARKS.md).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, repo } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SHOTS = join(repo, 'target', 'test-output', 'screenshots');
const JOBS = 10000;

/** I of job i (a fixed scramble of i, so the sorted order differs from the creation order). */
const miOf = (i) => ((i * 7919) % 10007) / 1000;

// Rows as the server writes them; ids are UUIDv7-shaped and rise with i (creation order).
const FILL = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = []
for i in range(${JOBS}):
    mi = ((i * 7919) % 10007) / 1000
    result = {"networks": [{"n": 4}], "summary": {"count": 1, "mi_bits_mean": mi,
              "correlation_rms_mean": 0.5, "spearman_mi_vs_correlation": None}, "elapsed_ms": 10 + i % 50}
    rows.append((f"0190c4d2-0000-7000-8000-{i:012x}", "anonymous", "mi", f"run {i}", "succeeded",
                 json.dumps({"network": {"nrooks": {"n": 4, "q": 1}}, "method": "exact", "seed": i}),
                 json.dumps({"fraction": 1.0, "step": 1, "total_steps": 1, "message": "done"}),
                 json.dumps(result), 1700000000000 + i, 1700000000000 + i, 1700000000100 + i))
db.executemany("INSERT INTO jobs (id, owner, kind, name, status, spec, progress, result, created_at, "
               "started_at, finished_at, updated_at, attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1)",
               [r + (r[-1],) for r in rows])
db.commit()
`;

let server;
let browser;
let page;
const pageErrors = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // A first start creates the schema; the jobs go in while no server runs.
  const first = await startServer({ keepDir: true });
  await first.stop();
  execFileSync('python3', ['-c', FILL, join(first.dir, 'test.db')]);
  server = await startServer({ dir: first.dir });
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

async function get(path) {
  const started = performance.now();
  const res = await fetch(`${server.base}${path}`);
  const body = await res.json();
  return { status: res.status, body, ms: performance.now() - started };
}

test('the start-up backfill gives all 10,000 earlier jobs their key results', async () => {
  // Jobs without results sort last: once the last row in ascending I has one, all have.
  const deadline = Date.now() + 120000;
  for (;;) {
    const { body } = await get(`/v1/jobs?sort=mi_bits&order=asc&limit=1&offset=${JOBS - 1}`);
    if (body.jobs[0]?.results) break;
    assert.ok(Date.now() < deadline, 'backfill did not finish within 2 minutes');
    await new Promise((r) => setTimeout(r, 250));
  }
  const { body } = await get('/v1/jobs?q=run%201234&limit=5');
  assert.equal(body.total, 1);
  assert.equal(body.jobs[0].results.mi_bits, miOf(1234));
  assert.equal(body.jobs[0].results.n, 4);
});

test('the server sorts and pages 10,000 jobs (timed, printed)', async () => {
  const values = Array.from({ length: JOBS }, (_, i) => miOf(i)).sort((a, b) => b - a);
  const times = [];
  for (const offset of [0, 5000, 9900]) {
    const { status, body, ms } = await get(`/v1/jobs?sort=mi_bits&order=desc&limit=100&offset=${offset}`);
    assert.equal(status, 200);
    assert.equal(body.total, JOBS);
    assert.deepEqual(body.jobs.map((j) => j.results.mi_bits), values.slice(offset, offset + 100));
    times.push(ms);
  }
  const search = await get('/v1/jobs?q=run%2099&sort=run_time&order=asc&limit=100');
  assert.equal(search.body.total, 111); // run 99, run 990–999, run 9900–9999
  const runTimes = search.body.jobs.map((j) => j.results.elapsed_ms);
  assert.deepEqual(runTimes, [...runTimes].sort((a, b) => a - b));
  console.log(`run table, ${JOBS} jobs: sorted pages of 100 at offsets 0/5000/9900 answered in ${times.map((t) => t.toFixed(0)).join('/')} ms; searched and sorted in ${search.ms.toFixed(0)} ms (HTTP round trip, debug build)`);
});

test('the run table sorts by a header click, pages, searches and exports a selection as CSV', async () => {
  const sorted = Array.from({ length: JOBS }, (_, i) => i).sort((a, b) => miOf(b) - miOf(a) || b - a);
  const started = performance.now();
  await page.goto(`${server.base}/#/jobs?kind=mi`);
  await page.locator('tr[data-job]').first().waitFor();
  console.log(`run table page with ${JOBS} jobs shown in ${(performance.now() - started).toFixed(0)} ms`);
  assert.match(await page.locator('#page-pos').innerText(), /^1–25 of 10,000$/);
  // Default order: newest first.
  assert.equal(await page.locator('tr[data-job] a').first().innerText(), `run ${JOBS - 1}`);

  await page.locator('button[data-sort="mi_bits"]').click();
  await page.waitForFunction((name) => document.querySelector('tr[data-job] a')?.textContent === name, `run ${sorted[0]}`);
  assert.equal(await page.locator('th:has(button[data-sort="mi_bits"])').getAttribute('aria-sort'), 'descending');
  assert.match(page.url(), /sort=mi_bits/);
  const cells = await page.locator('td[data-col="mi_bits"]').evaluateAll((tds) => tds.map((td) => Number(td.dataset.value)));
  assert.deepEqual(cells, sorted.slice(0, 25).map(miOf));

  await page.locator('button[data-sort="mi_bits"]').click();
  await page.waitForFunction((name) => document.querySelector('tr[data-job] a')?.textContent === name, `run ${[...sorted].reverse()[0]}`);
  assert.equal(await page.locator('th:has(button[data-sort="mi_bits"])').getAttribute('aria-sort'), 'ascending');

  await page.locator('#page-next').click();
  await page.waitForFunction(() => document.querySelector('#page-pos')?.textContent.startsWith('26–50 of'));
  await shot('run-table');

  await page.locator('#f-q').fill('run 777');
  await page.waitForFunction(() => document.querySelector('#page-pos')?.textContent === '1–11 of 11');

  const rows = page.locator('tr[data-job]');
  await rows.nth(0).locator('input[type="checkbox"]').check();
  await rows.nth(1).locator('input[type="checkbox"]').check();
  assert.equal(await page.locator('#sel-count').innerText(), '2 selected');
  assert.ok(await page.locator('#sel-compare').isDisabled(), 'mi jobs have no compare page');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#sel-csv').click()]);
  assert.equal(download.suggestedFilename(), 'fluxlab-jobs.csv');
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.equal(csv.length, 3);
  const header = csv[0].split(',');
  assert.deepEqual(header.slice(0, 4), ['id', 'name', 'kind', 'status']);
  const ids = await rows.evaluateAll((trs) => trs.slice(0, 2).map((tr) => tr.dataset.job));
  for (const line of csv.slice(1)) {
    const cells = line.split(',');
    const i = Number(cells[1].replace('run ', ''));
    assert.ok(ids.includes(cells[0]));
    assert.equal(Number(cells[header.indexOf('mi_bits')]), miOf(i));
  }
  if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(join(SHOTS, 'run-table.png'), join(repo, 'docs', 'run-table.png'));
});

async function shot(name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

test('no uncaught errors in the run table page', () => {
  assert.deepEqual(pageErrors, []);
});
