// The datasets page (#/datasets): upload an IDX pair with a progress bar, list the datasets this
// user can train on (the built-in mnist10k and their uploads) and delete uploads.

import { api, getToken, ApiError } from './api.js';
import { h, fill, num, age, announce, confirmAction, progressBar, setProgress } from './dom.js';

/** The datasets the caller can train on (built-ins first), or [] when the server has none. */
export async function listDatasets(signal) {
  return (await api('/v1/datasets', { signal })).datasets || [];
}

/** "10,000 × 28×28, 10 classes" */
export function describeDataset(d) {
  return `${num(d.count)} × ${(d.shape || [d.features]).join('×')}, ${num(d.classes)} classes`;
}

/** Human size of a byte count. */
function bytes(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * POSTs the multipart form with XMLHttpRequest, the one browser API that reports upload
 * progress; `onProgress(fraction)` follows the bytes sent. Resolves to the stored dataset.
 */
function uploadWithProgress(form, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/datasets');
    const token = getToken();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        if (xhr.status === 401) window.dispatchEvent(new CustomEvent('fluxlab:unauthorized'));
        reject(new ApiError(xhr.status, body));
      }
    };
    xhr.onerror = () => reject(new Error('the connection failed during the upload'));
    xhr.onabort = () => reject(new Error('upload cancelled'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

export function renderDatasets(main, { signal }) {
  const name = h('input', { id: 'ds-name', type: 'text', required: true, maxlength: '200', autocomplete: 'off' });
  const images = h('input', { id: 'ds-images', type: 'file', required: true, 'aria-describedby': 'ds-files-help' });
  const labels = h('input', { id: 'ds-labels', type: 'file', required: true, 'aria-describedby': 'ds-files-help' });
  const classes = h('input', { id: 'ds-classes', type: 'number', min: '1', max: '256', step: '1', 'aria-describedby': 'ds-classes-help' });
  const bar = progressBar('Upload progress');
  bar.hidden = true;
  const status = h('p', { id: 'ds-status', role: 'status' });
  const errors = h('ul', { class: 'field-error', id: 'ds-errors' });
  const send = h('button', { type: 'submit', id: 'ds-upload' }, 'Upload');
  const listBox = h('div', { class: 'table-wrap', id: 'ds-list' }, h('p', { class: 'muted' }, 'Loading…'));

  const form = h('form', { class: 'card narrow', novalidate: true, onsubmit: (e) => { e.preventDefault(); upload(); } },
    h('div', { class: 'field' }, h('label', { for: 'ds-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'ds-images' }, 'Images (IDX, raw or .gz)'), images),
    h('div', { class: 'field' }, h('label', { for: 'ds-labels' }, 'Labels (IDX, raw or .gz)'), labels),
    h('p', { class: 'help', id: 'ds-files-help' }, 'An IDX pair as MNIST ships it: images of unsigned bytes [count, rows, cols] and one label byte per image.'),
    h('div', { class: 'field' }, h('label', { for: 'ds-classes' }, 'Classes (optional)'), classes),
    h('p', { class: 'help', id: 'ds-classes-help' }, 'Every label must be below it; left empty, the largest label + 1.'),
    h('div', { class: 'actions' }, send), bar, status, errors);

  fill(main,
    h('h1', {}, 'Datasets'),
    h('p', { class: 'muted' }, 'Datasets for lif jobs. Pick one in the lif form of the submit page, or name it in a spec as {"dataset": {"id": "…"}}.'),
    h('section', { 'aria-labelledby': 'h-ds-list' }, h('h2', { id: 'h-ds-list' }, 'Your datasets'), listBox),
    h('section', { 'aria-labelledby': 'h-ds-upload' }, h('h2', { id: 'h-ds-upload' }, 'Upload an IDX pair'), form));

  async function load() {
    let list;
    try { list = await listDatasets(signal); } catch (err) {
      if (!signal.aborted) fill(listBox, h('p', { class: 'error-box' }, `Could not list the datasets: ${err.message}`));
      return;
    }
    fill(listBox, h('table', { class: 'datasets' },
      h('caption', { class: 'visually-hidden' }, 'Datasets'),
      h('thead', {}, h('tr', {}, ['Name', 'Id', 'Samples', 'Shape', 'Classes', 'Size', 'Uploaded'].map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, list.map((d) => h('tr', { 'data-dataset': d.id },
        h('td', {}, d.name, d.builtin ? h('span', { class: 'tag' }, 'built-in') : null),
        h('td', { class: 'mono small' }, d.id),
        h('td', { class: 'n' }, num(d.count)),
        h('td', { class: 'n' }, (d.shape || []).join(' × ')),
        h('td', { class: 'n' }, num(d.classes)),
        h('td', { class: 'n' }, bytes(d.bytes)),
        h('td', { title: d.created_at || '' }, d.created_at ? age(d.created_at) : '—'),
        h('td', {}, h('div', { class: 'actions' },
          h('a', { href: `#/submit?dataset=${encodeURIComponent(`${d.builtin ? 'builtin' : 'id'}:${d.id}`)}`, class: 'button secondary small' }, 'Train on it'),
          d.builtin ? null : h('button', { type: 'button', class: 'danger small', 'data-delete': d.id, onclick: () => remove(d) }, 'Delete'))))))));
  }

  async function remove(d) {
    if (!(await confirmAction(`Delete ${d.name}?`, 'The uploaded files are removed for good. Jobs that trained on it keep their results.', 'Delete dataset'))) return;
    try {
      await api(`/v1/datasets/${encodeURIComponent(d.id)}`, { method: 'DELETE' });
      status.textContent = `Deleted ${d.name}.`;
      announce(`Dataset ${d.name} deleted`);
    } catch (err) {
      status.textContent = `Could not delete ${d.name}: ${err.message}`;
    }
    load();
  }

  async function upload() {
    fill(errors);
    for (const input of [name, images, labels, classes]) input.removeAttribute('aria-invalid');
    const data = new FormData();
    data.append('name', name.value.trim());
    if (classes.value.trim()) data.append('classes', classes.value.trim());
    // Files go last: the server reads fields in order, and the small ones are checked first.
    if (images.files[0]) data.append('images', images.files[0]);
    if (labels.files[0]) data.append('labels', labels.files[0]);
    send.disabled = true;
    bar.hidden = false;
    setProgress(bar, 0, 'running');
    status.textContent = 'Uploading…';
    try {
      const stored = await uploadWithProgress(data, (f) => {
        setProgress(bar, f, 'running');
        status.textContent = f < 1 ? 'Uploading…' : 'Checking the files on the server…';
      }, signal);
      setProgress(bar, 1, 'succeeded');
      status.textContent = `Stored ${stored.name}: ${describeDataset(stored)}.`;
      announce('Dataset uploaded');
      form.reset();
      load();
    } catch (err) {
      setProgress(bar, 1, 'failed');
      status.textContent = `The upload was not accepted: ${err.problem?.detail || err.message}`;
      const list = err instanceof ApiError ? err.errors : [];
      fill(errors, list.map((e) => h('li', {}, h('code', {}, e.field), `: ${e.message}`)));
      const fieldInput = { name, images, labels, classes };
      for (const e of list) fieldInput[e.field]?.setAttribute('aria-invalid', 'true');
    } finally {
      send.disabled = false;
    }
  }

  load();
}
