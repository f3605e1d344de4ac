// The compare page (#/compare?kind=evolution&ids=a,b&metric=best_mi_bits&per_n=1): overlay any
// recorded metric of several jobs of one kind, optionally divided by N or on a log step axis,
// with labels that stay unique, the latest value of each curve, and a diff of their specs.

import { api } from './api.js';
import { h, fill, num, age, badge, banner, replaceQuery, jobLabel } from './dom.js';
import { lineChart } from './chart.js';
import { orderColumns, columnLabel } from './tables.js';

const REFRESH_MS = 10000;
const TERMINAL = ['succeeded', 'failed', 'cancelled'];
const METRIC_OF_OBJECTIVE = { mi: 'mi_bits', correlation: 'correlation_rms', mean_period: 'mean_period' };
/** Columns that are bits of the whole network, so dividing by N gives bits per neuron. */
const PER_NEURON = /(^|_)mi_bits$/;

/**
 * Labels that tell the jobs apart: the name where it is unique among `jobs`, else the name with
 * the random end of the id; unnamed jobs get their kind and the id's end (the start is a time).
 */
export function uniqueLabels(jobs) {
  const counts = new Map();
  for (const j of jobs) counts.set(j.name || '', (counts.get(j.name || '') || 0) + 1);
  return new Map(jobs.map((j) => [j.id, j.name && counts.get(j.name) === 1 ? j.name : j.name ? `${j.name} · …${j.id.slice(-8)}` : jobLabel(j)]));
}

