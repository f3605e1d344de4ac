// The predict page (#/predict?job=<id>): draw a digit (or load an image), see the input the
// model receives, and the class probabilities of a trained lif model from
// POST /v1/models/{id}/predict. Non-image models take their values as text.

import { api, ApiError } from './api.js';
import { h, fill, num, jobLabel, replaceQuery } from './dom.js';

const PAD = 280; // drawing canvas, CSS and device pixels
const BRUSH = 22;
/** MNIST's digits fill a 20 × 20 box centred by mass in 28 × 28: the same share here. */
const INK_BOX = 20 / 28;
const SUPERSAMPLE = 4;

/** Where a lif job's model gets its inputs: [rows, cols] for images, else the value count. */
async function inputShape(job, signal) {
  const ref = job.spec?.dataset || {};
  if (ref.builtin) {
    const list = (await api('/v1/datasets', { signal })).datasets || [];
    const d = list.find((x) => x.id === ref.builtin);
    return { shape: d?.shape || [28, 28], features: d?.features || 784, name: ref.builtin };
  }
  if (ref.id) {
    const d = await api(`/v1/datasets/${encodeURIComponent(ref.id)}`, { signal });
    return { shape: d.shape, features: d.features, name: d.name };
  }
  return { shape: null, features: null, name: ref.task ? `synthetic task “${ref.task}”` : 'a custom dataset' };
}

/**
 * A photo or scan as light ink on black: inverted when the paper is light (median above 0.5),
 * then the paper's level (the median) is subtracted and the ink stretched to full brightness.
 */
function normaliseInk(img) {
  const n = img.data.length / 4;
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i += 1) grey[i] = (img.data[4 * i] + img.data[4 * i + 1] + img.data[4 * i + 2]) / (3 * 255);
  const sorted = Float32Array.from(grey).sort();
  const invert = sorted[n >> 1] > 0.5;
  if (invert) for (let i = 0; i < n; i += 1) grey[i] = 1 - grey[i];
  const paper = invert ? 1 - sorted[n >> 1] : sorted[n >> 1];
  let peak = 0;
  for (const v of grey) peak = Math.max(peak, v);
  const span = Math.max(peak - paper, 1e-6);
  for (let i = 0; i < n; i += 1) {
    const v = Math.round(255 * Math.min(1, Math.max(0, (grey[i] - paper) / span)));
    img.data.set([v, v, v, 255], 4 * i);
  }
  return img;
}

/** Grey levels in [0, 1] of a canvas (mean of R, G, B). */
function greys(canvas) {
  const { data, width, height } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i += 1) out[i] = (data[4 * i] + data[4 * i + 1] + data[4 * i + 2]) / (3 * 255);
  return out;
}

/**
 * The drawing as the model's input: the ink's bounding box scaled into the central INK_BOX of a
 * rows × cols image (area-averaged by supersampling), then shifted so its centre of mass is the
 * image centre, as MNIST was prepared. Returns row-major values in [0, 1], or null without ink.
 */
export function toModelInput(grey, size, rows, cols) {
  let peak = 0;
  for (const v of grey) peak = Math.max(peak, v);
  // Ink is what stands out: antialiased edges and faint paper stay outside the box.
  const ink = Math.max(0.05, 0.2 * peak);
  let [x0, y0, x1, y1] = [size, size, -1, -1];
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      if (grey[y * size + x] > ink) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = (INK_BOX * Math.min(rows, cols)) / Math.max(bw, bh);
  const dx = (cols - bw * scale) / 2;
  const dy = (rows - bh * scale) / 2;
  const sample = (tx, ty) => {
    let sum = 0;
    for (let j = 0; j < SUPERSAMPLE; j += 1) {
      for (let i = 0; i < SUPERSAMPLE; i += 1) {
        const sx = Math.floor(x0 + (tx + (i + 0.5) / SUPERSAMPLE - dx) / scale);
        const sy = Math.floor(y0 + (ty + (j + 0.5) / SUPERSAMPLE - dy) / scale);
        if (sx >= x0 && sx <= x1 && sy >= y0 && sy <= y1) sum += grey[sy * size + sx];
      }
    }
    return sum / (SUPERSAMPLE * SUPERSAMPLE);
  };
  const boxed = new Float64Array(rows * cols);
  let [mass, mx, my] = [0, 0, 0];
  for (let y = 0; y < rows; y += 1) {
    for (let x = 0; x < cols; x += 1) {
      const v = sample(x, y);
      boxed[y * cols + x] = v;
      mass += v; mx += v * (x + 0.5); my += v * (y + 0.5);
    }
  }
  if (!(mass > 0)) return null;
  const sx = Math.round(cols / 2 - mx / mass);
  const sy = Math.round(rows / 2 - my / mass);
  const out = new Array(rows * cols).fill(0);
  for (let y = 0; y < rows; y += 1) {
    for (let x = 0; x < cols; x += 1) {
      const fx = x - sx;
      const fy = y - sy;
      if (fx >= 0 && fx < cols && fy >= 0 && fy < rows) out[y * cols + x] = Math.min(1, Math.max(0, boxed[fy * cols + fx]));
    }
  }
  return out;
}

