// Projects: the list, a new project (topic, channel, persona, length or scene
// count, language, instructions) and one project with live progress over the
// events stream and the scene board (edit narration, rewrite one scene,
// narrate: each scene's audio status, its player with subtitles, and narrate
// one scene again; each scene's image with its status, and draw one again),
// and the video's render and publish panels (screens-video.js).
import { html, useState, useEffect } from './ui.js';
import { t, fmtDate, fmtDecimal } from './i18n.js';
import { get, post, patch, listAll, watchProjects, mediaUrl } from './api.js';
import { RenderPanel, PublishPanel } from './screens-video.js';
import { Field, ErrorBox, Loading, StatusBadge, useAction, useLoad } from './components.js';
import { navigate } from './nav.js';

const BUSY = new Set(['queued', 'generating']);
// Audio or an image on its way: the media jobs send no events, so the board
// asks again.
const MEDIA_BUSY = new Set(['PENDING', 'PROCESSING']);
const POLL_MS = 1500;
const POLL_MAX = 400;

function Audio({ project, scene }) {
  const a = scene.audio;
  const lang = project.language || document.documentElement.lang;
  return html`<div class="audio">
    <audio controls preload="metadata" aria-label=${t('projects.audioOf', { n: scene.position + 1 })}>
      ${a.ogg ? html`<source src=${mediaUrl(project, a.ogg)} type="audio/ogg" />` : null}
      ${a.wav ? html`<source src=${mediaUrl(project, a.wav)} type="audio/wav" />` : null}
      ${a.vtt ? html`<track kind="subtitles" default src=${mediaUrl(project, a.vtt)} srclang=${lang} label=${t('projects.subtitles')} />` : null}
    </audio>
    <p class="muted">${scene.duration_ms !== null ? t('projects.duration', { s: fmtDecimal(scene.duration_ms / 1000, 1) }) : ''}
      ${a.vtt ? html`${' · '}<a href=${mediaUrl(project, a.vtt)} download>${t('projects.vtt')}</a>` : null}
      ${a.srt ? html`${' · '}<a href=${mediaUrl(project, a.srt)} download>${t('projects.srt')}</a>` : null}</p>
  </div>`;
}

// The words for a scene's image or narration status: PENDING is "not asked
// for yet" while its generation is 0 (never requested) and "queued" after
// (asked for, its job not started); an older answer without the generation
// keeps the plain PENDING words.
function MediaBadge({ kind, status, generation }) {
  const key = status !== 'PENDING' || generation === undefined ? status : generation > 0 ? 'QUEUED' : 'NOT_ASKED';
  return html`<span class=${'badge badge-' + status} data-state=${key}>${t(kind + '.' + key)}</span>`;
}

// A scene's image: the landscape PNG as a thumbnail (linked to itself, with
// the portrait one beside it), its status and error, and drawing it again.
// The alt text is the visual description the card is drawn from.
function SceneImage({ project, scene, locked, onDraw }) {
  const act = useAction();
  const img = scene.image;
  const n = scene.position + 1;
  const draw = () => act.run(async () => {
    await post(`/projects/${encodeURIComponent(project.id)}/scenes/${encodeURIComponent(scene.id)}/image`, {});
    onDraw();
  });
  const done = scene.image_status === 'COMPLETED' && img && img.landscape;
  return html`<div class="scene-image">
    ${done ? html`<a href=${mediaUrl(project, img.landscape)} key=${img.landscape}>
      <img class="still" src=${mediaUrl(project, img.landscape)} width="320" height="180" loading="lazy"
        alt=${scene.visual_description || scene.narration || t('projects.imageOf', { n })} /></a>` : null}
    <p class="image-status">${t('projects.image')}: <${MediaBadge} kind="image" status=${scene.image_status} generation=${scene.image_generation} />
      ${scene.image_status === 'FAILED' && scene.image_error ? html`<span class="error">${' '}${scene.image_error}</span>` : null}
      ${done && img.portrait ? html`${' · '}<a href=${mediaUrl(project, img.portrait)}>${t('projects.portrait')}</a>` : null}</p>
    <${ErrorBox} error=${act.error} />
    <button type="button" class="secondary" disabled=${locked || act.busy || scene.image_status === 'PROCESSING'}
      aria-label=${t('projects.drawSceneOf', { n })} onClick=${draw}>${t('projects.drawScene')}</button>
  </div>`;
}

export function Projects() {
  const state = useLoad(() => listAll('/projects', 200), []);
  useEffect(() => watchProjects((ev) => {
    if (state.data) state.setData(state.data.map((p) => (p.id === ev.id ? { ...p, status: ev.status, error: ev.error } : p)));
  }), [state.data]);
  return html`<section>
    <h1>${t('projects.title')}</h1>
    <p><a class="button" href="#/projects/new">${t('projects.new')}</a></p>
    <${Loading} state=${state}>${() => (state.data.length === 0 ? html`<p class="muted">${t('projects.none')}</p>`
    : html`<ul class="plain cards">${state.data.map((p) => html`<li class="card" key=${p.id}>
        <div class="row"><a href=${'#/projects/' + p.id}><strong>${p.title || p.topic}</strong></a><${StatusBadge} status=${p.status} /></div>
        <p class="muted">${fmtDate(p.created_at)}</p></li>`)}</ul>`)}<//>
  </section>`;
}