/** Spec leaves as path → JSON text (arrays of scalars count as one value). */
function leaves(value, path = 'spec', out = new Map()) {
  const empty = value && typeof value === 'object' && Object.keys(value).length === 0;
  if (value && typeof value === 'object' && !empty && !(Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object'))) {
    for (const [k, v] of Object.entries(value)) leaves(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, out);
  } else {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

/** Rows [path, [value per job]] of the spec fields where the jobs differ; and the shared count. */
export function specDiff(jobs) {
  const flat = jobs.map((j) => leaves(j.spec || {}));
  const paths = [...new Set(flat.flatMap((m) => [...m.keys()]))].sort();
  const differing = paths.filter((p) => new Set(flat.map((m) => m.get(p) ?? '—')).size > 1);
  return { rows: differing.map((p) => [p, flat.map((m) => m.get(p) ?? '—')]), shared: paths.length - differing.length };
}

export function renderCompare(main, { signal, params }) {
  let kind = params.get('kind') === 'lif' ? 'lif' : 'evolution';
  const selected = new Set((params.get('ids') || '').split(',').filter(Boolean));
  let metric = params.get('metric') || '';
  let perN = params.get('per_n') === '1';
  let logX = params.get('log_x') === '1';
  let jobs = [];
  const cache = new Map(); // job id → {status, rows}

  const kindSelect = h('select', { id: 'c-kind', onchange: () => { kind = kindSelect.value; metric = ''; selected.clear(); loadJobs(); } },
    h('option', { value: 'evolution', selected: kind === 'evolution' }, 'evolution — per generation'),
    h('option', { value: 'lif', selected: kind === 'lif' }, 'lif — per epoch'));
  const metricSelect = h('select', { id: 'c-metric', onchange: () => { metric = metricSelect.value; draw(); } });
  const perNBox = h('input', { type: 'checkbox', id: 'c-per-n', checked: perN, 'aria-describedby': 'c-per-n-help', onchange: () => { perN = perNBox.checked; draw(); } });
  const perNHelp = h('p', { class: 'help', id: 'c-per-n-help' });
  const logXBox = h('input', { type: 'checkbox', id: 'c-log-x', checked: logX, onchange: () => { logX = logXBox.checked; draw(); } });
  const picker = h('fieldset', { class: 'picker' });
  const chartBox = h('div', { class: 'chart-box', id: 'chart' });
  const finals = h('div', { class: 'table-wrap', id: 'c-finals' });
  const diffBox = h('div', { class: 'table-wrap', id: 'c-diff' });

  fill(main,
    h('h1', {}, 'Compare runs'),
    h('div', { class: 'compare-layout' },
      h('div', { class: 'card' },
        h('div', { class: 'field' }, h('label', { for: 'c-kind' }, 'Jobs'), kindSelect),
        h('div', { class: 'field' }, h('label', { for: 'c-metric' }, 'Metric'), metricSelect),
        h('div', { class: 'field check' }, perNBox, h('label', { for: 'c-per-n' }, 'Divide by N (per neuron)')), perNHelp,
        h('div', { class: 'field check' }, logXBox, h('label', { for: 'c-log-x' }, 'Log step axis')),
        picker),
      h('div', {}, chartBox, finals,
        h('section', { 'aria-labelledby': 'h-diff' }, h('h2', { id: 'h-diff' }, 'How their specs differ'), diffBox))));

  async function loadJobs() {
    // The spec tells each job's objective and N; summaries leave it out.
    const q = new URLSearchParams({ kind, limit: '100', include: 'spec' });
    try {
      jobs = (await api(`/v1/jobs?${q}`, { signal })).jobs;
    } catch (err) {
      if (!signal.aborted) banner(`Could not load the jobs: ${err.message}`);
      return;
    }
    // Jobs named in the URL but older than the newest 100 are fetched one by one.
    for (const id of selected) {
      if (jobs.some((j) => j.id === id)) continue;
      try {
        const job = await api(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
        if (job.kind === kind) jobs.push(job); else selected.delete(id);
      } catch { selected.delete(id); }
    }
    const labels = uniqueLabels(jobs);
    const focused = picker.contains(document.activeElement) ? document.activeElement.id : null;
    fill(picker, h('legend', {}, `${kind} jobs to overlay`),
      jobs.length ? null : h('p', { class: 'muted' }, `No ${kind} jobs yet.`),
      h('ul', { class: 'plain' }, jobs.map((job) => {
        const id = `c-${job.id}`;
        return h('li', {},
          h('input', { type: 'checkbox', id, checked: selected.has(job.id), onchange: (e) => toggle(job.id, e.target.checked) }),
          h('label', { for: id, title: job.id }, labels.get(job.id), ' ', badge(job.status), h('span', { class: 'muted small' }, ` ${age(job.created_at)}`)));
      })));
    if (focused) document.getElementById(focused)?.focus();
    draw();
  }

  function toggle(id, on) {
    if (on) selected.add(id);
    else selected.delete(id);
    draw();
  }

  /** The metric rows of one job (a lif job without rows falls back to its result's epochs). */
  async function rowsOf(job) {
    const cached = cache.get(job.id);
    if (cached && cached.status === job.status && TERMINAL.includes(job.status)) return cached.rows;
    let rows = (await api(`/v1/jobs/${job.id}/metrics`, { signal })).series || [];
    if (kind === 'lif' && !rows.length && job.status === 'succeeded') {
      const result = await api(`/v1/jobs/${job.id}/result`, { signal });
      rows = (result.epochs || []).map((e, i) => ({ step: e.epoch ?? i + 1, ...e }));
    }
    cache.set(job.id, { status: job.status, rows });
    return rows;
  }

  const firstObjective = (job) => job.spec?.objectives?.[0]?.name || 'mi';
  const nOf = (job) => (kind === 'evolution' ? job.spec?.n : null);

  function defaultMetric(chosen) {
    if (kind === 'lif') return 'test_accuracy';
    return `best_${METRIC_OF_OBJECTIVE[firstObjective(chosen[0] || {})] || 'mi_bits'}`;
  }

  function showMetricChoices(rowsByJob, chosen) {
    const numeric = orderColumns(kind, rowsByJob.flat())
      .filter((c) => c !== 'step' && rowsByJob.some((rows) => rows.some((r) => typeof r[c] === 'number')));
    if (!metric || (numeric.length && !numeric.includes(metric))) metric = numeric.includes(defaultMetric(chosen)) ? defaultMetric(chosen) : numeric[0] || defaultMetric(chosen);
    fill(metricSelect, (numeric.length ? numeric : [metric]).map((c) => h('option', { value: c }, columnLabel(c))));
    metricSelect.value = metric;
    const canDivide = PER_NEURON.test(metric) && chosen.every((j) => nOf(j) > 0);
    perNBox.disabled = !canDivide;
    perNHelp.textContent = canDivide
      ? 'I in bits per neuron: at most 1, so networks of different N compare on one scale.'
      : 'Only for I of evolution jobs (bits of the whole network, at most N).';
  }

  let drawing = 0; // the latest draw; slower earlier ones are dropped when they return

  async function draw() {
    drawing += 1;
    const mine = drawing;
    const chosen = jobs.filter((j) => selected.has(j.id));
    let rowsByJob;
    try {
      rowsByJob = await Promise.all(chosen.map(rowsOf));
    } catch (err) {
      if (!signal.aborted && mine === drawing) banner(`Could not load metrics: ${err.message}`);
      return;
    }
    if (signal.aborted || mine !== drawing) return;
    showMetricChoices(rowsByJob, chosen);
    const divide = perN && !perNBox.disabled;
    const q = new URLSearchParams({ kind });
    if (selected.size) q.set('ids', [...selected].join(','));
    if (metric) q.set('metric', metric);
    if (divide) q.set('per_n', '1');
    if (logX) q.set('log_x', '1');
    replaceQuery(q);

    const labels = uniqueLabels(chosen);
    const series = chosen.map((job, i) => {
      const n = divide ? nOf(job) : 1;
      const points = rowsByJob[i]
        .map((r) => [kind === 'lif' ? r.epoch ?? r.step : r.step, r[metric]])
        .filter(([x, y]) => typeof x === 'number' && typeof y === 'number' && (!logX || x > 0))
        .map(([x, y]) => [x, y / n]);
      return { job, label: divide ? `${labels.get(job.id)} (N = ${nOf(job)})` : labels.get(job.id), points };
    });
    const yLabel = `${columnLabel(metric)}${divide ? ' per neuron' : ''}`;
    const stepName = kind === 'lif' ? 'epoch' : 'generation';
    const chart = lineChart({ title: `${yLabel} per ${stepName}`, xLabel: `${stepName}${logX ? ' (log scale)' : ''}`, yLabel, series, logX });
    fill(chartBox, chosen.length ? chart : h('p', { class: 'muted' }, 'Tick two or more jobs to overlay their curves.'));
    fill(finals, chosen.length ? h('table', {},
      h('caption', {}, 'Latest point of each curve'),
      h('thead', {}, h('tr', {}, ['Job', 'Status', kind === 'lif' ? 'Epochs' : 'Generations', yLabel].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, series.map((s) => h('tr', {},
        h('td', {}, h('a', { href: `#/jobs/${s.job.id}`, title: s.job.id }, s.label)), h('td', {}, badge(s.job.status)),
        h('td', { class: 'n' }, num(s.points.at(-1)?.[0])), h('td', { class: 'n' }, num(s.points.at(-1)?.[1], 6)))))) : null);
    showDiff(chosen, labels);
  }

  function showDiff(chosen, labels) {
    if (chosen.length < 2) { fill(diffBox, h('p', { class: 'muted' }, 'Select two or more jobs to see where their specs differ.')); return; }
    const { rows, shared } = specDiff(chosen);
    fill(diffBox,
      h('p', { class: 'muted small' }, rows.length ? `${rows.length} field${rows.length === 1 ? '' : 's'} differ; ${shared} are the same.` : `The specs are identical (${shared} fields).`),
      rows.length ? h('table', { class: 'spec-diff' },
        h('caption', { class: 'visually-hidden' }, 'Spec fields that differ between the selected jobs'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), chosen.map((j) => h('th', { scope: 'col', title: j.id }, labels.get(j.id))))),
        h('tbody', {}, rows.map(([path, values]) => h('tr', { 'data-path': path },
          h('td', { class: 'mono small' }, path), values.map((v) => h('td', { class: 'mono small' }, v)))))) : null);
  }

  const timer = setInterval(() => {
    if (jobs.some((j) => selected.has(j.id) && !TERMINAL.includes(j.status))) loadJobs();
  }, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
  loadJobs();
}
