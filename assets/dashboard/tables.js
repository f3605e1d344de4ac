// Tables of the job page that show everything a run recorded: metric columns ordered by meaning
// (the objective first, diagnostics last) with readable headers, and every value of a result
// document flattened to path = value rows.

import { h, num } from './dom.js';

/**
 * Column order per kind, by meaning: what the run optimises or reports first, then its spread,
 * then diagnostics. Patterns end in `*` for per-layer columns; unknown columns go last, sorted.
 */
const ORDER = {
  evolution: [
    'step', 'best_fitness', 'best_mi_bits', 'mean_mi_bits', 'std_mi_bits',
    'best_correlation_rms', 'mean_correlation_rms', 'std_correlation_rms',
    'best_mean_period', 'mean_mean_period', 'std_mean_period',
    'best_rook_score', 'best_is_permutation', 'pareto_front_size',
    'step_size', 'evaluations', 'unconverged_evaluations',
  ],
  lif: [
    'step', 'epoch', 'test_accuracy', 'train_accuracy', 'test_loss', 'train_loss',
    'spike_rate', 'spike_rate_layer*', 'mean_leak', 'mean_leak_layer*', 'readout_leak',
    'lr', 'seconds', 'samples_per_second',
  ],
  mi: ['step', 'mi_bits', 'correlation_rms'],
};

const rank = (kind, column) => {
  const order = ORDER[kind] || ['step'];
  const i = order.findIndex((p) => (p.endsWith('*') ? column.startsWith(p.slice(0, -1)) : p === column));
  return i < 0 ? order.length : i;
};

/** The columns of `rows` in the kind's order of meaning. */
export function orderColumns(kind, rows) {
  const seen = new Set(['step']);
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen].sort((a, b) => rank(kind, a) - rank(kind, b) || a.localeCompare(b, 'en', { numeric: true }));
}

/** "best_mi_bits" → "best I (bits)", "std_correlation_rms" → "s.d. C (RMS)". */
export function columnLabel(column) {
  return column
    .replace(/^std_/, 's.d. ')
    .replace(/mi_bits$/, 'I (bits)')
    .replace(/correlation_rms$/, 'C (RMS)')
    .replace(/_layer(\d+)$/, ' (layer $1)')
    .replaceAll('_', ' ');
}

function cell(value) {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value && typeof value === 'object') return JSON.stringify(value);
  return num(value);
}

/** The metric rows, newest first, in a scrollable box with a sticky header. */
export function metricsTable(kind, rows) {
  const columns = orderColumns(kind, rows);
  const numeric = (c) => rows.some((r) => typeof r[c] === 'number');
  return h('table', { class: 'metrics' },
    h('caption', { class: 'visually-hidden' }, 'Metric rows, newest first'),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: numeric(c) ? 'n' : '', 'data-column': c, title: c }, columnLabel(c))))),
    h('tbody', {}, [...rows].reverse().map((row) => h('tr', {}, columns.map((c) => h('td', { class: typeof row[c] === 'number' ? 'n' : '' }, cell(row[c])))))));
}

/** Arrays longer than this (matrices, per-neuron lists) are summarised, not listed. */
const MAX_LISTED = 12;

/** "3 × 4" for a regular nested array, null for a ragged one. */
function shapeOf(value) {
  if (!Array.isArray(value)) return '';
  const inner = value.map(shapeOf);
  if (inner.some((s) => s === null || s !== inner[0])) return null;
  return inner[0] ? `${value.length} × ${inner[0]}` : String(value.length);
}

/**
 * Every value of a result as [path, text] rows: scalars as they are, short arrays of numbers
 * inline, long ones and matrices as their shape with min and max (the downloads have them whole).
 */
export function flattenResult(value, path = '', out = []) {
  if (Array.isArray(value)) {
    const flat = value.flat(Infinity);
    const numbers = flat.every((v) => typeof v === 'number' || v === null);
    if (numbers && (value.length > MAX_LISTED || value.some(Array.isArray))) {
      let [lo, hi] = [Infinity, -Infinity];
      for (const v of flat) if (typeof v === 'number') { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const range = hi >= lo ? `, min ${num(lo)}, max ${num(hi)}` : '';
      out.push([path, `${shapeOf(value) || flat.length} numbers${range}`]);
    } else if (numbers) {
      out.push([path, `[${value.map((v) => num(v)).join(', ')}]`]);
    } else if (value.length > MAX_LISTED * 4) {
      value.slice(0, MAX_LISTED).forEach((v, i) => flattenResult(v, `${path}[${i}]`, out));
      out.push([`${path}[…]`, `${value.length - MAX_LISTED} more entries (see the result JSON)`]);
    } else {
      if (!value.length) out.push([path, '[]']);
      value.forEach((v, i) => flattenResult(v, `${path}[${i}]`, out));
    }
  } else if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (!keys.length) out.push([path, '{}']);
    for (const k of keys) flattenResult(value[k], path ? `${path}.${k}` : k, out);
  } else {
    out.push([path, value === null ? 'null' : typeof value === 'number' ? num(value, 6) : String(value)]);
  }
  return out;
}

/** A collapsed section listing every value of the result. */
export function allValues(result) {
  const rows = flattenResult(result);
  return h('details', { class: 'all-values' },
    h('summary', {}, `Every value in the result (${rows.length})`),
    h('div', { class: 'table-wrap scroll' }, h('table', { class: 'values' },
      h('caption', { class: 'visually-hidden' }, 'Every value in the result'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {}, rows.map(([p, v]) => h('tr', {}, h('td', { class: 'mono small' }, p), h('td', {}, v)))))));
}
