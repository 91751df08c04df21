// Personas: the library (system and custom; a locked one names the plan it
// needs), the editor with the sampling settings explained, the version
// history with a side-by-side diff and restore, preset export/import, and
// the persona's usage (its owner's last 30 days of generations) with a link
// to its performance.
import { html, useState } from './ui.js';
import { t, fmtDate, fmtDecimal, fmtNumber, fmtPercent } from './i18n.js';
import { get, post, patch, listAll } from './api.js';
import { Field, ErrorBox, Loading, useAction, useLoad } from './components.js';
import { navigate } from './nav.js';

function PersonaCard({ p }) {
  return html`<li class="card">
    <div class="row">
      <a href=${'#/personas/' + p.id}><strong>${p.name}</strong></a>
      <span class="badge">${p.type === 'SYSTEM' ? t('personas.system') : t('personas.custom')}</span>
      <span class="badge">${p.language}</span>
      ${p.locked ? html`<span class="badge badge-locked">${t('personas.needsPlan', { plan: p.required_plan })}</span>` : null}
    </div>
    <p class="muted">${p.description}</p>
  </li>`;
}

function ImportPreset() {
  const [text, setText] = useState('');
  const act = useAction();
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      let preset;
      try { preset = JSON.parse(text); } catch { throw new Error(t('personas.presetNotJson')); }
      const p = await post('/personas/import', preset);
      navigate('personas/' + p.id);
    });
  };
  const onFile = async (e) => { const f = e.target.files[0]; if (f && f.size < 200000) setText(await f.text()); };
  return html`<details class="card"><summary>${t('personas.importTitle')}</summary>
    <form onSubmit=${submit}>
      <${Field} label=${t('personas.presetFile')} type="file" accept="application/json,.json" onChange=${onFile} />
      <${Field} kind="textarea" rows="6" label=${t('personas.presetText')} value=${text} onInput=${(e) => setText(e.target.value)} />
      <${ErrorBox} error=${act.error} />
      <button type="submit" disabled=${act.busy || !text.trim()}>${t('personas.import')}</button>
    </form></details>`;
}

export function Personas() {
  const state = useLoad(() => listAll('/personas'), []);
  return html`<section>
    <h1>${t('personas.title')}</h1>
    <p><a class="button" href="#/personas/new">${t('personas.new')}</a></p>
    <${ImportPreset} />
    <${Loading} state=${state}>${() => {
    const mine = state.data.filter((p) => p.type === 'CUSTOM');
    const system = state.data.filter((p) => p.type === 'SYSTEM');
    return html`
      <h2>${t('personas.yours')}</h2>
      ${mine.length === 0 ? html`<p class="muted">${t('personas.noneYours')}</p>`
    : html`<ul class="plain cards">${mine.map((p) => html`<${PersonaCard} key=${p.id} p=${p} />`)}</ul>`}
      <h2>${t('personas.systemTitle')}</h2>
      <ul class="plain cards">${system.map((p) => html`<${PersonaCard} key=${p.id} p=${p} />`)}</ul>`;
  }}<//>
  </section>`;
}

const EMPTY = { name: '', description: '', system_instruction: '', temperature: 0.7, top_p: 0.95, top_k: 40, language: 'en', visibility: 'PRIVATE' };
const EDITABLE = Object.keys(EMPTY);

function Diff({ id, from, to }) {
  const diff = useLoad(() => get(`/personas/${encodeURIComponent(id)}/diff?from=${from}&to=${to}`), [id, from, to]);
  const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
  return html`<${Loading} state=${diff}>${() => (diff.data.changes.length === 0
    ? html`<p class="muted">${t('personas.noChanges')}</p>`
    : html`<table class="diff">
      <caption>${t('personas.diffCaption', { from, to })}</caption>
      <thead><tr><th scope="col">${t('personas.field')}</th><th scope="col">v${from}</th><th scope="col">v${to}</th></tr></thead>
      <tbody>${diff.data.changes.map((c) => html`<tr>
        <th scope="row">${c.field}</th><td class="del"><pre>${show(c.from)}</pre></td><td class="ins"><pre>${show(c.to)}</pre></td>
      </tr>`)}</tbody></table>`)}<//>`;
}

