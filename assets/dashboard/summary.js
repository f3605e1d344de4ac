// Result summaries: the numbers a scientist looks for first, per kind (mi: I and C per network;
// evolution: best I, objectives, rook score; lif: test accuracy and loss).

import { h, num } from './dom.js';

const MAX_NETWORK_ROWS = 100;

export function summary(kind, result) {
  if (kind === 'mi') return miSummary(result);
  if (kind === 'evolution') return evolutionSummary(result);
  if (kind === 'lif') return lifSummary(result);
  return h('pre', { class: 'spec' }, JSON.stringify(result, null, 2));
}

/** Key figures as a definition list of large numbers. */
function figures(pairs) {
  return h('dl', { class: 'figures' }, pairs.filter(Boolean).map(([label, value, unit]) =>
    h('div', {}, h('dt', {}, label), h('dd', {}, value, unit ? h('span', { class: 'unit' }, ` ${unit}`) : null))));
}

/** A run time with its unit: ms below a second, s below two minutes, then min. */
function runTime(ms) {
  if (ms === undefined || ms === null) return ['—'];
  if (ms < 1000) return [num(ms), 'ms'];
  if (ms < 120000) return [num(ms / 1000, 3), 's'];
  return [num(ms / 60000, 3), 'min'];
}

function miSummary(r) {
  const nets = r.networks || [];
  const first = nets[0] || {};
  const single = nets.length === 1;
  const top = figures([
    single ? ['I (information flux)', num(first.mi_bits, 6), 'bits'] : ['Networks', num(nets.length)],
    single ? ['C (correlation, RMS)', num(first.correlation_rms, 6)] : ['Spearman ρ(I, C)', num(r.summary?.spearman_mi_vs_correlation)],
    single && first.attractors ? ['Attractors', attractorCount(first.attractors)] : null,
    single && first.attractors ? ['Mean period', num(first.attractors.mean_period)] : null,
    ['Run time', ...runTime(r.elapsed_ms)],
  ]);
  const rows = nets.slice(0, MAX_NETWORK_ROWS);
  const params = (p) => Object.entries(p || {}).map(([k, v]) => `${k} = ${num(v)}`).join(', ') || '—';
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'networks' },
    h('caption', {}, nets.length > rows.length ? `Networks (first ${rows.length} of ${nets.length})` : 'Networks'),
    h('thead', {}, h('tr', {}, ['#', 'N', 'Parameters', 'Replicate', 'Method', 'I (bits)', 'C', 'Attractors', 'Mean period']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((n, i) => h('tr', {},
      h('td', { class: 'n' }, i), h('td', { class: 'n' }, n.n), h('td', {}, params(n.params)),
      h('td', { class: 'n' }, n.replicate), h('td', {}, n.method),
      h('td', { class: 'n' }, num(n.mi_bits, 6)), h('td', { class: 'n' }, num(n.correlation_rms, 6)),
      h('td', { class: 'n' }, n.attractors ? attractorCount(n.attractors) : '—'), h('td', { class: 'n' }, num(n.attractors?.mean_period)))))));
  // A single sampled network shows its warnings with its estimates already.
  const warnings = single && first.sampled ? [] : nets.flatMap((n) => n.sampled?.warnings || []);
  return h('div', {}, top, single && first.sampled ? sampledEstimates(first) : null, sweepTable(r), table,
    warnings.length ? h('p', { class: 'warning' }, `Sampling warnings: ${[...new Set(warnings)].join('; ')}`) : null);
}

/** Per swept value: mean ± s.d. over replicates of I and C, attractor statistics. */
function sweepTable(r) {
  const points = r.summary?.sweep;
  if (!points || !points.length) return null;
  const pm = (m, sd) => (m === null || m === undefined ? '—' : sd === null || sd === undefined ? num(m, 4) : `${num(m, 4)} ± ${num(sd, 2)}`);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'sweep' },
    h('caption', {}, 'Per swept value (mean ± s.d. over replicates)'),
    h('thead', {}, h('tr', {}, ['Value', 'Networks', 'I (bits)', 'C', 'Attractors (mean)', 'Mean period (mean)']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, points.map((p) => h('tr', {},
      h('td', { class: 'n' }, num(p.value)),
      h('td', { class: 'n' }, p.mi_networks === p.networks ? num(p.networks) : `${num(p.networks)} (${num(p.mi_networks)} with I)`),
      h('td', { class: 'n' }, pm(p.mi_bits_mean, p.mi_bits_sd)),
      h('td', { class: 'n' }, pm(p.correlation_rms_mean, p.correlation_rms_sd)),
      h('td', { class: 'n' }, num(p.attractors_mean, 3)),
      h('td', { class: 'n' }, num(p.mean_period_mean, 3)))))));
}

