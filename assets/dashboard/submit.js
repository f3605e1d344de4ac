// The submit page (#/submit): presets, a form per kind and a JSON editor for the full request,
// kept in step both ways. The server validates; its problem document's `errors[].field` paths go
// next to the form field of the same path, or beside the JSON editor when no field shows it.

import { api, ApiError } from './api.js';
import { h, fill, announce } from './dom.js';
import { PRESETS, KINDS, FORMS, getPath, setPath, chooseDataset } from './presets.js';
import { listDatasets } from './datasets.js';

const fieldId = (path) => `f-${path.replace(/[^a-zA-Z0-9]+/g, '-')}`;

export function renderSubmit(main, { params, signal }) {
  let body = structuredClone(PRESETS[0].body);
  const formCtx = { datasets: [] }; // what dynamic options read: the caller's datasets
  const template = params.get('template') && sessionStorage.getItem('fluxlab.template');
  const preset = PRESETS.find((p) => p.id === params.get('preset'));
  if (template) body = JSON.parse(template);
  else if (preset) body = structuredClone(preset.body);
  // "Train on it" from the datasets page: the lif preset on that dataset.
  const dataset = params.get('dataset');
  if (dataset && !template) {
    body = structuredClone(PRESETS.find((p) => p.id === 'mnist').body);
    chooseDataset(body, /^(builtin|id):/.test(dataset) ? dataset : `id:${dataset}`);
    body.name = undefined;
  }

  const presetHelp = h('p', { class: 'help', id: 'preset-help' });
  const presetButtons = h('div', { class: 'presets', role: 'group', 'aria-label': 'Presets', 'aria-describedby': 'preset-help' },
    PRESETS.map((p) => h('button', { type: 'button', class: 'secondary', 'data-preset': p.id, onclick: () => usePreset(p) }, p.label)));
  const kindSelect = h('select', { id: 'kind', onchange: () => usePreset(PRESETS.find((p) => p.id === KINDS[kindSelect.value].preset)) },
    Object.entries(KINDS).map(([k, v]) => h('option', { value: k }, v.label)));
  const fields = h('div', { class: 'form-grid' });
  const editor = h('textarea', {
    id: 'json', rows: '22', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'json-help json-errors',
    oninput: () => fromEditor(),
  });
  const editorErrors = h('div', { id: 'json-errors', class: 'field-errors', 'aria-live': 'polite' });
  const formStatus = h('div', { class: 'form-status', role: 'alert' });
  const submit = h('button', { type: 'submit', id: 'submit' }, 'Submit job');

  const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); send(); } },
    h('div', { class: 'submit-layout' },
      h('fieldset', { class: 'card' },
        h('legend', {}, 'Job'),
        h('div', { class: 'field' }, h('label', { for: 'kind' }, 'Kind'), kindSelect),
        fields),
      h('div', { class: 'card editor' },
        h('label', { for: 'json' }, 'Full request (JSON)'),
        h('p', { id: 'json-help', class: 'help' }, 'The whole request: {kind, name, spec, priority?, max_attempts?}. The form and this editor follow each other; every field of API.md can be set here.'),
        editor, editorErrors)),
    formStatus,
    h('div', { class: 'actions' }, submit));

  fill(main,
    h('h1', {}, 'Submit a job'),
    h('section', { 'aria-labelledby': 'h-presets' }, h('h2', { id: 'h-presets' }, 'Start from a preset'), presetButtons, presetHelp),
    form);

  function usePreset(p) {
    body = structuredClone(p.body);
    presetHelp.textContent = `${p.label}: ${p.help}`;
    clearErrors();
    renderForm();
    toEditor();
  }

  // ---- the form ----------------------------------------------------------------------------

  function renderForm(focusPath) {
    kindSelect.value = KINDS[body.kind] ? body.kind : 'mi';
    const defs = (FORMS[body.kind] || []).filter((f) => !f.when || f.when(body));
    fill(fields, defs.map(control));
    if (focusPath) document.getElementById(fieldId(focusPath))?.focus();
  }

  function control(def) {
    const id = fieldId(def.path);
    const value = def.get ? def.get(body) : getPath(body, def.path);
    const errorId = `${id}-error`;
    const described = [def.help ? `${id}-help` : null, errorId].filter(Boolean).join(' ');
    let input;
    if (def.type === 'select') {
      const choices = typeof def.options === 'function' ? def.options(formCtx) : def.options;
      const options = choices.map(([v, text]) => h('option', { value: v }, text));
      if (value !== undefined && value !== '' && !choices.some(([v]) => v === value)) {
        options.push(h('option', { value: '__custom' }, 'custom (see JSON)'));
      }
      input = h('select', { id, 'aria-describedby': described }, options);
      input.value = value === undefined ? choices[0][0] : choices.some(([v]) => v === value) ? value : '__custom';
    } else if (def.type === 'checkbox') {
      input = h('input', { id, type: 'checkbox', checked: Boolean(value), 'aria-describedby': described });
    } else {
      const numeric = def.type === 'int' || def.type === 'number';
      input = h('input', {
        id, type: numeric ? 'number' : 'text', step: def.type === 'int' ? '1' : numeric ? 'any' : undefined,
        inputmode: def.type === 'numlist' ? 'decimal' : undefined, 'aria-describedby': described,
        value: value === undefined ? '' : Array.isArray(value) ? value.join(', ') : String(value),
      });
    }
    input.dataset.path = def.path;
    input.addEventListener(def.type === 'select' || def.type === 'checkbox' ? 'change' : 'input', () => {
      clearError(def.path);
      if (input.value === '__custom') return;
      const v = read(def, input);
      if (def.set) def.set(body, v);
      else setPath(body, def.path, v);
      if (def.rerender) renderForm(def.path);
      toEditor();
    });
    const wrap = h('div', { class: def.type === 'checkbox' ? 'field check' : 'field', 'data-field': def.path },
      def.type === 'checkbox' ? [input, h('label', { for: id }, def.label)] : [h('label', { for: id }, def.label), input],
      def.help ? h('p', { class: 'help', id: `${id}-help` }, def.help) : null,
      h('p', { class: 'field-error', id: errorId, hidden: true }));
    return wrap;
  }

  /** The form value as JSON: numbers where numbers go, `undefined` (key removed) when empty. */
  function read(def, input) {
    const raw = input.value.trim();
    switch (def.type) {
      case 'checkbox': return input.checked;
      case 'int': case 'number': return raw === '' ? undefined : Number(raw);
      case 'numlist': return raw === '' ? [] : raw.split(/[\s,;]+/).filter(Boolean).map(Number);
      default: return raw === '' ? undefined : raw;
    }
  }

  // ---- the JSON editor --------------------------------------------------------------------

  function toEditor() {
    editor.value = JSON.stringify(body, null, 2);
    fill(editorErrors);
  }

  function fromEditor() {
    try {
      const parsed = JSON.parse(editor.value);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the request must be a JSON object');
      body = parsed;
      fill(editorErrors);
      renderForm();
      return true;
    } catch (err) {
      fill(editorErrors, h('p', { class: 'field-error' }, `Not valid JSON yet: ${err.message}`));
      return false;
    }
  }

  // ---- submitting and showing the server's errors ------------------------------------------

  async function send() {
    clearErrors();
    if (!fromEditor()) {
      formStatus.textContent = 'Fix the JSON before submitting.';
      editor.focus();
      return;
    }
    submit.disabled = true;
    try {
      const job = await api('/v1/jobs', { method: 'POST', body: editor.value });
      announce('Job submitted');
      location.hash = `#/jobs/${job.id}`;
    } catch (err) {
      showProblem(err);
    } finally {
      submit.disabled = false;
    }
  }

  function showProblem(err) {
    const problem = err instanceof ApiError ? err.problem : {};
    const errors = err instanceof ApiError ? err.errors : [];
    formStatus.textContent = `The server did not accept the job: ${problem.detail || err.message}`;
    const unplaced = [];
    let first = null;
    for (const e of errors) {
      const input = inputFor(e.field);
      if (!input) { unplaced.push(e); continue; }
      const note = document.getElementById(`${input.id}-error`);
      note.hidden = false;
      note.textContent = note.textContent ? `${note.textContent} ${e.message}` : e.message;
      input.setAttribute('aria-invalid', 'true');
      first ||= input;
    }
    if (unplaced.length) {
      fill(editorErrors, h('p', { class: 'field-error' }, 'Problems in the request:'),
        h('ul', { class: 'field-error' }, unplaced.map((e) => h('li', {}, h('code', {}, e.field), `: ${e.message}`))));
      editor.setAttribute('aria-invalid', 'true');
      first ||= editor;
    }
    first?.focus();
  }

  /** The shown input whose path is the longest prefix of `field` (at a `.` or `[` boundary). */
  function inputFor(field) {
    let best = null;
    for (const input of fields.querySelectorAll('[data-path]')) {
      const p = input.dataset.path;
      const match = field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`);
      if (match && (!best || p.length > best.dataset.path.length)) best = input;
    }
    return best;
  }

  function clearError(path) {
    const input = fields.querySelector(`[data-path="${CSS.escape(path)}"]`);
    if (!input) return;
    input.removeAttribute('aria-invalid');
    const note = document.getElementById(`${input.id}-error`);
    note.hidden = true;
    note.textContent = '';
  }

  function clearErrors() {
    for (const input of fields.querySelectorAll('[data-path]')) clearError(input.dataset.path);
    editor.removeAttribute('aria-invalid');
    fill(editorErrors);
    formStatus.textContent = '';
  }

  presetHelp.textContent = template ? 'A copy of an earlier job.' : `${(preset || PRESETS[0]).label}: ${(preset || PRESETS[0]).help}`;
  renderForm();
  toEditor();
  listDatasets(signal).then((list) => {
    formCtx.datasets = list;
    if (body.kind === 'lif') renderForm(fields.contains(document.activeElement) ? document.activeElement.dataset.path : undefined);
  }).catch(() => { /* the built-in stays the only choice */ });
}
