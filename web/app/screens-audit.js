// The Activity screen: the audit trail (decisions 148-150, 155). The
// signed-in user's own events from GET /audit, newest first, a page at a time
// ("Load more" follows next_cursor), narrowed by a group of actions and a
// range of days; administrators may switch to everyone's (GET /admin/audit,
// one user's with user_id). Each event is a sentence in the page's language
// built from its action and its detail's typed members, always as text.
import { html, useState } from './ui.js';
import { t, fmtDate } from './i18n.js';
import { get, listAll } from './api.js';
import { Field, ErrorBox, Loading, useAction, useLoad } from './components.js';

const PAGE = 50;

// The filter's groups: the action prefixes the API matches (decision 150).
export const AUDIT_GROUPS = ['auth.', 'apikey.', 'google.', 'persona.', 'channel.', 'plan.', 'admin.', 'token_key.'];

// A day chosen in a date input (the browser's calendar) as the RFC 3339
// instant its local midnight is; `next` gives the following midnight, so the
// range [from, to] is whole days and "until" stays exclusive as the API reads it.
function dayStart(ymd, next = false) {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Date(y, m - 1, d + (next ? 1 : 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The list's address for the filters and a cursor.
function auditPath(f, cursor) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (f.group) q.set('action', f.group);
  if (f.from) q.set('since', dayStart(f.from));
  if (f.to) q.set('until', dayStart(f.to, true));
  if (f.all && f.user) q.set('user_id', f.user);
  if (cursor) q.set('cursor', cursor);
  return (f.all ? '/admin/audit?' : '/audit?') + q.toString();
}

const str = (v) => (typeof v === 'string' ? v : '');

// The event as a sentence. Names of channels and personas come from the
// caller's own lists (the detail holds their ids); one not there is named
// generically, as is anything an event of an older shape lacks.
export function auditSentence(e, names) {
  const d = e.detail && typeof e.detail === 'object' ? e.detail : {};
  const persona = (id) => (id ? names.personas.get(id) || t('audit.somePersona') : null);
  const fields = (list) => (Array.isArray(list) ? list.map((c) => str(c && c.field)).filter(Boolean).join(', ') : '');
  switch (e.action) {
  case 'auth.login_failed':
    return t('audit.says.auth.login_failed.' + (['wrong_password', 'no_password', 'unknown_email'].includes(d.reason) ? d.reason : 'other'));
  case 'auth.logout':
    return t(d.everywhere ? 'audit.says.auth.logout_everywhere' : 'audit.says.auth.logout');
  case 'apikey.created':
    return t('audit.says.apikey.created', { name: str(d.name) });
  case 'apikey.revoked':
    return t(d.self ? 'audit.says.apikey.revoked_self' : 'audit.says.apikey.revoked');
  case 'google.connected':
    return t(d.reconnected ? 'audit.says.google.reconnected' : 'audit.says.google.connected', { email: str(d.email) });
  case 'google.disconnected':
    return t('audit.says.google.disconnected', { email: str(d.email) });
  case 'plan.changed':
    return t('audit.says.plan.changed', { from: str(d.from) || '—', to: str(d.to) || '—' });
  case 'persona.deleted':
    return t(d.archived ? 'audit.says.persona.archived' : 'audit.says.persona.deleted', { name: str(d.name) });
  case 'persona.restored':
    return t('audit.says.persona.restored', { name: str(d.name), from: d.from_version, to: d.new_version });
  case 'channel.persona_switched': {
    const channel = names.channels.get(e.object_id) || t('audit.someChannel');
    if (!d.to) return t('audit.says.channel.persona_removed', { channel });
    const key = d.source === 'optimizer' ? 'audit.says.channel.switched_by_optimizer' : 'audit.says.channel.switched';
    return t(key, { channel, persona: persona(d.to) });
  }
  case 'admin.user_created':
    return t('audit.says.admin.user_created', { role: str(d.role) || '—' });
  case 'admin.user_updated':
    return t('audit.says.admin.user_updated', { fields: fields(d.changes) || '—' });
  case 'admin.plan_created':
    return t('audit.says.admin.plan_created', { code: str(d.code) });
  case 'admin.plan_updated':
    return t('audit.says.admin.plan_updated', { code: str(d.code), fields: fields(d.changes) || '—' });
  case 'admin.job_requeued':
    return t('audit.says.admin.job_requeued', { kind: str(d.kind), count: Number(d.attempts) || 0 });
  case 'auth.signup': case 'auth.login': case 'token_key.rotated':
    return t('audit.says.' + e.action);
  default:
    return e.action; // an action this page does not know yet, as the API names it
  }
}

// Who acted, from the reader's side.
export function auditActor(e, me) {
  if (e.actor_kind === 'user') return e.actor_user_id === me.id ? t('audit.actor.you') : t('audit.actor.user');
  if (['api_key', 'admin', 'system', 'anonymous'].includes(e.actor_kind)) return t('audit.actor.' + e.actor_kind);
  return e.actor_kind;
}

function Filters({ initial, admin, users, onApply }) {
  const [f, setF] = useState(initial);
  const set = (k) => (ev) => setF({ ...f, [k]: ev.target.type === 'checkbox' ? ev.target.checked : ev.target.value });
  const submit = (ev) => { ev.preventDefault(); onApply(f); };
  return html`<form class="audit-filters" onSubmit=${submit}>
    <${Field} kind="select" label=${t('audit.group')} value=${f.group} onChange=${set('group')}>
      <option value="">${t('audit.groups.all')}</option>
      ${AUDIT_GROUPS.map((g) => html`<option value=${g}>${t('audit.groups.' + g.slice(0, -1))}</option>`)}
    <//>
    <${Field} label=${t('audit.from')} type="date" value=${f.from} onInput=${set('from')} />
    <${Field} label=${t('audit.to')} type="date" value=${f.to} min=${f.from || undefined} onInput=${set('to')} />
    ${admin ? html`<label class="check"><input type="checkbox" checked=${f.all} onChange=${set('all')} />${t('audit.allUsers')}</label>` : null}
    ${admin && f.all ? html`<${Field} kind="select" label=${t('audit.user')} value=${f.user} onChange=${set('user')}>
      <option value="">${t('audit.everyone')}</option>
      ${users.map((u) => html`<option value=${u.id}>${u.email}</option>`)}
    <//>` : null}
    <button type="submit">${t('audit.apply')}</button>
  </form>`;
}

export function Activity({ me }) {
  const admin = me.role === 'admin';
  const [filters, setFilters] = useState({ group: '', from: '', to: '', all: false, user: '' });
  // The names the sentences use: the reader's channels and personas, and
  // for an administrator every user's email.
  const names = useLoad(async () => {
    const [channels, personas, users] = await Promise.all([listAll('/channels'), listAll('/personas'),
      admin ? listAll('/admin/users') : Promise.resolve([])]);
    return {
      channels: new Map(channels.map((c) => [c.id, c.name])),
      personas: new Map(personas.map((p) => [p.id, p.name])),
      users,
      emails: new Map(users.map((u) => [u.id, u.email])),
    };
  }, [admin]);
  const events = useLoad(async () => {
    const page = await get(auditPath(filters));
    return { items: page.items, next: page.next_cursor };
  }, [filters]);
  const more = useAction();
  const loadMore = () => more.run(async () => {
    const page = await get(auditPath(filters, events.data.next));
    events.setData({ items: events.data.items.concat(page.items), next: page.next_cursor });
  });

  return html`<section class="activity">
    <h1>${t('audit.title')}</h1>
    <p class="hint">${t('audit.intro')}</p>
    <${Loading} state=${names}>${() => html`
      <${Filters} initial=${filters} admin=${admin} users=${names.data.users} onApply=${setFilters} />
      <${Loading} state=${events}>${() => (events.data.items.length === 0
    ? html`<p class="muted" role="status">${t('audit.none')}</p>`
    : html`<div class="scroll"><table class="audit">
        <caption class="sr-only">${filters.all ? t('audit.captionAll') : t('audit.caption')}</caption>
        <thead><tr>
          <th scope="col">${t('audit.when')}</th>
          ${filters.all ? html`<th scope="col">${t('audit.whose')}</th>` : null}
          <th scope="col">${t('audit.what')}</th>
          <th scope="col">${t('audit.who')}</th>
          <th scope="col">${t('audit.address')}</th>
        </tr></thead>
        <tbody>${events.data.items.map((e) => html`<tr key=${e.id} data-action=${e.action}>
          <td><time datetime=${e.occurred_at}>${fmtDate(e.occurred_at)}</time></td>
          ${filters.all ? html`<td>${e.subject_user_id ? names.data.emails.get(e.subject_user_id) || e.subject_user_id : t('audit.nobody')}</td>` : null}
          <td>${auditSentence(e, names.data)}</td>
          <td>${auditActor(e, me)}</td>
          <td>${e.client_ip || '—'}</td>
        </tr>`)}</tbody>
      </table></div>`)}<//>
      <${ErrorBox} error=${more.error} />
      ${events.data && events.data.next
    ? html`<p><button type="button" class="secondary" disabled=${more.busy} onClick=${loadMore}>${t('audit.more')}</button></p>` : null}`}<//>
  </section>`;
}