export function NewProject({ query }) {
  const opts = useLoad(async () => {
    const [channels, personas] = await Promise.all([listAll('/channels'), listAll('/personas')]);
    return { channels, personas: personas.filter((p) => !p.locked) };
  }, []);
  const [f, setF] = useState({ topic: '', channel_id: query.get('channel') || '', persona_id: '', lengthBy: 'scenes', target_scenes: 6, target_seconds: 60, language: '', instructions: '' });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const act = useAction();
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { topic: f.topic };
      if (f.channel_id) body.channel_id = f.channel_id;
      if (f.persona_id) body.persona_id = f.persona_id;
      if (f.lengthBy === 'scenes') body.target_scenes = Number(f.target_scenes);
      else body.target_seconds = Number(f.target_seconds);
      if (f.language.trim()) body.language = f.language.trim();
      if (f.instructions.trim()) body.instructions = f.instructions.trim();
      const p = await post('/projects', body, { 'Idempotency-Key': crypto.randomUUID() });
      navigate('projects/' + p.id);
    });
  };
  return html`<section>
    <p><a href="#/projects">← ${t('projects.title')}</a></p>
    <h1>${t('projects.new')}</h1>
    <${Loading} state=${opts}>${() => html`<form onSubmit=${submit}>
      <${Field} label=${t('projects.topic')} required maxlength="500" value=${f.topic} onInput=${set('topic')} hint=${t('projects.topicHint')} />
      <div class="grid3">
        <${Field} kind="select" label=${t('projects.channel')} value=${f.channel_id} onChange=${set('channel_id')}>
          <option value="">${t('projects.noChannel')}</option>
          ${opts.data.channels.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        <//>
        <${Field} kind="select" label=${t('projects.persona')} value=${f.persona_id} onChange=${set('persona_id')} hint=${t('projects.personaHint')}>
          <option value="">${t('projects.channelPersona')}</option>
          ${opts.data.personas.map((p) => html`<option value=${p.id}>${p.name} (${p.language})</option>`)}
        <//>
        <${Field} label=${t('projects.language')} maxlength="35" placeholder="pt-BR" value=${f.language} onInput=${set('language')} hint=${t('projects.languageHint')} />
      </div>
      <fieldset class="grid3">
        <legend>${t('projects.length')}</legend>
        <label class="check"><input type="radio" name="lengthBy" value="scenes" checked=${f.lengthBy === 'scenes'} onChange=${set('lengthBy')} /> ${t('projects.byScenes')}</label>
        <label class="check"><input type="radio" name="lengthBy" value="seconds" checked=${f.lengthBy === 'seconds'} onChange=${set('lengthBy')} /> ${t('projects.bySeconds')}</label>
        ${f.lengthBy === 'scenes'
    ? html`<${Field} label=${t('projects.scenes')} type="number" min="1" max="30" value=${f.target_scenes} onInput=${set('target_scenes')} />`
    : html`<${Field} label=${t('projects.seconds')} type="number" min="15" max="1800" value=${f.target_seconds} onInput=${set('target_seconds')} />`}
      </fieldset>
      <${Field} kind="textarea" rows="3" label=${t('projects.instructions')} maxlength="2000" value=${f.instructions} onInput=${set('instructions')} />
      <${ErrorBox} error=${act.error} />
      <button type="submit" disabled=${act.busy}>${t('projects.create')}</button>
    </form>`}<//>
  </section>`;
}

function Scene({ project, scene, locked, onChanged, onNarrate, onDraw }) {
  const [text, setText] = useState(null);
  const act = useAction();
  const base = `/projects/${encodeURIComponent(project.id)}/scenes/${encodeURIComponent(scene.id)}`;
  const save = () => act.run(async () => { await patch(base, { narration: text }); setText(null); onChanged(); });
  const regenerate = () => act.run(async () => { await post(base + '/regenerate', {}); onChanged(); });
  const narrate = () => act.run(async () => { await post(base + '/audio', {}); onNarrate(); });
  const audioBusy = scene.audio_status === 'PROCESSING';
  return html`<li class="card scene">
    <h3>${t('projects.scene', { n: scene.position + 1 })}</h3>
    <${SceneImage} project=${project} scene=${scene} locked=${locked} onDraw=${onDraw} />
    <p class="visual"><span class="muted">${t('projects.visual')}: </span>${scene.visual_description}</p>
    <${Field} kind="textarea" rows="4" label=${t('projects.narration', { n: scene.position + 1 })} value=${text ?? scene.narration}
      disabled=${locked} onInput=${(e) => setText(e.target.value)} />
    <${ErrorBox} error=${act.error} />
    <div class="actions">
      <button type="button" disabled=${locked || act.busy || text === null || text === scene.narration} onClick=${save}>${t('projects.saveNarration')}</button>
      <button type="button" class="secondary" disabled=${locked || act.busy} onClick=${regenerate}>${t('projects.regenerateScene')}</button>
      <button type="button" class="secondary" disabled=${locked || act.busy || audioBusy || !scene.narration} onClick=${narrate}>${t('projects.narrateScene')}</button>
    </div>
    <p class="audio-status">${t('projects.audio')}: <${MediaBadge} kind="audio" status=${scene.audio_status} generation=${scene.audio_generation} />
      ${scene.audio_status === 'FAILED' && scene.audio_error ? html`<span class="error">${' '}${scene.audio_error}</span>` : null}</p>
    ${scene.audio_status === 'COMPLETED' && scene.audio ? html`<${Audio} key=${scene.audio.ogg || scene.audio.wav} project=${project} scene=${scene} />` : null}
  </li>`;
}

