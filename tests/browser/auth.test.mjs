// Signing in to a shared server in a real browser: with users in the database the dashboard asks
// for a token (Settings is the sign-in page), shows who is signed in, lists only that user's jobs,
// and renders a hostile job name as text (no script runs, no element is made from it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';

let server;
let browser;

function cli(...args) {
  return execFileSync(server.bin, [...args, '--database', server.db], { encoding: 'utf8' });
}

async function submit(token, name, seed) {
  const res = await fetch(`${server.base}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ kind: 'mi', name, spec: { network: { nrooks: { n: 3, q: 2 } }, method: 'exact', seed } }),
  });
  assert.equal(res.status, 201, await res.text());
}

before(async () => {
  server = await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('sign in, see only your own jobs, hostile names stay text', async () => {
  cli('user', 'add', 'alice');
  cli('user', 'add', 'bob');
  const alice = cli('token', 'create', '--user', 'alice').split('\n')[0].trim();
  const bob = cli('token', 'create', '--user', 'bob').split('\n')[0].trim();
  await submit(alice, HOSTILE, 1);
  await submit(bob, 'bob secret run', 2);

  const page = await browser.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(`${server.base}/#/jobs`);
  await page.waitForURL(/#\/settings/, { timeout: 15000 });
  await page.locator('#token').fill(alice);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => document.getElementById('auth-state').textContent.includes('alice'));
  await page.goto(`${server.base}/#/jobs`);
  await page.getByText(HOSTILE, { exact: true }).first().waitFor({ timeout: 15000 });
  const body = await page.locator('main').innerText();
  assert.ok(!body.includes('bob secret run'), 'bob\'s job is not listed for alice');
  assert.equal(await page.locator('main img[src="x"]').count(), 0, 'no element made from the name');
  await page.waitForTimeout(500);
  assert.deepEqual(dialogs, [], 'no script ran');
  await page.close();
});

test('an admin sees every user, their tokens and the audit log, as text', async () => {
  cli('user', 'add', 'root', '--admin');
  const root = cli('token', 'create', '--user', 'root').split('\n')[0].trim();
  const page = await browser.newPage();
  await page.goto(`${server.base}/#/settings`);
  await page.locator('#token').fill(root);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.goto(`${server.base}/#/admin`);
  await page.getByRole('table', { name: 'Users', exact: true }).waitFor({ timeout: 15000 });
  const users = await page.getByRole('table', { name: 'Users', exact: true }).innerText();
  for (const name of ['alice', 'bob', 'root']) assert.ok(users.includes(name), users);
  const audit = await page.getByRole('table', { name: /Audit log/ }).innerText();
  assert.ok(audit.includes('job.submit'), audit);
  await page.close();
});
