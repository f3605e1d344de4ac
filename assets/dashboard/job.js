// The job page (#/jobs/<id>): live progress and metrics over the event stream, the kind's
// server-rendered plots (inline SVG, refreshed while the job runs), the result summary,
// downloads, the spec, and cancel / resume / delete behind a confirmation dialog.

import { api, request, download, followJob, ApiError } from './api.js';
import { h, fill, num, age, duration, badge, progressBar, setProgress, announce, confirmAction, jobLabel } from './dom.js';
import { summary } from './summary.js';
import { metricsTable, allValues } from './tables.js';

const TERMINAL = ['succeeded', 'failed', 'cancelled'];
const PLOT_EVERY_MS = 4000;
const METRIC_ROWS = 200;
/** Plots whose axes are data axes (not heat maps or rasters), so log scales make sense. */
const NO_LOG = new Set(['weights', 'correlation', 'best_weights', 'confusion', 'raster']);
/** mi heat maps that can show any network of the result (`?network=k`). */
const PER_NETWORK = new Set(['weights', 'correlation']);
const JOB_POLL_MS = 10000;

export function renderJob(main, id, { signal }) {
  const base = `/v1/jobs/${encodeURIComponent(id)}`;
  let job = null;
  let metrics = [];
  let stopFollowing = null;
  let resultDoc = null;

  const title = h('h1', {}, 'Job');
  const meta = h('dl', { class: 'meta' });
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Job actions' });
  const actionStatus = h('p', { class: 'action-status', role: 'status' });
  const errorBox = h('div', { class: 'error-box', role: 'alert', hidden: true });
  const bar = progressBar('Job progress');
  const progressText = h('p', { class: 'muted', id: 'progress-text' });
  const resultBox = h('div', { id: 'result' }, h('p', { class: 'muted' }, 'The summary appears when the job has succeeded.'));
  const plotsBox = h('div', { class: 'plots', id: 'plots' });
  const plotsSection = h('section', { 'aria-labelledby': 'h-plots', hidden: true }, h('h2', { id: 'h-plots' }, 'Plots'), plotsBox);
  const metricsBox = h('div', { class: 'table-wrap', id: 'metrics' });
  const metricsCount = h('p', { class: 'muted small' });
  const downloads = h('ul', { class: 'downloads', id: 'downloads' });
  const specPre = h('pre', { class: 'spec', tabindex: '0', 'aria-label': 'Job spec (JSON)' });

  fill(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, '← All jobs')),
    h('div', { class: 'page-head' }, title, actions),
    actionStatus, meta, errorBox,
    h('section', { 'aria-labelledby': 'h-progress' }, h('h2', { id: 'h-progress' }, 'Progress'), bar, progressText),
    h('section', { 'aria-labelledby': 'h-result' }, h('h2', { id: 'h-result' }, 'Result'), resultBox),
    plotsSection,
    h('section', { 'aria-labelledby': 'h-metrics' }, h('h2', { id: 'h-metrics' }, 'Latest metrics'), metricsCount, metricsBox),
    h('section', { 'aria-labelledby': 'h-downloads' }, h('h2', { id: 'h-downloads' }, 'Downloads'), downloads),
    h('section', { 'aria-labelledby': 'h-spec' }, h('h2', { id: 'h-spec' }, 'Spec'), specPre));

  // ---- job view, progress and actions -------------------------------------------------------

  function showJob(view) {
    const statusChanged = !job || job.status !== view.status;
    const first = !job;
    job = view;
    title.textContent = jobLabel(view);
    fill(meta,
      item('Status', badge(view.status)),
      item('Kind', view.kind),
      item('Id', h('span', { class: 'mono' }, view.id)),
      item('Created', h('span', { title: view.created_at }, age(view.created_at))),
      item('Run time', view.started_at ? duration(view.started_at, view.finished_at) : '—'),
      item('Attempts', `${view.attempts} of ${view.max_attempts}`),
      item('Priority', view.priority));
    showProgress(view.progress);
    errorBox.hidden = !view.error;
    if (view.error) fill(errorBox, h('strong', {}, `Failed (${view.error.code}): `), view.error.message);
    if (first) specPre.textContent = JSON.stringify(view.spec, null, 2);
    if (statusChanged) {
      showActions();
      showDownloads();
      if (!first) announce(`Job ${view.status}`);
      if (view.status === 'succeeded') loadResult();
      if (TERMINAL.includes(view.status)) { loadMetrics(); schedulePlots(true); }
    }
    if (!TERMINAL.includes(view.status) && !stopFollowing) follow();
    document.title = `${title.textContent} (${view.status}) · fluxlab`;
  }

  function item(label, value) {
    return h('div', {}, h('dt', {}, label), h('dd', {}, value));
  }

  function showProgress(p) {
    setProgress(bar, p?.fraction, job?.status);
    const steps = p && p.total_steps ? `step ${num(p.step)} of ${num(p.total_steps)}` : '';
    progressText.textContent = [steps, p?.message].filter(Boolean).join(' · ');
  }

  function showActions() {
    const buttons = [];
    const st = job.status;
    if (st === 'queued' || st === 'running') {
      buttons.push(h('button', { type: 'button', class: 'danger', id: 'cancel', onclick: () => act('cancel') }, 'Cancel'));
    }
    if (st === 'cancelled' || st === 'failed') {
      buttons.push(h('button', { type: 'button', id: 'resume', onclick: () => act('resume') }, 'Resume'));
    }
    if (TERMINAL.includes(st)) {
      buttons.push(h('button', { type: 'button', class: 'danger', id: 'delete', onclick: () => act('delete') }, 'Delete'));
    }
    buttons.push(h('button', { type: 'button', class: 'secondary', id: 'copy', onclick: copyToSubmit }, 'Submit a copy'));
    // Keep focus on the same action across re-renders where the button still exists.
    const focused = actions.contains(document.activeElement) ? document.activeElement.id : null;
    fill(actions, buttons);
    if (focused) (actions.querySelector(`#${focused}`) || title).focus?.();
  }

  const ACTIONS = {
    cancel: ['Cancel this job?', 'A running job saves a checkpoint and stops; you can resume it later.', 'Cancel job'],
    resume: ['Resume this job?', 'The job goes back into the queue and continues from its last checkpoint.', 'Resume'],
    delete: ['Delete this job?', 'The job, its result, metrics and checkpoints are removed for good.', 'Delete job'],
  };

  async function act(action) {
    const [question, text, label] = ACTIONS[action];
    if (!(await confirmAction(question, text, label))) return;
    actionStatus.textContent = '';
    try {
      if (action === 'delete') {
        await api(base, { method: 'DELETE' });
        announce('Job deleted');
        location.hash = '#/jobs';
        return;
      }
      const view = await api(`${base}/${action}`, { method: 'POST' });
      actionStatus.textContent = action === 'cancel' ? 'Cancellation requested.' : 'Job queued again.';
      showJob(view);
    } catch (err) {
      actionStatus.textContent = `Could not ${action}: ${err.message}`;
    }
  }

  function copyToSubmit() {
    sessionStorage.setItem('fluxlab.template', JSON.stringify({ kind: job.kind, name: job.name ? `${job.name} (copy)` : undefined, spec: job.spec }));
    location.hash = '#/submit?template=1';
  }

  // ---- live updates ---------------------------------------------------------------------------

  function follow() {
    stopFollowing = followJob(id, (name, data) => {
      if (signal.aborted) return;
      if (name === 'snapshot' || name === 'done') {
        if (name === 'done') { stopFollowing?.(); stopFollowing = null; }
        showJob(data);
      } else if (name === 'progress') {
        if (job) job.progress = data;
        showProgress(data);
      } else if (name === 'metrics') {
        addMetricRow(data);
        showMetrics();
        schedulePlots(false);
      } else if (name === 'status' && data.status && job) {
        showJob({ ...job, status: data.status, attempts: data.attempts ?? job.attempts });
        if (data.status === 'running') refreshJob();
      }
    });
  }

  async function refreshJob() {
    try { showJob(await api(base, { signal })); } catch { /* the next poll retries */ }
  }

  // ---- result summary -----------------------------------------------------------------------

  async function loadResult() {
    try {
      const result = await api(`${base}/result`, { signal });
      resultDoc = result;
      fill(resultBox, summary(job.kind, result),
        job.kind === 'lif' ? h('p', {}, h('a', { href: `#/predict?job=${encodeURIComponent(id)}`, id: 'try-model' }, 'Try this model: draw a digit and see its class probabilities →')) : null,
        allValues(result));
      for (const entry of figures.values()) entry.addPicker?.();
    } catch (err) {
      if (!signal.aborted) fill(resultBox, h('p', { class: 'muted' }, `No result: ${err.message}`));
    }
  }

  // ---- metrics ----------------------------------------------------------------------------------

  async function loadMetrics() {
    try {
      const data = await api(`${base}/metrics`, { signal });
      metrics = data.series || [];
      showMetrics();
    } catch { /* shown as empty */ }
  }

  /** Rows may arrive twice (the initial fetch racing the stream, a resumed run): keep one per step. */
  function addMetricRow(row) {
    let i = metrics.length - 1;
    while (i >= 0 && metrics[i].step > row.step) i -= 1;
    if (i >= 0 && metrics[i].step === row.step) metrics[i] = row;
    else metrics.splice(i + 1, 0, row);
  }

  function showMetrics() {
    const rows = metrics.slice(-METRIC_ROWS);
    metricsCount.textContent = metrics.length
      ? `${metrics.length} row${metrics.length === 1 ? '' : 's'} recorded; ${rows.length === metrics.length ? 'all' : `the latest ${rows.length}`} shown, newest first. All rows: metrics.csv below.`
      : 'No metric rows yet.';
    if (!rows.length) { metricsBox.replaceChildren(); return; }
    fill(metricsBox, metricsTable(job?.kind, rows));
  }

  // ---- plots (server-rendered SVG, inserted inline) ----------------------------------------

  let plotTimer = null;
  let plotsLoadedAt = 0;
  let plotsMissing = false; // the server has no plot listing (older server): stop asking
  const figures = new Map(); // plot name → {figure, body, text, query, addPicker}

  function schedulePlots(now) {
    if (plotsMissing || plotTimer) return;
    const wait = now ? 0 : Math.max(0, plotsLoadedAt + PLOT_EVERY_MS - Date.now());
    plotTimer = setTimeout(() => { plotTimer = null; loadPlots(); }, wait);
  }

  async function loadPlots() {
    if (signal.aborted) return;
    plotsLoadedAt = Date.now();
    let list;
    try {
      list = (await api(`${base}/plots`, { signal })).plots || [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) plotsMissing = true;
      return;
    }
    plotsSection.hidden = list.length === 0;
    await Promise.all(list.map((plot) => loadPlot(plot)));
  }

  async function loadPlot(plot) {
    let entry = figures.get(plot.name);
    if (!entry) {
      const body = h('div', { class: 'plot-body' }, h('p', { class: 'muted small' }, 'Loading…'));
      const note = h('span', { class: 'muted small', role: 'status' });
      const query = new URLSearchParams();
      const urlOf = (format) => {
        const q = query.toString();
        return `${plot.url.replace(/\.svg$/, `.${format}`)}${q ? `?${q}` : ''}`;
      };
      // Figures for papers: the server renders PNG and PDF with an embedded font.
      const saves = ['svg', 'png', 'pdf'].map((format) => h('button', {
        type: 'button', class: 'secondary small', 'data-format': format,
        title: `Download this plot as ${format.toUpperCase()}`,
        onclick: async () => {
          const filename = `${id}-${plot.name}.${format}`;
          note.textContent = '';
          try {
            await download(urlOf(format), filename);
            note.textContent = `Downloaded ${filename}.`;
          } catch (err) { note.textContent = `Download failed: ${err.message}`; }
        },
      }, format.toUpperCase()));
      const redraw = () => { entry.text = ''; loadPlot(plot); };
      const toggles = NO_LOG.has(plot.name) ? [] : ['x', 'y'].map((axis) => {
        const box = h('input', { type: 'checkbox', id: `log-${axis}-${plot.name}`, 'data-log': axis, onchange: () => {
          if (box.checked) query.set(`log_${axis}`, 'true'); else query.delete(`log_${axis}`);
          redraw();
        } });
        return h('span', { class: 'check small' }, box, h('label', { for: box.id }, `log ${axis}`));
      });
      const tools = h('div', { class: 'plot-tools' }, ...toggles, ...saves, note);
      const figure = h('figure', { class: 'plot', 'data-plot': plot.name },
        body, tools, h('figcaption', { class: 'visually-hidden' }, plot.title || plot.name));
      entry = { figure, body, text: '', urlOf };
      // A network picker for heat maps of a result with several networks.
      entry.addPicker = () => {
        const nets = resultDoc?.networks;
        if (!PER_NETWORK.has(plot.name) || !Array.isArray(nets) || nets.length < 2 || tools.querySelector('select')) return;
        const pick = h('select', { id: `net-${plot.name}`, 'data-network-picker': plot.name, onchange: () => { query.set('network', pick.value); redraw(); } },
          nets.map((n, k) => h('option', { value: String(k) }, networkLabel(n, k))));
        tools.prepend(h('label', { for: pick.id, class: 'small' }, 'Network '), pick);
      };
      entry.addPicker();
      figures.set(plot.name, entry);
      plotsBox.append(figure);
    }
    try {
      const res = await request(entry.urlOf('svg'), { signal, accept: 'image/svg+xml' });
      const text = await res.text();
      if (text === entry.text) return;
      const svg = inlineSvg(text, plot.title || plot.name);
      if (!svg) return;
      entry.text = text;
      fill(entry.body, svg);
    } catch (err) {
      if (!signal.aborted && !entry.text) fill(entry.body, h('p', { class: 'muted small' }, `Not available yet (${err.status || 'network'}).`));
    }
  }

  // ---- downloads ----------------------------------------------------------------------------

  function showDownloads() {
    const short = id;
    const done = job.status === 'succeeded';
    const files = [
      ['Result (JSON)', `${base}/result`, `${short}-result.json`, true],
      ['Metrics (CSV)', `${base}/artifacts/metrics.csv`, `${short}-metrics.csv`, false],
    ];
    if (job.kind === 'mi' || job.kind === 'evolution') {
      files.push(['Weights (NumPy .npy)', `${base}/artifacts/weights.npy`, `${short}-weights.npy`, true]);
      files.push(['Weights (JSON)', `${base}/artifacts/weights.json`, `${short}-weights.json`, true]);
    }
    if (job.kind === 'lif') files.push(['Model (JSON)', `${base}/artifacts/model.json`, `${short}-model.json`, true]);
    const note = h('p', { class: 'muted small', role: 'status' });
    fill(downloads, files.map(([label, url, filename, needsResult]) => h('li', {},
      h('button', {
        type: 'button', class: 'secondary', 'data-artifact': filename.slice(short.length + 1),
        disabled: needsResult && !done,
        title: needsResult && !done ? 'Available once the job has succeeded' : undefined,
        onclick: async () => {
          note.textContent = '';
          try { await download(url, filename); note.textContent = `Downloaded ${filename}.`; } catch (err) { note.textContent = `Download failed: ${err.message}`; }
        },
      }, label))), h('li', { class: 'note' }, note));
  }

  // ---- start ------------------------------------------------------------------------------------

  const poll = setInterval(() => { if (job && !TERMINAL.includes(job.status)) refreshJob(); }, JOB_POLL_MS);
  signal.addEventListener('abort', () => {
    clearInterval(poll);
    clearTimeout(plotTimer);
    stopFollowing?.();
  });
  (async () => {
    try {
      showJob(await api(base, { signal }));
    } catch (err) {
      if (signal.aborted) return;
      fill(main, h('h1', {}, 'Job not found'), h('p', {}, err.message, ' ', h('a', { href: '#/jobs' }, 'Back to the job list.')));
      return;
    }
    if (!TERMINAL.includes(job.status)) { loadMetrics(); schedulePlots(true); }
  })();
}

/** "#3 · std = 0.4 · replicate 1 · N = 10" for a network of an mi result. */
function networkLabel(n, k) {
  const params = Object.entries(n.params || {}).map(([p, v]) => `${p} = ${num(v)}`);
  return [`#${k}`, ...params, n.replicate !== undefined ? `replicate ${n.replicate}` : null, n.n ? `N = ${n.n}` : null].filter(Boolean).join(' · ');
}

/** Parses an SVG document and makes it safe and scalable to insert into the page. */
export function inlineSvg(text, label) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (!svg || svg.localName !== 'svg' || doc.getElementsByTagName('parsererror').length) return null;
  for (const bad of svg.querySelectorAll('script, foreignObject')) bad.remove();
  for (const el of [svg, ...svg.querySelectorAll('*')]) {
    for (const attr of [...el.attributes]) {
      if (/^on/i.test(attr.name) || /^\s*javascript:/i.test(attr.value)) el.removeAttribute(attr.name);
    }
  }
  const width = parseFloat(svg.getAttribute('width'));
  const height = parseFloat(svg.getAttribute('height'));
  if (!svg.getAttribute('viewBox') && width > 0 && height > 0) svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  return document.importNode(svg, true);
}
