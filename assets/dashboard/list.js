// The job list (#/jobs): filters by status and kind, cursor paging, a poll of the page every few
// seconds, and live progress over event streams for the running jobs on screen (at most
// MAX_STREAMS at once: browsers allow about six connections per server, and the page must keep
// some for its own requests).

import { api, followJob } from './api.js';
import { h, fill, age, badge, progressBar, setProgress, banner, replaceQuery } from './dom.js';

const POLL_MS = 4000;
const MAX_STREAMS = 4;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const KINDS = ['mi', 'evolution', 'lif'];

export function renderList(main, { signal, params }) {
  const state = {
    status: params.get('status') || '',
    kind: params.get('kind') || '',
    limit: Number(params.get('limit')) || 25,
    cursor: params.get('cursor') || '',
    back: [], // cursors of the pages before this one
    next: null,
  };
  const rows = new Map(); // job id → {tr, bar, ...cells}
  const streams = new Map(); // job id → stop function

  const select = (id, label, options, value) => h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, onchange: () => { state.cursor = ''; state.back = []; readFilters(); refresh(); } },
      options.map(([v, text]) => h('option', { value: v, selected: v === String(value) }, text))));

  const filters = h('form', { class: 'filters', 'aria-label': 'Filter jobs', onsubmit: (e) => e.preventDefault() },
    select('f-status', 'Status', [['', 'any'], ...STATUSES.map((s) => [s, s])], state.status),
    select('f-kind', 'Kind', [['', 'any'], ...KINDS.map((k) => [k, k])], state.kind),
    select('f-limit', 'Per page', [10, 25, 50, 100].map((n) => [String(n), String(n)]), state.limit));

  const tbody = h('tbody');
  const table = h('table', { class: 'jobs' },
    h('caption', { class: 'visually-hidden' }, 'Jobs, newest first'),
    h('thead', {}, h('tr', {},
      ['Name', 'Kind', 'Status', 'Progress', 'Created', 'Id'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const empty = h('p', { class: 'empty', hidden: true }, 'No jobs match. ', h('a', { href: '#/submit' }, 'Submit one.'));
  const newer = h('button', { type: 'button', class: 'secondary', onclick: () => page(-1) }, '← Newer');
  const older = h('button', { type: 'button', class: 'secondary', onclick: () => page(1) }, 'Older →');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, newer, older);
  const updated = h('p', { class: 'muted small', 'aria-live': 'off' });

  fill(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), h('a', { class: 'button', href: '#/submit' }, 'Submit a job')),
    filters, h('div', { class: 'table-wrap' }, table), empty, pager, updated);

  function readFilters() {
    state.status = filters.querySelector('#f-status').value;
    state.kind = filters.querySelector('#f-kind').value;
    state.limit = Number(filters.querySelector('#f-limit').value);
  }

  function page(direction) {
    if (direction > 0 && state.next) {
      state.back.push(state.cursor);
      state.cursor = state.next;
    } else if (direction < 0) {
      state.cursor = state.back.pop() || '';
    }
    refresh();
  }

  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    const q = new URLSearchParams();
    if (state.status) q.set('status', state.status);
    if (state.kind) q.set('kind', state.kind);
    if (state.limit !== 25) q.set('limit', String(state.limit));
    if (state.cursor) q.set('cursor', state.cursor);
    replaceQuery(q);
    q.set('limit', String(state.limit));
    try {
      const data = await api(`/v1/jobs?${q}`, { signal });
      if (signal.aborted) return;
      show(data.jobs);
      state.next = data.next_cursor;
      older.disabled = !state.next;
      newer.disabled = !state.cursor;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      banner('');
    } catch (err) {
      if (signal.aborted) return;
      banner(`Could not load the job list: ${err.message}`);
    }
    if (!signal.aborted) timer = setTimeout(refresh, POLL_MS);
  }

  function show(jobs) {
    const seen = new Set();
    jobs.forEach((job) => {
      seen.add(job.id);
      const row = rows.get(job.id) || makeRow(job);
      updateRow(row, job);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) { row.tr.remove(); rows.delete(id); }
    }
    // Reorder only when the order changed: moving a row would drop keyboard focus inside it.
    const wanted = jobs.map((j) => rows.get(j.id).tr);
    const current = [...tbody.children];
    if (wanted.length !== current.length || wanted.some((tr, i) => tr !== current[i])) {
      tbody.replaceChildren(...wanted);
    }
    empty.hidden = jobs.length > 0;
    table.hidden = jobs.length === 0;
    syncStreams(jobs);
  }

  function makeRow(job) {
    const bar = progressBar(`Progress of ${job.name || job.id}`);
    const row = {
      bar,
      name: h('a', { href: `#/jobs/${job.id}` }),
      status: h('td'),
      created: h('td'),
      message: h('span', { class: 'muted small msg' }),
    };
    row.tr = h('tr', { 'data-job': job.id },
      h('td', {}, row.name),
      h('td', {}, job.kind),
      row.status,
      h('td', { class: 'progress-cell' }, bar, row.message),
      row.created,
      h('td', { class: 'mono small', title: job.id }, `…${job.id.slice(-8)}`));
    rows.set(job.id, row);
    return row;
  }

  function updateRow(row, job) {
    row.job = job;
    row.name.textContent = job.name || `${job.kind} job`;
    if (row.status.dataset.value !== job.status) {
      fill(row.status, badge(job.status));
      row.status.dataset.value = job.status;
    }
    setProgress(row.bar, job.progress?.fraction, job.status);
    row.message.textContent = job.status === 'running' ? job.progress?.message || '' : '';
    row.created.textContent = age(job.created_at);
    row.created.title = job.created_at;
  }

  function syncStreams(jobs) {
    const running = jobs.filter((j) => j.status === 'running').slice(0, MAX_STREAMS).map((j) => j.id);
    for (const [id, stop] of streams) {
      if (!running.includes(id)) { stop(); streams.delete(id); }
    }
    for (const id of running) {
      if (streams.has(id)) continue;
      streams.set(id, followJob(id, (name, data) => onEvent(id, name, data)));
    }
  }

  function onEvent(id, name, data) {
    const row = rows.get(id);
    if (!row) return;
    if (name === 'progress') {
      setProgress(row.bar, data.fraction, row.job.status);
      row.message.textContent = data.message || '';
    } else if (name === 'snapshot' || name === 'done') {
      updateRow(row, data);
      if (name === 'done') { streams.get(id)?.(); streams.delete(id); }
    } else if (name === 'status' && data.status) {
      updateRow(row, { ...row.job, status: data.status });
    }
  }

  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    for (const stop of streams.values()) stop();
    streams.clear();
  });
  refresh();
}
