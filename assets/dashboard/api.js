// The HTTP client: every request (downloads and event streams included) goes through `request`,
// which adds `Authorization: Bearer <token>` when a token is stored in this browser.

const TOKEN_KEY = 'fluxlab.token';

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  window.dispatchEvent(new Event('fluxlab:token'));
}

/** A failed request: `status` and the problem document (RFC 9457) when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
  /** `[{field, message}]` of a validation problem. */
  get errors() { return Array.isArray(this.problem.errors) ? this.problem.errors : []; }
}

function headers(extra = {}) {
  const out = { ...extra };
  const token = getToken();
  if (token) out.Authorization = `Bearer ${token}`;
  return out;
}

/** Raw fetch with the token; throws ApiError for non-2xx answers. */
export async function request(path, { method = 'GET', body, signal, accept } = {}) {
  const init = { method, signal, headers: headers(accept ? { Accept: accept } : {}) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    if (res.status === 401) window.dispatchEvent(new CustomEvent('fluxlab:unauthorized'));
    throw new ApiError(res.status, problem);
  }
  return res;
}

/** JSON request; resolves to the parsed body (null for 204). */
export async function api(path, options) {
  const res = await request(path, options);
  if (res.status === 204) return null;
  return res.json();
}

/** Downloads `path` as a file named `filename` (fetch + blob, so the token header is sent). */
export async function download(path, filename) {
  const res = await request(path);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Reads the Server-Sent Events of `path` with fetch (EventSource cannot send headers) and calls
 * `onEvent(name, data)` for each event, `data` parsed as JSON when it is JSON. Resolves when the
 * stream ends; rejects on network errors unless `signal` aborted it.
 */
export async function streamEvents(path, onEvent, signal) {
  const res = await request(path, { signal, accept: 'text/event-stream' });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        dispatch(block, onEvent);
      }
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  } finally {
    reader.releaseLock();
  }
}

function dispatch(block, onEvent) {
  let name = 'message';
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  const text = data.join('\n');
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* plain text */ }
  onEvent(name, parsed);
}

/**
 * Follows a job's events, reconnecting after dropped connections, until `done` or abort.
 * Returns a function that stops following.
 */
export function followJob(id, onEvent) {
  const controller = new AbortController();
  let finished = false;
  const wrapped = (name, data) => {
    if (name === 'done') finished = true;
    onEvent(name, data);
  };
  (async () => {
    let delay = 1000;
    while (!finished && !controller.signal.aborted) {
      try {
        await streamEvents(`/v1/jobs/${encodeURIComponent(id)}/events`, wrapped, controller.signal);
        delay = 1000;
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return;
      }
      if (finished || controller.signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  })();
  return () => controller.abort();
}
