// The compare page (#/compare?kind=evolution&ids=a,b): overlays the fitness curves of several
// evolution jobs (best value of the first objective per generation) or the test-accuracy curves
// of several lif jobs (per epoch), from each job's metric series.

import { api } from './api.js';
import { h, fill, num, age, badge, banner, replaceQuery, jobLabel } from './dom.js';
import { lineChart } from './chart.js';

const REFRESH_MS = 10000;
const METRIC_OF_OBJECTIVE = { mi: 'mi_bits', correlation: 'correlation_rms', mean_period: 'mean_period' };
const OBJECTIVE_LABEL = { mi: 'I (bits)', correlation: 'C (RMS correlation)', mean_period: 'mean period (steps)' };

export function renderCompare(main, { signal, params }) {
  let kind = params.get('kind') === 'lif' ? 'lif' : 'evolution';
  const selected = new Set((params.get('ids') || '').split(',').filter(Boolean));
  let jobs = [];
  const cache = new Map(); // job id → {status, points}

  const kindSelect = h('select', { id: 'c-kind', onchange: () => { kind = kindSelect.value; selected.clear(); loadJobs(); } },
    h('option', { value: 'evolution', selected: kind === 'evolution' }, 'evolution — fitness curves'),
    h('option', { value: 'lif', selected: kind === 'lif' }, 'lif — test accuracy curves'));
  const picker = h('fieldset', { class: 'picker' });
  const chartBox = h('div', { class: 'chart-box', id: 'chart' });
  const finals = h('div', { class: 'table-wrap' });

  fill(main,
    h('h1', {}, 'Compare runs'),
    h('div', { class: 'compare-layout' },
      h('div', { class: 'card' },
        h('div', { class: 'field' }, h('label', { for: 'c-kind' }, 'Curves'), kindSelect),
        picker),
      h('div', {}, chartBox, finals)));

  async function loadJobs() {
    // The spec tells each job's objective; summaries leave it out.
    const q = new URLSearchParams({ kind, limit: '100', include: 'spec' });
    try {
      jobs = (await api(`/v1/jobs?${q}`, { signal })).jobs;
    } catch (err) {
      if (!signal.aborted) banner(`Could not load the jobs: ${err.message}`);
      return;
    }
    const focused = picker.contains(document.activeElement) ? document.activeElement.id : null;
    fill(picker, h('legend', {}, `${kind} jobs to overlay`),
      jobs.length ? null : h('p', { class: 'muted' }, `No ${kind} jobs yet.`),
      h('ul', { class: 'plain' }, jobs.map((job) => {
        const id = `c-${job.id}`;
        return h('li', {},
          h('input', { type: 'checkbox', id, checked: selected.has(job.id), onchange: (e) => toggle(job.id, e.target.checked) }),
          h('label', { for: id }, jobLabel(job), ' ', badge(job.status), h('span', { class: 'muted small' }, ` ${age(job.created_at)}`)));
      })));
    if (focused) document.getElementById(focused)?.focus();
    draw();
  }

  function toggle(id, on) {
    if (on) selected.add(id);
    else selected.delete(id);
    draw();
  }

  /** The curve of one job: [[x, y], ...]. */
  async function curve(job) {
    const cached = cache.get(job.id);
    if (cached && cached.status === job.status && ['succeeded', 'failed', 'cancelled'].includes(job.status)) return cached.points;
    const series = (await api(`/v1/jobs/${job.id}/metrics`, { signal })).series || [];
    let points;
    if (kind === 'evolution') {
      const key = `best_${METRIC_OF_OBJECTIVE[firstObjective(job)] || 'mi_bits'}`;
      points = series.map((r) => [r.step, r[key]]);
    } else {
      points = series.filter((r) => r.test_accuracy !== undefined).map((r) => [r.epoch ?? r.step, r.test_accuracy]);
      if (!points.length && job.status === 'succeeded') {
        const result = await api(`/v1/jobs/${job.id}/result`, { signal });
        points = (result.epochs || []).map((e, i) => [e.epoch ?? i + 1, e.test_accuracy]);
      }
    }
    points = points.filter(([x, y]) => typeof x === 'number' && typeof y === 'number');
    cache.set(job.id, { status: job.status, points });
    return points;
  }

  function firstObjective(job) {
    return job.spec?.objectives?.[0]?.name || 'mi';
  }

  async function draw() {
    const q = new URLSearchParams({ kind });
    if (selected.size) q.set('ids', [...selected].join(','));
    replaceQuery(q);
    const chosen = jobs.filter((j) => selected.has(j.id));
    let series;
    try {
      series = await Promise.all(chosen.map(async (job) => ({ job, label: jobLabel(job), points: await curve(job) })));
    } catch (err) {
      if (!signal.aborted) banner(`Could not load metrics: ${err.message}`);
      return;
    }
    if (signal.aborted) return;
    const objectives = [...new Set(chosen.map(firstObjective))];
    const yLabel = kind === 'lif' ? 'test accuracy (fraction correct)'
      : objectives.length === 1 ? `best ${OBJECTIVE_LABEL[objectives[0]] || objectives[0]}` : 'best value of the first objective';
    const chart = lineChart({
      title: kind === 'lif' ? 'Test accuracy per epoch' : 'Fitness per generation',
      xLabel: kind === 'lif' ? 'epoch' : 'generation',
      yLabel,
      series,
    });
    fill(chartBox, chosen.length ? chart : h('p', { class: 'muted' }, 'Tick two or more jobs to overlay their curves.'));
    fill(finals, chosen.length ? h('table', {},
      h('caption', {}, 'Latest point of each curve'),
      h('thead', {}, h('tr', {}, ['Job', 'Status', kind === 'lif' ? 'Epochs' : 'Generations', yLabel].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, series.map((s) => h('tr', {},
        h('td', {}, h('a', { href: `#/jobs/${s.job.id}` }, s.label)), h('td', {}, badge(s.job.status)),
        h('td', { class: 'n' }, num(s.points.at(-1)?.[0])), h('td', { class: 'n' }, num(s.points.at(-1)?.[1], 6)))))) : null);
  }

  const timer = setInterval(() => {
    if (jobs.some((j) => selected.has(j.id) && !['succeeded', 'failed', 'cancelled'].includes(j.status))) loadJobs();
  }, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
  loadJobs();
}
