// Entry point: hash routing (#/jobs, #/jobs/<id>, #/submit, #/compare, #/datasets, #/predict,
// #/admin, #/settings), the
// navigation state, and the settings page where a bearer token is stored in this browser.

import { api, getToken, setToken } from './api.js';
import { h, fill, banner, announce, currentRoute } from './dom.js';
import { renderList } from './list.js';
import { renderJob } from './job.js';
import { renderSubmit } from './submit.js';
import { renderCompare } from './compare.js';
import { renderAdmin } from './admin.js';
import { renderDatasets } from './datasets.js';
import { renderPredict } from './predict.js';

const main = document.getElementById('main');
let page = null; // AbortController of the page on screen: aborting it stops its timers and streams

function route() {
  page?.abort();
  page = new AbortController();
  const { parts, params } = currentRoute();
  const section = parts[0] || 'jobs';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  banner('');
  const ctx = { signal: page.signal, params };
  let title;
  if (section === 'jobs' && parts[1]) {
    title = 'Job';
    renderJob(main, decodeURIComponent(parts[1]), ctx);
  } else if (section === 'jobs') {
    title = 'Jobs';
    renderList(main, ctx);
  } else if (section === 'submit') {
    title = 'Submit a job';
    renderSubmit(main, ctx);
  } else if (section === 'compare') {
    title = 'Compare runs';
    renderCompare(main, ctx);
  } else if (section === 'datasets') {
    title = 'Datasets';
    renderDatasets(main, ctx);
  } else if (section === 'predict') {
    title = 'Predict';
    renderPredict(main, ctx);
  } else if (section === 'admin') {
    title = 'Users and tokens';
    renderAdmin(main, ctx);
  } else if (section === 'settings') {
    title = 'Settings';
    renderSettings();
  } else {
    title = 'Not found';
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/jobs' }, 'Go to the job list.')));
  }
  document.title = `${title} · fluxlab`;
  // Move focus to the new content so keyboard and screen-reader users start there.
  if (document.activeElement && document.activeElement !== document.body && !main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
}

function renderSettings() {
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', value: getToken(), 'aria-describedby': 'token-help', spellcheck: 'false' });
  const form = h('form', {
    class: 'card narrow',
    onsubmit: (e) => {
      e.preventDefault();
      setToken(input.value.trim());
      announce(input.value.trim() ? 'Token saved' : 'Token cleared');
      status.textContent = input.value.trim() ? 'Saved. Every request now sends it.' : 'Cleared.';
    },
  },
  h('label', { for: 'token' }, 'API token'),
  input,
  h('p', { id: 'token-help', class: 'help' },
    'Sent as "Authorization: Bearer <token>" with every request, event streams and downloads included. ',
    'Stored in this browser only (localStorage). Servers bound to loopback without tokens need none.'),
  h('div', { class: 'actions' },
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { input.value = ''; form.requestSubmit(); } }, 'Clear')));
  const status = h('p', { role: 'status' });
  fill(main, h('h1', {}, 'Settings'), form, status);
}

/** The signed-in user's name in the header (from /v1/users/me), or nothing. */
async function showAuthState() {
  const state = document.getElementById('auth-state');
  try {
    const me = await api('/v1/users/me');
    state.textContent = me.name === 'anonymous' ? 'open mode (no users)' : `signed in as ${me.name}${me.admin ? ' (admin)' : ''}`;
  } catch {
    state.textContent = getToken() ? 'token not accepted' : 'not signed in';
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('fluxlab:token', showAuthState);
// The server asks for a token: the settings page is the sign-in screen.
window.addEventListener('fluxlab:unauthorized', () => {
  if (!location.hash.startsWith('#/settings')) location.hash = '#/settings';
  banner('This server asks for a token: paste yours below to sign in.');
});
document.querySelector('[data-skip]').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
showAuthState();
route();
