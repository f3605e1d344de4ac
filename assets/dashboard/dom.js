// DOM helpers shared by the pages: element builder, number and time formatting, the live
// announcer, the confirmation dialog and the progress bar.

/** Builds an element: h('a', {href: '#/jobs', class: 'x'}, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== 'string') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A number for people: up to `digits` significant digits, `—` for null. */
export function num(value, digits = 4) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return value.toLocaleString('en');
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

/** The label of a job: its name, else its kind and the random end of its id (unique). */
export function jobLabel(job) {
  return job.name || `${job.kind} …${job.id.slice(-8)}`;
}

/** "3 min ago" for an RFC 3339 time. */
export function age(iso, now = Date.now()) {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Duration between two RFC 3339 times (or until now). */
export function duration(from, to) {
  if (!from) return '—';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Says `text` to screen readers (polite live region). */
export function announce(text) {
  const el = document.getElementById('announce');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 30);
}

/** Shows or hides the page-wide alert banner. */
export function banner(text) {
  const el = document.getElementById('banner');
  el.hidden = !text;
  el.textContent = text || '';
}

/** Asks for confirmation in the modal <dialog>; resolves true when confirmed. */
export function confirmAction(title, text, action) {
  const dialog = document.getElementById('confirm');
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-text').textContent = text;
  dialog.querySelector('#confirm-yes').textContent = action;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    dialog.querySelector('#confirm-no').focus();
  });
}

/** A status badge: the text carries the meaning, the colour only repeats it. */
export function badge(status) {
  return h('span', { class: `badge s-${status}`, 'data-status': status }, status);
}

/** A progress bar (role=progressbar) that `setProgress` updates in place. */
export function progressBar(label) {
  const bar = h('div', {
    class: 'progress', role: 'progressbar', 'aria-label': label,
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
  }, h('div', { class: 'fill' }), h('span', { class: 'pct' }, '0 %'));
  return bar;
}

export function setProgress(bar, fraction, status) {
  const pct = Math.max(0, Math.min(100, Math.round((Number(fraction) || 0) * 100)));
  bar.setAttribute('aria-valuenow', String(pct));
  bar.setAttribute('aria-valuetext', `${pct} %${status ? `, ${status}` : ''}`);
  bar.dataset.status = status || '';
  bar.querySelector('.fill').style.width = `${pct}%`;
  bar.querySelector('.pct').textContent = `${pct} %`;
}

/** Parses the hash into path segments and query parameters. */
export function currentRoute() {
  const hash = location.hash.replace(/^#/, '') || '/jobs';
  const [path, query = ''] = hash.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

/** Changes the query of the current route without re-rendering the page. */
export function replaceQuery(params) {
  const { parts } = currentRoute();
  const query = params.toString();
  history.replaceState(null, '', `#/${parts.join('/')}${query ? `?${query}` : ''}`);
}
