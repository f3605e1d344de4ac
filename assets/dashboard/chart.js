// A small line chart drawn as inline SVG: axes with "nice" ticks, axis labels, a title and a
// legend; colour-blind-safe colours (Okabe–Ito) with a distinct dash pattern per series.

const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const DASHES = ['', '7 4', '2 3', '10 3 2 3'];
const W = 860;
const H = 400;
const M = { left: 70, right: 230, top: 40, bottom: 52 };

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Around `count` round tick values covering [min, max]. */
export function niceTicks(min, max, count = 6, integer = false) {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw);
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Powers of ten between 10^lo and 10^hi (log10 bounds), at least the two ends. */
function decades(lo, hi) {
  const out = [];
  for (let e = Math.ceil(lo - 1e-9); e <= Math.floor(hi + 1e-9); e += 1) out.push(10 ** e);
  return out.length >= 2 ? out : [10 ** lo, 10 ** hi];
}

function label(value) {
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return value.toExponential(1);
  return String(Number(value.toPrecision(6)));
}

/**
 * series: [{label, points: [[x, y], ...]}]; `logX` puts x on a log scale (points with x ≤ 0 are
 * dropped). Returns an <svg> (role=img) that scales with its box.
 */
export function lineChart({ title, xLabel, yLabel, series, logX = false }) {
  const fx = logX ? Math.log10 : (x) => x;
  const usable = ([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0);
  const all = series.flatMap((s) => s.points).filter(usable);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart', 'aria-labelledby': 'chart-title' });
  svg.append(el('title', { id: 'chart-title' }, title));
  svg.append(el('text', { x: M.left, y: 22, class: 'chart-title' }, title));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  if (!all.length) {
    svg.append(el('text', { x: M.left + pw / 2, y: M.top + ph / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'No data yet'));
    return svg;
  }
  let [x0, x1] = [Math.min(...all.map((p) => fx(p[0]))), Math.max(...all.map((p) => fx(p[0])))];
  const integerX = all.every(([x]) => Number.isInteger(x));
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad; y1 += pad;
  const sx = (x) => M.left + ((fx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;

  const axes = el('g', { class: 'axes' });
  for (const t of niceTicks(y0, y1)) {
    axes.append(el('line', { x1: M.left, x2: M.left + pw, y1: sy(t), y2: sy(t), class: 'grid' }));
    axes.append(el('text', { x: M.left - 8, y: sy(t) + 4, 'text-anchor': 'end' }, label(t)));
  }
  const xTicks = logX ? decades(x0, x1) : niceTicks(x0, x1, 8, integerX);
  for (const t of xTicks) {
    axes.append(el('line', { x1: sx(t), x2: sx(t), y1: M.top + ph, y2: M.top + ph + 5, class: 'tick' }));
    axes.append(el('text', { x: sx(t), y: M.top + ph + 20, 'text-anchor': 'middle' }, label(t)));
  }
  axes.append(el('rect', { x: M.left, y: M.top, width: pw, height: ph, class: 'frame' }));
  axes.append(el('text', { x: M.left + pw / 2, y: H - 10, 'text-anchor': 'middle', class: 'axis-label' }, xLabel));
  axes.append(el('text', { x: 16, y: M.top + ph / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 16 ${M.top + ph / 2})` }, yLabel));
  svg.append(axes);

  const legend = el('g', { class: 'legend' });
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const dash = DASHES[i % DASHES.length];
    const pts = s.points.filter(usable);
    const line = el('polyline', {
      points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '),
      fill: 'none', stroke: colour, 'stroke-width': 2, 'stroke-dasharray': dash, 'stroke-linejoin': 'round',
    });
    line.append(el('title', {}, s.label));
    svg.append(line);
    if (pts.length === 1) svg.append(el('circle', { cx: sx(pts[0][0]), cy: sy(pts[0][1]), r: 3.5, fill: colour }));
    const ly = M.top + 8 + i * 22;
    legend.append(el('line', { x1: W - M.right + 14, x2: W - M.right + 44, y1: ly, y2: ly, stroke: colour, 'stroke-width': 3, 'stroke-dasharray': dash }));
    // Long labels keep both ends: names differ at the start, disambiguating id ends at the end.
    const text = s.label.length > 24 ? `${s.label.slice(0, 10)}…${s.label.slice(-13)}` : s.label;
    legend.append(el('text', { x: W - M.right + 50, y: ly + 4 }, text));
  });
  svg.append(legend);
  return svg;
}