function History({ persona, canEdit, onRestored }) {
  const hist = useLoad(() => listAll(`/personas/${encodeURIComponent(persona.id)}/history`), [persona.id, persona.version]);
  const [pair, setPair] = useState(null);
  const act = useAction();
  const restore = (v) => act.run(async () => {
    const p = await post(`/personas/${encodeURIComponent(persona.id)}/restore`, { version: v, change_reason: t('personas.restoredFrom', { version: v }) });
    onRestored(p);
  });
  return html`<section aria-labelledby="hist-h">
    <h2 id="hist-h">${t('personas.history')}</h2>
    <${ErrorBox} error=${act.error} />
    <${Loading} state=${hist}>${() => html`<ol class="plain history">${hist.data.map((h) => html`<li key=${h.version} class="card">
      <div class="row"><strong>v${h.version}</strong><time datetime=${h.created_at}>${fmtDate(h.created_at)}</time>
        <span class="muted">${h.change_reason || ''}</span></div>
      <div class="actions">
        ${h.version < persona.version ? html`<button type="button" class="secondary" onClick=${() => setPair([h.version, persona.version])}>${t('personas.compare', { version: persona.version })}</button>` : null}
        ${canEdit && h.version < persona.version ? html`<button type="button" onClick=${() => restore(h.version)} disabled=${act.busy}>${t('personas.restore')}</button>` : null}
      </div></li>`)}</ol>`}<//>
    ${pair ? html`<${Diff} id=${persona.id} from=${pair[0]} to=${pair[1]} />` : null}
  </section>`;
}

