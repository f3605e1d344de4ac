// The run table (#/jobs): every job with its kind's key results and run time; filters by status
// and kind, a name search, sorting by any column and paging, all done by the server
// (GET /v1/jobs?sort=&order=&offset=&q=), so it stays fast with many thousands of jobs. Rows can
// be selected (across pages) to compare them or export them as CSV. The page is polled every few
// seconds, and the running jobs on screen get live progress over event streams (at most
// MAX_STREAMS at once: browsers allow about six connections per server, and the page must keep
// some for its own requests).

import { api, followJob } from './api.js';
import { h, fill, num, age, badge, progressBar, setProgress, banner, replaceQuery, announce, jobLabel } from './dom.js';

const POLL_MS = 4000;
const MAX_STREAMS = 4;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const KINDS = ['mi', 'evolution', 'lif'];

/** Result columns: [key of `results` and of ?sort=, header, title]. */
const RESULT_COLUMNS = {
  mi: [['mi_bits', 'Mean I (bits)'], ['correlation', 'Mean C'], ['n', 'N'], ['networks', 'Networks']],
  evolution: [['mi_bits', 'Best I (bits)'], ['rook_score', 'Rook score'], ['n', 'N'], ['generations', 'Generations']],
  lif: [['test_accuracy', 'Test accuracy'], ['epochs', 'Epochs']],
  '': [['mi_bits', 'I (bits)'], ['correlation', 'C'], ['n', 'N'], ['test_accuracy', 'Test accuracy']],
};
const CSV_FIELDS = ['mi_bits', 'correlation', 'n', 'networks', 'rook_score', 'generations', 'test_accuracy', 'epochs'];

/** Run time in milliseconds: the job's own count when it has one, else start to end (or now). */
function runTimeMs(job) {
  if (job.results?.elapsed_ms != null) return job.results.elapsed_ms;
  if (!job.started_at) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  return Math.max(0, end - Date.parse(job.started_at));
}

function formatMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function csvCell(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV of `jobs`: one header line, one line per job (RFC 4180 quoting). */
export function jobsCsv(jobs) {
  const header = ['id', 'name', 'kind', 'status', 'created_at', 'started_at', 'finished_at', 'run_time_ms', ...CSV_FIELDS];
  const lines = jobs.map((j) => [
    j.id, j.name ?? '', j.kind, j.status, j.created_at, j.started_at ?? '', j.finished_at ?? '',
    j.finished_at ? runTimeMs(j) : '', ...CSV_FIELDS.map((f) => j.results?.[f]),
  ].map(csvCell).join(','));
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}

export function renderList(main, { signal, params }) {
  const state = {
    status: params.get('status') || '',
    kind: params.get('kind') || '',
    limit: Number(params.get('limit')) || 25,
    offset: Math.max(0, Number(params.get('offset')) || 0),
    sort: params.get('sort') || 'created',
    order: params.get('order') === 'asc' ? 'asc' : 'desc',
    q: params.get('q') || '',
    total: 0,
  };
  const rows = new Map(); // job id → {tr, bar, ...cells}
  const streams = new Map(); // job id → stop function
  const selected = new Map(); // job id → job (kept across pages)

  const restart = () => { state.offset = 0; refresh(); };
  const select = (id, label, options, value) => h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, onchange: () => { readFilters(); rebuildHead(); restart(); } },
      options.map(([v, text]) => h('option', { value: v, selected: v === String(value) }, text))));

  let searchTimer = null;
  const search = h('input', {
    id: 'f-q', type: 'search', value: state.q, placeholder: 'part of a name', autocomplete: 'off',
    oninput: () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { state.q = search.value.trim(); restart(); }, 250); },
  });
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', onsubmit: (e) => { e.preventDefault(); state.q = search.value.trim(); restart(); } },
    h('div', { class: 'field' }, h('label', { for: 'f-q' }, 'Search names'), search),
    select('f-status', 'Status', [['', 'any'], ...STATUSES.map((s) => [s, s])], state.status),
    select('f-kind', 'Kind', [['', 'any'], ...KINDS.map((k) => [k, k])], state.kind),
    select('f-limit', 'Per page', [10, 25, 50, 100].map((n) => [String(n), String(n)]), state.limit));

  const selCount = h('span', { class: 'muted', id: 'sel-count', 'aria-live': 'polite' });
  const compareBtn = h('button', { type: 'button', id: 'sel-compare', class: 'secondary', onclick: compareSelected }, 'Compare selected');
  const csvBtn = h('button', { type: 'button', id: 'sel-csv', class: 'secondary', onclick: exportCsv }, 'Export CSV');
  const clearBtn = h('button', { type: 'button', id: 'sel-clear', class: 'secondary', onclick: () => { selected.clear(); syncSelection(); } }, 'Clear selection');
  const toolbar = h('div', { class: 'selection-bar', role: 'toolbar', 'aria-label': 'Selected jobs' }, selCount, compareBtn, csvBtn, clearBtn);

  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'jobs run-table' },
    h('caption', { class: 'visually-hidden' }, 'Jobs with their key results; column headers sort'),
    thead, tbody);
  const empty = h('p', { class: 'empty', hidden: true }, 'No jobs match. ', h('a', { href: '#/submit' }, 'Submit one.'));
  const prev = h('button', { type: 'button', class: 'secondary', id: 'page-prev', onclick: () => page(-1) }, '← Previous');
  const next = h('button', { type: 'button', class: 'secondary', id: 'page-next', onclick: () => page(1) }, 'Next →');
  const position = h('span', { class: 'muted', id: 'page-pos' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, position, next);
  const updated = h('p', { class: 'muted small', 'aria-live': 'off' });

  fill(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), h('a', { class: 'button', href: '#/submit' }, 'Submit a job')),
    filters, toolbar, h('div', { class: 'table-wrap' }, table), empty, pager, updated);

  let columns = [];
  let showTags = false;
  function rebuildHead() {
    columns = [
      ['name', 'Name'], ['kind', 'Kind'], ['status', 'Status'], [null, 'Progress'],
      ...RESULT_COLUMNS[state.kind].map(([key, label]) => [key, label, true]),
      ['run_time', 'Run time', true], ['created', 'Created'],
    ];
    const all = h('input', { type: 'checkbox', id: 'sel-page', 'aria-label': 'Select every job on this page', onchange: () => {
      for (const row of rows.values()) {
        if (all.checked) selected.set(row.job.id, row.job); else selected.delete(row.job.id);
      }
      syncSelection();
    } });
    fill(thead, h('tr', {},
      h('th', { scope: 'col', class: 'sel' }, all),
      columns.map(([key, label, numeric]) => {
        if (!key) return h('th', { scope: 'col' }, label);
        const active = state.sort === key;
        const sortName = active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none';
        return h('th', { scope: 'col', class: numeric ? 'n' : null, 'aria-sort': sortName },
          h('button', { type: 'button', class: 'sort', 'data-sort': key, onclick: () => sortBy(key) },
            label, h('span', { 'aria-hidden': 'true', class: 'arrow' }, active ? (state.order === 'asc' ? ' ▲' : ' ▼') : '')));
      }),
      showTags ? h('th', { scope: 'col' }, 'Tags') : null,
      h('th', { scope: 'col' }, 'Id')));
    for (const row of rows.values()) row.tr.remove();
    rows.clear();
  }

  function sortBy(key) {
    if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
    else { state.sort = key; state.order = ['name', 'kind', 'status'].includes(key) ? 'asc' : 'desc'; }
    rebuildHead();
    restart();
    announce(`Sorted by ${key.replace('_', ' ')}, ${state.order === 'asc' ? 'ascending' : 'descending'}`);
  }

  function readFilters() {
    state.status = filters.querySelector('#f-status').value;
    state.kind = filters.querySelector('#f-kind').value;
    state.limit = Number(filters.querySelector('#f-limit').value);
  }

  function page(direction) {
    state.offset = Math.max(0, state.offset + direction * state.limit);
    refresh();
  }

  function syncSelection() {
    const jobs = [...selected.values()];
    selCount.textContent = jobs.length ? `${jobs.length} selected` : 'Select jobs to compare or export them';
    const kinds = new Set(jobs.map((j) => j.kind));
    const comparable = jobs.length >= 2 && kinds.size === 1 && ['evolution', 'lif'].includes(jobs[0].kind);
    compareBtn.disabled = !comparable;
    compareBtn.title = comparable ? '' : 'Select two or more evolution jobs, or two or more lif jobs';
    csvBtn.disabled = jobs.length === 0;
    clearBtn.disabled = jobs.length === 0;
    for (const row of rows.values()) row.check.checked = selected.has(row.job.id);
    const pageBox = thead.querySelector('#sel-page');
    if (pageBox) pageBox.checked = rows.size > 0 && [...rows.keys()].every((id) => selected.has(id));
  }

  function compareSelected() {
    const jobs = [...selected.values()];
    location.hash = `#/compare?kind=${jobs[0].kind}&ids=${jobs.map((j) => j.id).join(',')}`;
  }

  function exportCsv() {
    const blob = new Blob([jobsCsv([...selected.values()])], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: 'fluxlab-jobs.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  let timer = null;
  let generation = 0;
  async function refresh() {
    clearTimeout(timer);
    const mine = ++generation;
    const q = new URLSearchParams();
    if (state.status) q.set('status', state.status);
    if (state.kind) q.set('kind', state.kind);
    if (state.q) q.set('q', state.q);
    if (state.sort !== 'created') q.set('sort', state.sort);
    if (state.order !== 'desc') q.set('order', state.order);
    if (state.limit !== 25) q.set('limit', String(state.limit));
    if (state.offset) q.set('offset', String(state.offset));
    replaceQuery(q);
    q.set('limit', String(state.limit));
    try {
      const data = await api(`/v1/jobs?${q}`, { signal });
      if (signal.aborted || mine !== generation) return;
      state.total = data.total;
      if (data.jobs.some((j) => Array.isArray(j.tags)) !== showTags) {
        showTags = !showTags;
        rebuildHead();
      }
      show(data.jobs);
      next.disabled = data.next_offset === null || data.next_offset === undefined;
      prev.disabled = state.offset === 0;
      const from = data.jobs.length ? state.offset + 1 : 0;
      position.textContent = `${from.toLocaleString('en')}–${(state.offset + data.jobs.length).toLocaleString('en')} of ${data.total.toLocaleString('en')}`;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      banner('');
    } catch (err) {
      if (signal.aborted || mine !== generation) return;
      banner(`Could not load the job list: ${err.message}`);
    }
    if (!signal.aborted && mine === generation) timer = setTimeout(refresh, POLL_MS);
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
    syncSelection();
    syncStreams(jobs);
  }

  function makeRow(job) {
    const bar = progressBar(`Progress of ${jobLabel(job)}`);
    const check = h('input', { type: 'checkbox', 'aria-label': `Select ${jobLabel(job)}`, onchange: () => {
      if (check.checked) selected.set(row.job.id, row.job); else selected.delete(row.job.id);
      syncSelection();
    } });
    const row = {
      bar,
      check,
      name: h('a', { href: `#/jobs/${job.id}` }),
      status: h('td'),
      created: h('td'),
      runTime: h('td', { class: 'n', 'data-col': 'run_time' }),
      results: RESULT_COLUMNS[state.kind].map(([key]) => h('td', { class: 'n', 'data-col': key })),
      tags: showTags ? h('td', { class: 'tags' }) : null,
      message: h('span', { class: 'muted small msg' }),
    };
    row.tr = h('tr', { 'data-job': job.id },
      h('td', { class: 'sel' }, check),
      h('td', {}, row.name),
      h('td', {}, job.kind),
      row.status,
      h('td', { class: 'progress-cell' }, bar, row.message),
      row.results,
      row.runTime,
      row.created,
      row.tags,
      h('td', { class: 'mono small', title: job.id }, `…${job.id.slice(-8)}`));
    rows.set(job.id, row);
    return row;
  }

  function updateRow(row, job) {
    row.job = job;
    if (selected.has(job.id)) selected.set(job.id, job);
    row.name.textContent = jobLabel(job);
    row.name.classList.toggle('unnamed', !job.name);
    if (row.status.dataset.value !== job.status) {
      fill(row.status, badge(job.status));
      row.status.dataset.value = job.status;
    }
    setProgress(row.bar, job.progress?.fraction, job.status);
    row.message.textContent = job.status === 'running' ? job.progress?.message || '' : '';
    RESULT_COLUMNS[state.kind].forEach(([key], i) => {
      const value = job.results?.[key];
      row.results[i].textContent = num(value ?? null);
      row.results[i].dataset.value = value ?? '';
    });
    const ms = runTimeMs(job);
    row.runTime.textContent = formatMs(ms);
    row.runTime.dataset.value = ms ?? '';
    row.created.textContent = age(job.created_at);
    row.created.title = job.created_at;
    if (row.tags) fill(row.tags, (job.tags || []).map((t) => h('span', { class: 'tag' }, t)));
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
      // Event views carry no key results; keep the ones the listing gave.
      updateRow(row, { results: row.job.results, ...data });
      if (name === 'done') { streams.get(id)?.(); streams.delete(id); }
    } else if (name === 'status' && data.status) {
      updateRow(row, { ...row.job, status: data.status });
    }
  }

  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    clearTimeout(searchTimer);
    for (const stop of streams.values()) stop();
    streams.clear();
  });
  rebuildHead();
  refresh();
}
