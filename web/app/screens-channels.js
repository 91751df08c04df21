// Channels: the list, and one channel with its stats, its persona (which can
// be changed, with a reason), the timeline of who set which persona when
// (with the optimizer's evidence, and Revert on its latest switch), the
// optimizer's panel and the analytics chart (screens-analytics.js).
import { html, useState } from './ui.js';
import { t, fmtNumber, fmtDate } from './i18n.js';
import { get, patch, post, listAll } from './api.js';
import { Field, ErrorBox, Loading, useAction, useLoad, subscribers } from './components.js';
import { ChannelAnalytics, OptimizerPanel, AssignmentEvidence } from './screens-analytics.js';

// The hosts YouTube serves channel pictures from, as the page's
// Content-Security-Policy (img-src) allows them; another address is not shown.
const THUMB_HOSTS = new Set(['yt3.ggpht.com', 'yt3.googleusercontent.com', 'i.ytimg.com']);
function thumbOk(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && THUMB_HOSTS.has(u.hostname);
  } catch { return false; }
}

function personaName(personas, id) {
  if (!id) return t('channels.noPersona');
  const p = personas.find((x) => x.id === id);
  return p ? p.name : t('channels.unknownPersona');
}

export function Channels() {
  const state = useLoad(async () => {
    const [channels, personas] = await Promise.all([listAll('/channels'), listAll('/personas')]);
    return { channels, personas };
  }, []);
  return html`<section>
    <h1>${t('channels.title')}</h1>
    <p><a href="#/google">${t('channels.importMore')}</a></p>
    <${Loading} state=${state}>${() => (state.data.channels.length === 0
    ? html`<p class="muted">${t('channels.none')}</p>`
    : html`<ul class="plain cards">${state.data.channels.map((c) => html`<li class="card" key=${c.id}>
        <div class="row">
          ${c.thumbnail && thumbOk(c.thumbnail) ? html`<img class="thumb" src=${c.thumbnail} alt="" width="40" height="40" referrerpolicy="no-referrer" />` : null}
          <a href=${'#/channels/' + c.id}><strong>${c.name}</strong></a>
          ${c.account_status === 'needs_reconnect' ? html`<span class="badge badge-failed">${t('google.status.needs_reconnect')}</span>` : null}
        </div>
        <p class="muted">${subscribers(c.subscriber_count)} · ${t('channels.persona')}: ${personaName(state.data.personas, c.persona_id)}</p>
      </li>`)}</ul>`)}<//>
  </section>`;
}

function Stat({ label, value }) {
  return html`<div class="stat"><dt>${label}</dt><dd>${value}</dd></div>`;
}

export function ChannelDetail({ id }) {
  const state = useLoad(async () => {
    const [channel, personas, assignments] = await Promise.all([
      get(`/channels/${encodeURIComponent(id)}`), listAll('/personas'),
      listAll(`/channels/${encodeURIComponent(id)}/assignments`)]);
    return { channel, personas, assignments };
  }, [id]);
  const [personaId, setPersonaId] = useState(null);
  const [reason, setReason] = useState('');
  const act = useAction();
  const refresh = useAction();
  const revert = useAction();
  const [queued, setQueued] = useState(false);

  return html`<${Loading} state=${state}>${() => {
    const { channel: c, personas, assignments } = state.data;
    // Only the channel's latest assignment can be reverted.
    const latest = assignments.reduce((m, a) => (!m || a.created_at > m.created_at || (a.created_at === m.created_at && a.id > m.id) ? a : m), null);
    const undo = (a) => revert.run(async () => {
      await post(`/channels/${encodeURIComponent(id)}/assignments/${encodeURIComponent(a.id)}/revert`);
      state.reload();
    });
    const chosen = personaId ?? (c.persona_id || '');
    const save = (e) => {
      e.preventDefault();
      act.run(async () => {
        const body = { persona_id: chosen || null };
        if (reason.trim()) body.assignment_reason = reason.trim();
        await patch(`/channels/${encodeURIComponent(id)}`, body);
        setReason('');
        setPersonaId(null);
        state.reload();
      });
    };
    return html`<section>
      <p><a href="#/channels">← ${t('channels.title')}</a></p>
      <h1>${c.name}</h1>
      ${c.account_status === 'needs_reconnect' ? html`<p class="error" role="alert">${t('channels.needsReconnect')} <a href="#/google">${t('google.reconnect')}</a></p>` : null}
      <dl class="stats">
        <${Stat} label=${t('channels.subscribersLabel')} value=${fmtNumber(c.subscriber_count)} />
        <${Stat} label=${t('channels.views')} value=${fmtNumber(c.view_count)} />
        <${Stat} label=${t('channels.videos')} value=${fmtNumber(c.video_count)} />
        <${Stat} label=${t('channels.statsUpdated')} value=${fmtDate(c.stats_updated_at)} />
      </dl>
      ${c.account_id ? html`<p>
        <button type="button" class="secondary" disabled=${refresh.busy}
          onClick=${() => refresh.run(async () => { await post(`/channels/${encodeURIComponent(id)}/refresh-stats`); setQueued(true); })}>${t('channels.refresh')}</button>
        ${queued ? html`<span role="status" class="ok">${' '}${t('channels.refreshQueued')}</span>` : null}
        <${ErrorBox} error=${refresh.error} /></p>` : null}

      <h2>${t('channels.persona')}</h2>
      <p>${t('channels.current')}: <strong>${personaName(personas, c.persona_id)}</strong></p>
      <form onSubmit=${save} class="inline-form">
        <${Field} kind="select" label=${t('channels.changePersona')} value=${chosen}
          onChange=${(e) => setPersonaId(e.target.value)}>
          <option value="">${t('channels.noPersona')}</option>
          ${personas.map((p) => html`<option value=${p.id} disabled=${p.locked}>${p.name}${p.locked ? ` (${t('personas.needsPlan', { plan: p.required_plan })})` : ''}</option>`)}
        <//>
        <${Field} label=${t('channels.reason')} maxlength="500" value=${reason} onInput=${(e) => setReason(e.target.value)} />
        <${ErrorBox} error=${act.error} />
        <button type="submit" disabled=${act.busy || chosen === (c.persona_id || '')}>${t('channels.assign')}</button>
      </form>

      <h2>${t('channels.timeline')}</h2>
      ${assignments.length === 0 ? html`<p class="muted">${t('channels.noAssignments')}</p>` : html`
      <ol class="timeline">${assignments.map((a) => html`<li key=${a.id}>
        <time datetime=${a.created_at}>${fmtDate(a.created_at)}</time>
        <span>${' '}${personaName(personas, a.persona_id)}${a.persona_version ? ` (v${a.persona_version})` : ''}</span>
        <span class="muted">${' '}· ${t('channels.source.' + a.source)}${a.suggestion_id ? ' · ' + t('optimizer.accepted') : ''}${a.reason ? ' · ' + a.reason : ''}</span>
        ${a.source === 'optimizer' && a === latest ? html`${' '}<button type="button" class="secondary small" disabled=${revert.busy}
          onClick=${() => undo(a)}>${t('optimizer.revert')}</button>` : null}
        <${AssignmentEvidence} a=${a} personas=${personas} />
      </li>`)}</ol>`}
      <${ErrorBox} error=${revert.error} />

      <${OptimizerPanel} channel=${c} personas=${personas} onChanged=${state.reload} />
      <${ChannelAnalytics} channel=${c} />
    </section>`;
  }}<//>`;
}