export function ProjectDetail({ id }) {
  const state = useLoad(() => get(`/projects/${encodeURIComponent(id)}`), [id]);
  const [live, setLive] = useState(null);
  useEffect(() => watchProjects((ev) => {
    if (ev.id !== id) return;
    setLive(ev);
    // A finished step brings new scenes: read the project again (a render's
    // progress alone does not).
    if (!BUSY.has(ev.status) && ev.render_status !== 'rendering') state.reload();
  }), [id]);
  // Fresh data from the server supersedes what the stream said before it.
  useEffect(() => setLive(null), [state.data]);
  const act = useAction();
  // Narration or images asked for (or already on their way): ask again until
  // no scene's audio or image is pending or processing.
  const [polls, setPolls] = useState(0);
  const [watching, setWatching] = useState({ audio: false, image: false });
  const scenes = (state.data && state.data.scenes) || [];
  const busy = (kind) => scenes.some((s) => s[kind + '_status'] === 'PROCESSING' || (watching[kind] && MEDIA_BUSY.has(s[kind + '_status'])));
  const audioPending = busy('audio');
  const mediaPending = audioPending || busy('image');
  useEffect(() => {
    if (!mediaPending || polls >= POLL_MAX) return undefined;
    const timer = setTimeout(() => { setPolls(polls + 1); state.reload(); }, POLL_MS);
    return () => clearTimeout(timer);
  }, [state.data, mediaPending]);
  const watch = (kinds) => { setPolls(0); setWatching({ ...watching, ...kinds }); state.reload(); };
  const startWatching = () => watch({ audio: true });
  const startDrawing = () => watch({ image: true });
  return html`<${Loading} state=${state}>${() => {
    const p = state.data;
    const status = live ? live.status : p.status;
    const error = live ? live.error : p.error;
    const locked = BUSY.has(status);
    const regenerateAll = () => act.run(async () => { await post(`/projects/${encodeURIComponent(id)}/generate`, {}); state.reload(); });
    const narrateAll = () => act.run(async () => { await post(`/projects/${encodeURIComponent(id)}/media`, {}); watch({ audio: true, image: true }); });
    return html`<section>
      <p><a href="#/projects">← ${t('projects.title')}</a></p>
      <h1>${p.title || p.topic}</h1>
      <p aria-live="polite" class="progress">${t('projects.status')}: <${StatusBadge} status=${status} />
        ${locked ? html`<span class="muted">${' '}${t('projects.working')}</span>` : null}</p>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <p class="muted">${t('projects.topic')}: ${p.topic}${p.language ? ' · ' + p.language : ''} · ${fmtDate(p.created_at)}</p>
      ${p.description ? html`<p>${p.description}</p>` : null}
      ${p.tags && p.tags.length ? html`<ul class="tags">${p.tags.map((tag) => html`<li>${tag}</li>`)}</ul>` : null}
      <${ErrorBox} error=${act.error} />
      <div class="actions">
        <button type="button" class="secondary" disabled=${locked || act.busy} onClick=${regenerateAll}>${t('projects.regenerateAll')}</button>
        ${(p.scenes || []).length ? html`<button type="button" disabled=${locked || act.busy} onClick=${narrateAll}>${t('projects.narrate')}</button>` : null}
      </div>
      ${mediaPending ? html`<p class="muted" role="status">${audioPending ? t('projects.narrating') : t('projects.drawing')}</p>` : null}
      <h2>${t('projects.scenes')}</h2>
      ${(p.scenes || []).length === 0 ? html`<p class="muted">${locked ? t('projects.writing') : t('projects.noScenes')}</p>`
    : html`<ol class="plain board">${p.scenes.map((s) => html`<${Scene} key=${s.id + s.updated_at} project=${p} scene=${s} locked=${locked} onChanged=${state.reload} onNarrate=${startWatching} onDraw=${startDrawing} />`)}</ol>`}
      ${(p.scenes || []).length ? html`<${RenderPanel} key=${'render-' + p.id} project=${p} live=${live} onChanged=${state.reload} />
        <${PublishPanel} key=${'publish-' + p.id} project=${p} onChanged=${state.reload} />` : null}
    </section>`;
  }}<//>`;
}