export function renderPredict(main, { signal, params }) {
  const jobSelect = h('select', { id: 'p-job', onchange: () => chooseJob(jobSelect.value) });
  const samples = h('input', { id: 'p-samples', type: 'number', min: '1', max: '100', step: '1', value: '10', 'aria-describedby': 'p-samples-help' });
  const pad = h('canvas', { id: 'p-pad', width: PAD, height: PAD, class: 'pad', role: 'img', 'aria-label': 'Drawing area: draw a digit with the mouse, a pen or a finger' });
  const preview = h('canvas', { id: 'p-preview', width: 28, height: 28, class: 'preview', role: 'img', 'aria-label': 'The input the model receives' });
  const file = h('input', { id: 'p-file', type: 'file', accept: 'image/*', onchange: () => loadImage() });
  const values = h('textarea', { id: 'p-values', rows: '4', spellcheck: 'false', 'aria-describedby': 'p-values-help' });
  const status = h('p', { id: 'p-status', role: 'status' });
  const errors = h('ul', { class: 'field-error', id: 'p-errors' });
  const shapeNote = h('p', { class: 'help', id: 'p-shape' });
  const output = h('div', { id: 'p-output' });
  const drawBox = h('div', { class: 'draw-box' },
    pad,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'p-clear', onclick: () => clearPad() }, 'Clear'),
      h('label', { for: 'p-file', class: 'small' }, 'or load an image: '), file),
    h('div', { class: 'preview-box' }, h('span', { class: 'small muted' }, 'Model input'), preview));
  const valuesBox = h('div', { class: 'field', hidden: true },
    h('label', { for: 'p-values' }, 'Input values'), values,
    h('p', { class: 'help', id: 'p-values-help' }, 'Comma- or space-separated values in [0, 1], one per input feature.'));
  const predict = h('button', { type: 'button', id: 'p-predict', disabled: true, onclick: () => run() }, 'Predict');

  fill(main,
    h('h1', {}, 'Predict with a trained model'),
    h('div', { class: 'predict-layout' },
      h('div', { class: 'card' },
        h('div', { class: 'field' }, h('label', { for: 'p-job' }, 'Model (a succeeded lif job)'), jobSelect),
        shapeNote, drawBox, valuesBox,
        h('div', { class: 'field' }, h('label', { for: 'p-samples' }, 'Encodings averaged'), samples,
          h('p', { class: 'help', id: 'p-samples-help' }, 'Poisson coding is random: the probabilities are averaged over this many encodings (1–100).')),
        h('div', { class: 'actions' }, predict), status, errors),
      h('section', { 'aria-labelledby': 'h-probs' }, h('h2', { id: 'h-probs' }, 'Class probabilities'), output)));

  let job = null;
  let shape = null;
  let choice = 0; // the latest model choice; answers to earlier ones are dropped

  // ---- drawing --------------------------------------------------------------------------------

  const ctx = pad.getContext('2d', { willReadFrequently: true });
  function clearPad() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD, PAD);
    preview.getContext('2d').clearRect(0, 0, 28, 28);
    fill(output);
  }
  let last = null;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
  };
  const stroke = (from, to) => {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = BRUSH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
  };
  pad.addEventListener('pointerdown', (e) => { pad.setPointerCapture(e.pointerId); last = at(e); stroke(last, last); });
  pad.addEventListener('pointermove', (e) => { if (!last) return; const p = at(e); stroke(last, p); last = p; });
  const end = () => { if (last) { last = null; showPreview(); } };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);

  /** An image file drawn into the pad, fitted and centred; dark ink on light paper is inverted. */
  async function loadImage() {
    const f = file.files[0];
    if (!f) return;
    try {
      const bitmap = await createImageBitmap(f);
      clearPad();
      const s = Math.min(PAD / bitmap.width, PAD / bitmap.height);
      const [w, hgt] = [Math.max(1, Math.round(bitmap.width * s)), Math.max(1, Math.round(bitmap.height * s))];
      const [left, top] = [Math.floor((PAD - w) / 2), Math.floor((PAD - hgt) / 2)];
      ctx.drawImage(bitmap, left, top, w, hgt);
      // Only the image's own rectangle is measured: the pad's black margins are not paper.
      const img = ctx.getImageData(left, top, w, hgt);
      ctx.putImageData(normaliseInk(img), left, top);
      showPreview();
    } catch (err) {
      status.textContent = `Could not read the image: ${err.message}`;
    }
  }

  /** The values to send for the drawing, drawn into the preview; null without ink. */
  function drawnInput() {
    if (!shape) return null;
    const [rows, cols] = shape;
    const input = toModelInput(greys(pad), PAD, rows, cols);
    preview.width = cols;
    preview.height = rows;
    const pctx = preview.getContext('2d');
    const img = pctx.createImageData(cols, rows);
    (input || []).forEach((v, i) => { img.data.set([v * 255, v * 255, v * 255, 255], 4 * i); });
    pctx.putImageData(img, 0, 0);
    return input;
  }
  function showPreview() { drawnInput(); }

  // ---- the model ------------------------------------------------------------------------------

  async function loadJobs() {
    let jobs;
    try {
      jobs = (await api('/v1/jobs?kind=lif&status=succeeded&limit=100&include=spec', { signal })).jobs || [];
    } catch (err) {
      if (!signal.aborted) status.textContent = `Could not list the models: ${err.message}`;
      return;
    }
    fill(jobSelect, jobs.length ? jobs.map((j) => h('option', { value: j.id }, `${jobLabel(j)} · ${j.id.slice(-8)}`))
      : h('option', { value: '' }, 'no succeeded lif job yet'));
    const wanted = params.get('job');
    if (wanted && !jobs.some((j) => j.id === wanted)) {
      try { const j = await api(`/v1/jobs/${encodeURIComponent(wanted)}`, { signal }); jobSelect.prepend(h('option', { value: j.id }, `${jobLabel(j)} · ${j.status}`)); } catch { /* not ours */ }
    }
    if (wanted) jobSelect.value = wanted;
    if (jobSelect.value) chooseJob(jobSelect.value);
  }

  async function chooseJob(id) {
    choice += 1;
    const mine = choice;
    fill(output);
    fill(errors);
    job = null;
    shape = null;
    predict.disabled = true;
    replaceQuery(new URLSearchParams({ job: id }));
    try {
      const chosen = await api(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
      const info = await inputShape(chosen, signal);
      if (mine !== choice) return;
      job = chosen;
      predict.disabled = false;
      const image = Array.isArray(info.shape) && info.shape.length === 2;
      shape = image ? info.shape : null;
      drawBox.hidden = !image;
      valuesBox.hidden = image;
      shapeNote.textContent = image
        ? `Trained on ${info.name}: draw one ${info.shape.join(' × ')} image, light ink on dark as in MNIST.`
        : `Trained on ${info.name}${info.features ? ` (${info.features} values per sample)` : ''}: enter the input values.`;
      if (image) showPreview();
    } catch (err) {
      if (!signal.aborted && mine === choice) status.textContent = `Could not load the model's job: ${err.message}`;
    }
  }

  async function run() {
    fill(errors);
    status.textContent = '';
    if (!job) { status.textContent = 'Choose a succeeded lif job first.'; return; }
    let input;
    if (shape) {
      input = drawnInput();
      if (!input) { status.textContent = 'Draw a digit (or load an image) first.'; return; }
    } else {
      input = values.value.split(/[\s,;]+/).filter(Boolean).map(Number);
    }
    const body = { inputs: [input], samples: Number(samples.value) || 1 };
    predict.disabled = true;
    status.textContent = 'Predicting…';
    try {
      const res = await api(`/v1/models/${encodeURIComponent(job.id)}/predict`, { method: 'POST', body, signal });
      const p = res.predictions[0];
      status.textContent = `Predicted class ${p.class}.`;
      showProbabilities(p);
    } catch (err) {
      status.textContent = `The prediction failed: ${err.problem?.detail || err.message}`;
      fill(errors, (err instanceof ApiError ? err.errors : []).map((e) => h('li', {}, h('code', {}, e.field), `: ${e.message}`)));
    } finally {
      predict.disabled = !job;
    }
  }

  function showProbabilities(p) {
    fill(output,
      h('p', { class: 'predicted' }, 'Predicted: ', h('strong', { id: 'p-class' }, String(p.class))),
      h('table', { class: 'probs' },
        h('caption', { class: 'visually-hidden' }, 'Probability of each class'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Class'), h('th', { scope: 'col', class: 'n' }, 'Probability'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Bar')))),
        h('tbody', {}, p.probabilities.map((v, k) => h('tr', { class: k === p.class ? 'best' : '', 'data-class': k },
          h('th', { scope: 'row' }, String(k)),
          h('td', { class: 'n' }, num(v, 3)),
          h('td', { class: 'bar-cell' }, h('span', { class: 'bar', style: `width: ${(100 * v).toFixed(1)}%` })))))));
  }

  clearPad();
  loadJobs();
}
