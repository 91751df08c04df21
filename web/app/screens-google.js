// Google: the connected accounts with their status (a needs_reconnect account
// has a reconnect button), connecting another, and discovering and importing
// an account's YouTube channels.
import { html, useState } from './ui.js';
import { t, fmtDate } from './i18n.js';
import { get, post, del } from './api.js';
import { ErrorBox, Loading, useAction, useLoad, subscribers } from './components.js';
import { navigate } from './nav.js';

// The API answers the consent page's address; the browser goes there and
// Google sends it back to the callback, which lands on /google/connected.
async function connect() {
  const r = await get('/google/connect?format=json');
  location.assign(r.authorization_url);
}

function Discover({ account }) {
  const found = useLoad(() => get(`/google/accounts/${encodeURIComponent(account.id)}/channels`), [account.id]);
  const [chosen, setChosen] = useState(new Set());
  const act = useAction();
  const [done, setDone] = useState(null);
  const toggle = (id) => {
    const s = new Set(chosen);
    if (s.has(id)) s.delete(id); else s.add(id);
    setChosen(s);
  };
  const importChosen = () => act.run(async () => {
    const r = await post('/channels/import', { account_id: account.id, youtube_channel_ids: [...chosen] });
    setDone(r);
    setChosen(new Set());
    found.reload();
  });
  return html`<${Loading} state=${found}>${() => html`
    <fieldset class="discover">
      <legend>${t('google.channelsOf', { email: account.email || account.provider_account_id })}</legend>
      ${found.data.items.length === 0 ? html`<p class="muted">${t('google.noChannels')}</p>` : null}
      <ul class="plain">
        ${found.data.items.map((c) => html`<li>
          <label class="check">
            <input type="checkbox" disabled=${c.imported} checked=${c.imported || chosen.has(c.youtube_channel_id)}
              onChange=${() => toggle(c.youtube_channel_id)} />
            <span>${c.name}</span>
            <span class="muted">${' '}${c.custom_url || c.youtube_channel_id} · ${subscribers(c.subscriber_count)}</span>
            ${c.imported ? html`${' '}<a href=${'#/channels/' + c.channel_id}>${t('google.imported')}</a>` : null}
          </label>
        </li>`)}
      </ul>
      <${ErrorBox} error=${act.error} />
      ${done ? html`<p role="status" class="ok">${done.job_id ? t('google.importQueued') : t('google.importDone')}${' '}<a href="#/channels">${t('nav.channels')}</a></p>` : null}
      <button type="button" disabled=${act.busy || chosen.size === 0} onClick=${importChosen}>${t('google.import', { count: chosen.size })}</button>
    </fieldset>`}<//>`;
}

function AccountRow({ account, onChange }) {
  const [open, setOpen] = useState(false);
  const act = useAction();
  const reconnect = account.status === 'needs_reconnect';
  const disconnect = () => act.run(async () => {
    if (!confirm(t('google.confirmDisconnect'))) return;
    await del(`/google/accounts/${encodeURIComponent(account.id)}`);
    onChange();
  });
  return html`<li class="card">
    <div class="row">
      <strong>${account.email || account.provider_account_id}</strong>
      <span class=${'badge ' + (reconnect ? 'badge-failed' : 'badge-scripted')}>${t('google.status.' + account.status)}</span>
    </div>
    <p class="muted">${t('google.connectedAt', { date: fmtDate(account.created_at) })}</p>
    ${reconnect ? html`<p>${t('google.reconnectWhy')}</p>` : null}
    <${ErrorBox} error=${act.error} />
    <div class="actions">
      ${reconnect
    ? html`<button type="button" onClick=${() => act.run(connect)}>${t('google.reconnect')}</button>`
    : html`<button type="button" aria-expanded=${open} onClick=${() => setOpen(!open)}>${t('google.discover')}</button>`}
      <button type="button" class="secondary" onClick=${disconnect} disabled=${act.busy}>${t('google.disconnect')}</button>
    </div>
    ${open && !reconnect ? html`<${Discover} account=${account} />` : null}
  </li>`;
}

export function Google({ query }) {
  const accounts = useLoad(() => get('/google/accounts'), []);
  const act = useAction();
  return html`<section>
    <h1>${t('google.title')}</h1>
    ${query.get('connected') ? html`<p role="status" class="ok">${t('google.connected')}</p>` : null}
    <p>${t('google.intro')}</p>
    <${ErrorBox} error=${act.error} />
    <button type="button" onClick=${() => act.run(connect)} disabled=${act.busy}>${t('google.connect')}</button>
    <h2>${t('google.accounts')}</h2>
    <${Loading} state=${accounts}>${() => {
    const items = accounts.data.items || [];
    return items.length === 0 ? html`<p class="muted">${t('google.none')}</p>`
      : html`<ul class="plain cards">${items.map((a) => html`<${AccountRow} key=${a.id} account=${a} onChange=${accounts.reload} />`)}</ul>`;
  }}<//>
    <p><button type="button" class="link" onClick=${() => navigate('channels')}>${t('google.toChannels')}</button></p>
  </section>`;
}
