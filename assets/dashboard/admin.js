// The admin page (#/admin): users with their use and quotas, everyone's tokens (revocable), and
// the audit log. Non-admins see their own tokens only. Everything is rendered as text.

import { api } from './api.js';
import { h, fill, banner, announce } from './dom.js';

function table(caption, head, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: String(head.length) }, 'none'))));
}

const show = (v) => (v === null || v === undefined ? '—' : String(v));

export async function renderAdmin(main, { signal }) {
  fill(main, h('h1', {}, 'Users and tokens'), h('p', { class: 'muted' }, 'Loading…'));
  let me;
  try {
    me = await api('/v1/users/me', { signal });
  } catch (err) {
    if (!signal.aborted) banner(`Could not load your account: ${err.message}`);
    return;
  }
  const sections = [h('h1', {}, 'Users and tokens'),
    h('p', {}, `Signed in as ${me.name}${me.admin ? ' (admin)' : ''}: ${me.running} running, ${me.queued} queued.`)];
  if (me.admin) {
    try {
      const users = await api('/v1/users', { signal });
      sections.push(table('Users', ['name', 'admin', 'running', 'queued', 'slot seconds', 'max running', 'max queued', 'max dataset bytes'],
        users.map((u) => h('tr', {}, [u.name, u.admin ? 'yes' : 'no', u.running, u.queued, u.slot_seconds.toFixed(1),
          show(u.quotas.max_running), show(u.quotas.max_queued), show(u.quotas.max_dataset_bytes)].map((c) => h('td', {}, String(c)))))));
    } catch (err) {
      if (!signal.aborted) banner(`Could not load the users: ${err.message}`);
    }
  }
  const tokens = await api('/v1/tokens', { signal }).catch(() => []);
  sections.push(table(me.admin ? 'Tokens of all users' : 'Your tokens', ['id', 'user', 'name', 'expires', 'last used', 'state', ''],
    tokens.map((t) => h('tr', {},
      [t.id, t.user, show(t.name), show(t.expires_at), show(t.last_used_at), t.revoked ? 'revoked' : 'live'].map((c) => h('td', {}, c)),
      h('td', {}, t.revoked ? '' : h('button', {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          try {
            await api(`/v1/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
            announce(`Token ${t.id} revoked`);
            renderAdmin(main, { signal });
          } catch (err) { banner(`Could not revoke ${t.id}: ${err.message}`); }
        },
      }, 'Revoke'))))));
  if (me.admin) {
    const audit = await api('/v1/audit?limit=100', { signal }).catch(() => []);
    sections.push(table('Audit log (newest first)', ['when', 'who', 'action', 'target', 'from'],
      audit.map((r) => h('tr', {}, [r.at, r.actor, r.action, show(r.target), show(r.remote)].map((c) => h('td', {}, c))))));
  }
  if (!signal.aborted) fill(main, ...sections);
}