/** The attractor count, with the random starts that found none when there were any. */
function attractorCount(a) {
  const count = num(a.count);
  return a.unresolved_starts ? `${count} (${num(a.unresolved_starts)} of ${num(a.starts)} starts unresolved)` : count;
}

/** "mi_miller_madow_bits" → "mi miller madow". */
const humanize = (key) => key.replace(/_bits$/, '').replaceAll('_', ' ');

/**
 * Every estimate of a sampled network (each `*_bits` field of `sampled`) with the standard
 * errors it reports (fields naming `stderr`) and its warnings. Generic over the field names, so
 * new estimators show up without a dashboard change.
 */
function sampledEstimates(net) {
  const s = net.sampled;
  const keys = Object.keys(s);
  const errors = keys.filter((k) => k.includes('stderr'));
  const estimates = keys.filter((k) => k.endsWith('_bits') && !k.includes('stderr'));
  const errorOf = (k) => errors.find((e) => e === k.replace(/_bits$/, '_stderr_bits') || e === `${k}_stderr`);
  const rows = estimates.map((k) => {
    const e = errorOf(k);
    return [humanize(k), `${num(s[k], 6)}${e && s[e] != null ? ` ± ${num(s[e], 3)}` : ''}`, 'bits'];
  });
  const paired = new Set(estimates.map(errorOf).filter(Boolean));
  for (const e of errors.filter((k) => !paired.has(k))) rows.push([humanize(e), num(s[e], 3)]);
  rows.push(['samples', num(s.samples)], ['distinct transitions', num(s.distinct_transitions)]);
  const warnings = [...new Set([...(s.warnings || []), ...(Array.isArray(s.warning) ? s.warning : s.warning ? [s.warning] : []), ...(net.warnings || [])])];
  return h('section', { class: 'sampled', 'aria-label': 'Sampled estimates' },
    h('h3', {}, 'Sampled estimates'),
    figures(rows),
    warnings.map((w) => h('p', { class: 'warning' }, w)));
}

function evolutionSummary(r) {
  const best = r.best || {};
  const o = best.objectives || {};
  // Objectives hold only what the run optimised; the full analysis of the best has the rest.
  const a = best.analysis || {};
  return h('div', {}, figures([
    ['Best I', num(o.mi_bits ?? a.mi_bits ?? null, 6), 'bits'],
    ['C of the best', num(o.correlation_rms ?? a.correlation_rms ?? null, 6)],
    ['Mean period of the best', num(o.mean_period ?? a.attractors?.mean_period ?? null)],
    a.attractors ? ['Attractors of the best', num(a.attractors.count)] : null,
    ['Rook score', num(best.rook_score)],
    ['Permutation', best.is_permutation ? 'yes' : 'no'],
    ['Generations', num(r.generations_run)],
    ['Evaluations', num(r.evaluations)],
    r.pareto_front ? ['Pareto front', num(r.pareto_front.length), 'genomes'] : null,
    ['Run time', ...runTime(r.elapsed_ms)],
  ]));
}

function lifSummary(r) {
  const leak = r.leak || {};
  const rates = Array.isArray(r.spike_rates) ? r.spike_rates.map((x) => num(typeof x === 'number' ? x : x?.mean ?? x, 3)).join(', ') : null;
  return h('div', {}, figures([
    ['Test accuracy', r.test_accuracy === undefined || r.test_accuracy === null ? '—' : `${(r.test_accuracy * 100).toFixed(2)} %`],
    ['Test loss', num(r.test_loss)],
    ['Epochs', num((r.epochs || []).length)],
    ['Leak (mean ± std)', `${num(leak.mean, 3)} ± ${num(leak.std, 3)}`],
    rates ? ['Spike rates per layer', rates] : null,
    ['Run time', ...runTime(r.elapsed_ms)],
  ]));
}