// GET …/usage answers a persona's owner (and admins, for system personas);
// anyone else sees only the link to its performance.
function Usage({ persona, me }) {
  const mine = persona.owner_id === me.id || (me.role === 'admin' && persona.type === 'SYSTEM');
  const usage = useLoad(() => (mine ? get(`/personas/${encodeURIComponent(persona.id)}/usage`) : Promise.resolve(null)), [persona.id, mine]);
  return html`<section aria-labelledby="usage-h">
    <h2 id="usage-h">${t('personas.usageTitle')}</h2>
    ${mine ? html`<${Loading} state=${usage}>${() => {
      const u = usage.data;
      return html`<dl class="stats">
        <div class="stat"><dt>${t('personas.attempts')}</dt><dd>${fmtNumber(u.attempts)}</dd></div>
        <div class="stat"><dt>${t('analytics.successRate')}</dt><dd>${fmtPercent(u.success_rate)}</dd></div>
        <div class="stat"><dt>p50 / p95</dt><dd>${u.duration_ms.p50 === null ? '—' : `${fmtNumber(u.duration_ms.p50)} / ${fmtNumber(u.duration_ms.p95)} ms`}</dd></div>
        <div class="stat"><dt>${t('personas.tokens')}</dt><dd>${fmtNumber(u.tokens_in)} / ${fmtNumber(u.tokens_out)}</dd></div>
      </dl>
      <p class="muted">${t('personas.usagePeriod', { since: fmtDate(u.since), until: fmtDate(u.until) })}</p>`;
    }}<//>` : null}
    <p><a href=${'#/analytics/personas/' + persona.id}>${t('personas.performanceLink')}</a></p>
  </section>`;
}

export function PersonaEditor({ id, me }) {
  const isNew = !id;
  const state = useLoad(() => (isNew ? Promise.resolve(null) : get(`/personas/${encodeURIComponent(id)}`)), [id]);
  const [form, setForm] = useState(null);
  const [reason, setReason] = useState('');
  const [saved, setSaved] = useState(false);
  const act = useAction();
  const exporting = useAction();
  return html`<${Loading} state=${state}>${() => {
    const p = state.data;
    const canEdit = isNew || (p.type === 'CUSTOM' && p.owner_id === me.id && !p.archived_at);
    const values = form || (p ? Object.fromEntries(EDITABLE.map((k) => [k, p[k] ?? EMPTY[k]])) : EMPTY);
    const set = (k, num) => (e) => { setSaved(false); setForm({ ...values, [k]: num ? Number(e.target.value) : e.target.value }); };
    const save = (e) => {
      e.preventDefault();
      act.run(async () => {
        if (isNew) {
          const created = await post('/personas', values);
          navigate('personas/' + created.id);
          return;
        }
        const body = {};
        for (const k of EDITABLE) if (values[k] !== p[k]) body[k] = values[k];
        if (reason.trim()) body.change_reason = reason.trim();
        const updated = await patch(`/personas/${encodeURIComponent(id)}`, body, { 'If-Match': `"${p.version}"` });
        state.setData(updated);
        setForm(null);
        setReason('');
        setSaved(true);
      });
    };
    const exportPreset = () => exporting.run(async () => {
      const preset = await get(`/personas/${encodeURIComponent(id)}/export`);
      const url = URL.createObjectURL(new Blob([JSON.stringify(preset, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = (p.name.replace(/[^\w-]+/g, '-') || 'persona') + '.json';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    });
    return html`<section>
      <p><a href="#/personas">← ${t('personas.title')}</a></p>
      <h1>${isNew ? t('personas.new') : p.name}</h1>
      ${p ? html`<p class="muted">${p.type === 'SYSTEM' ? t('personas.system') : t('personas.custom')} · v${p.version} · ${t('personas.updated', { date: fmtDate(p.updated_at) })}
        ${p.locked ? html` · <span class="badge badge-locked">${t('personas.needsPlan', { plan: p.required_plan })}</span>` : null}</p>` : null}
      ${!canEdit ? html`<p class="hint">${t('personas.readOnly')}</p>` : null}
      <form onSubmit=${save}>
        <fieldset disabled=${!canEdit}>
          <legend class="sr-only">${t('personas.editor')}</legend>
          <${Field} label=${t('personas.name')} required maxlength="100" value=${values.name} onInput=${set('name')} />
          <${Field} label=${t('personas.description')} maxlength="2000" value=${values.description} onInput=${set('description')} />
          <${Field} kind="textarea" rows="8" label=${t('personas.instruction')} hint=${t('personas.instructionHint')} required maxlength="20000"
            value=${values.system_instruction || ''} onInput=${set('system_instruction')} />
          <div class="grid3">
            <${Field} label=${t('personas.temperature')} type="number" min="0" max="2" step="0.05" value=${values.temperature}
              onInput=${set('temperature', true)} hint=${t('personas.temperatureHint')} />
            <${Field} label=${t('personas.topP')} type="number" min="0" max="1" step="0.01" value=${values.top_p}
              onInput=${set('top_p', true)} hint=${t('personas.topPHint')} />
            <${Field} label=${t('personas.topK')} type="number" min="1" step="1" value=${values.top_k}
              onInput=${set('top_k', true)} hint=${t('personas.topKHint')} />
          </div>
          <div class="grid3">
            <${Field} label=${t('personas.language')} maxlength="35" value=${values.language} onInput=${set('language')} hint=${t('personas.languageHint')} />
            <${Field} kind="select" label=${t('personas.visibility')} value=${values.visibility} onChange=${set('visibility')}>
              <option value="PRIVATE">${t('personas.private')}</option><option value="PUBLIC">${t('personas.public')}</option>
            <//>
            ${!isNew ? html`<${Field} label=${t('personas.changeReason')} maxlength="500" value=${reason} onInput=${(e) => setReason(e.target.value)} />` : null}
          </div>
          <${ErrorBox} error=${act.error} />
          ${saved ? html`<p role="status" class="ok">${t('personas.saved', { version: p.version })}</p>` : null}
          <button type="submit" disabled=${act.busy}>${isNew ? t('personas.create') : t('personas.save')}</button>
        </fieldset>
      </form>
      ${p ? html`<${ErrorBox} error=${exporting.error} />` : null}
      ${p ? html`<p><button type="button" class="secondary" disabled=${exporting.busy} onClick=${exportPreset}>${t('personas.export')}</button>
        <span class="muted">${' '}${t('personas.sampling', { temperature: fmtDecimal(p.temperature), top_p: fmtDecimal(p.top_p), top_k: p.top_k })}</span></p>` : null}
      ${p ? html`<${Usage} persona=${p} me=${me} />` : null}
      ${p ? html`<${History} persona=${p} canEdit=${canEdit} onRestored=${(np) => { state.setData(np); setForm(null); }} />` : null}
    </section>`;
  }}<//>`;
}
