// A project's finished video and its way to YouTube, the two panels under
// the scene board: RenderPanel (options, Render, live progress from the
// events stream, the player with the video's subtitle track (decision 156)
// and the thumbnail, and why a video is out of
// date or failed) and PublishPanel (the video's title, description and tags
// kept on the project, privacy, a schedule, the two declarations, then the
// upload's progress and the video's link; once it is on YouTube, its
// numbers by day, VideoAnalytics of screens-analytics.js). Every string from
// the API is rendered as text.
import { html, useState, useEffect } from './ui.js';
import { t, fmtDate, fmtDecimal, fmtPercent } from './i18n.js';
import { get, post, patch, mediaUrl } from './api.js';
import { Field, ErrorBox, useAction } from './components.js';
import { VideoAnalytics } from './screens-analytics.js';

const RENDER_OPTIONS = { aspect: ['16:9', '9:16'], subtitles: ['soft', 'burn', 'none'], music: ['none', 'ambient'] };
// i18next reads ':' in a key as a namespace: the aspects have names of their own.
const RENDER_LABEL = { '16:9': 'landscape', '9:16': 'portrait' };
// A video was asked for before: the button renders it again.
const RENDERED_BEFORE = new Set(['rendered', 'stale', 'failed']);

// The video (decision 100): options, Render, progress from the events
// stream, and the player with its thumbnail once one was made. A stale video
// (the scenes changed since) and a failed render say why, and offer to
// render again; the player keeps the last good video meanwhile, as the API
// keeps serving it.
export function RenderPanel({ project, live, onChanged }) {
  const act = useAction();
  const [opts, setOpts] = useState(() => ({
    aspect: project.render_aspect || '16:9',
    subtitles: project.render_subtitles || 'soft',
    music: project.render_music || 'none',
  }));
  const status = live && live.render_status !== undefined ? live.render_status : project.render_status;
  const progress = live && live.render_progress !== undefined ? live.render_progress : project.render_progress;
  const rendering = status === 'rendering';
  const render = () => act.run(async () => {
    await post(`/projects/${encodeURIComponent(project.id)}/render`, opts);
    onChanged();
  });
  const video = project.video;
  const portrait = project.render_aspect === '9:16';
  return html`<section class="card render" aria-labelledby="render-title">
    <h2 id="render-title">${t('render.title')}</h2>
    <div class="row">${Object.keys(RENDER_OPTIONS).map((k) => html`<${Field} kind="select" key=${k} label=${t('render.' + k)}
      value=${opts[k]} disabled=${rendering || act.busy} onChange=${(e) => setOpts({ ...opts, [k]: e.target.value })}>
      ${RENDER_OPTIONS[k].map((v) => html`<option value=${v}>${t('render.' + k + 'Value.' + (RENDER_LABEL[v] || v))}</option>`)}<//>`)}</div>
    <${ErrorBox} error=${act.error} />
    <div class="actions">
      <button type="button" disabled=${!project.media_ready || rendering || act.busy} onClick=${render}>
        ${t(RENDERED_BEFORE.has(status) ? 'render.again' : 'render.render')}</button>
    </div>
    ${!project.media_ready ? html`<p class="muted">${t('render.notReady')}</p>` : null}
    <p aria-live="polite" class="render-state">${t('render.state')}: <span class=${'badge badge-render-' + (status || 'none')}>${t('render.status.' + (status || 'none'))}</span></p>
    ${rendering ? html`<p><progress max="1000" value=${progress || 0} aria-label=${t('render.progress')}></progress>
      ${' '}${t('render.percent', { p: fmtDecimal((progress || 0) / 10, 1) })}</p>` : null}
    ${status === 'stale' ? html`<p class="warning" role="status">${t('render.staleWhy')}</p>` : null}
    ${status === 'failed' ? html`<div class="error" role="alert"><strong>${t('render.failedWhy')}</strong>
      ${project.render_error ? html`<span>${' '}${project.render_error}</span>` : null}</div>` : null}
    ${video ? html`<div class="video">
      <video key=${project.rendered_at} controls preload="metadata" poster=${mediaUrl(project, video.thumbnail)}
        aria-label=${t('render.player')} class=${portrait ? 'portrait' : 'landscape'}>
        <source src=${mediaUrl(project, video.mp4)} type="video/mp4" />
        ${video.vtt ? html`<track kind="subtitles" src=${mediaUrl(project, video.vtt)} srclang=${project.language || document.documentElement.lang}
          label=${t('projects.subtitles')} default=${(project.render_subtitles || 'soft') === 'soft'} />` : null}
      </video>
      <p class="muted">${project.render_duration_ms !== null ? t('projects.duration', { s: fmtDecimal(project.render_duration_ms / 1000, 1) }) : ''}
        ${project.rendered_at ? html`${' · '}${t('render.renderedAt', { date: fmtDate(project.rendered_at) })}` : null}
        ${' · '}<a href=${mediaUrl(project, video.mp4)} download>${t('render.download')}</a>
        ${video.vtt ? html`${' · '}<a href=${mediaUrl(project, video.vtt)} download>${t('projects.vtt')}</a>` : null}</p>
      <figure class="thumbnail">
        <img key=${project.rendered_at} src=${mediaUrl(project, video.thumbnail)} alt=${t('render.thumbnailAlt', { title: project.title || project.topic })}
          width=${portrait ? 180 : 320} height=${portrait ? 320 : 180} loading="lazy" />
        <figcaption>${t('render.thumbnail')} · <a href=${mediaUrl(project, video.thumbnail)} download>${t('render.thumbnailDownload')}</a></figcaption>
      </figure>
    </div>` : null}
  </section>`;
}

// Publishing (decisions 115 to 117). The upload runs as a job that sends no
// events, so the panel asks for the publication again while it is queued or
// uploading, and now and then while it waits for YouTube's quota.
const PRIVACY = ['private', 'unlisted', 'public'];
const PUB_BUSY = new Set(['queued', 'uploading']);
const POLL_MS = 1500;
const WAIT_POLL_MS = 60000;
const POLL_MAX = 400;

// What a refused publish request lacks, by the problem's type or the field
// it names; null for anything else (shown as the API said it).
function publishProblem(error) {
  const p = (error && error.problem) || {};
  const type = p.type || '';
  if (type.endsWith('/publishing-disabled')) return 'disabled';
  if (type.endsWith('/google-scope-missing')) return 'scope';
  if (type.endsWith('/google-reconnect-required')) return 'reconnect';
  if (p.field === 'render_status' || p.field === 'video') return 'notRendered';
  if (p.field === 'channel_id') return 'channel';
  return null;
}

function PublishError({ error }) {
  const key = publishProblem(error);
  if (!key) return html`<${ErrorBox} error=${error} />`;
  return html`<div class="error" role="alert" data-problem=${key}>
    <strong>${t('publish.problem.' + key)}</strong>
    <span>${' '}${error.message}</span>
    ${key === 'scope' || key === 'reconnect' ? html`<span>${' '}<a href="#/google">${t('publish.toGoogle')}</a></span>` : null}
  </div>`;
}

// The video's page on YouTube, made from its id (never an address taken as
// it came).
const watchUrl = (id) => 'https://www.youtube.com/watch?v=' + encodeURIComponent(id);

// Tags as the person types them: comma-separated, blanks dropped.
const parseTags = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function Publication({ pub }) {
  const pct = pub.bytes_total > 0 ? pub.bytes_sent / pub.bytes_total : 0;
  const limit = pub.status === 'failed' && (pub.error || '').includes('uploadLimitExceeded');
  return html`<div class="publication">
    <p aria-live="polite">${t('publish.state')}: <span class=${'badge badge-pub-' + pub.status}>${t('publish.status.' + pub.status)}</span></p>
    ${PUB_BUSY.has(pub.status) ? html`<p><progress max=${pub.bytes_total || 1} value=${pub.bytes_sent || 0} aria-label=${t('publish.progress')}></progress>
      ${' '}${fmtPercent(pct)}</p>` : null}
    ${pub.status === 'waiting' ? html`<div class="warning" role="status"><strong>${t('publish.quotaWait')}</strong>
      ${pub.error ? html`<span>${' '}${pub.error}</span>` : null}</div>` : null}
    ${pub.status === 'failed' ? html`<div class="error" role="alert"><strong>${t(limit ? 'publish.uploadLimit' : 'publish.failed')}</strong>
      ${pub.error ? html`<span>${' '}${pub.error}</span>` : null}</div>` : null}
    ${pub.youtube_video_id ? html`<p class="published">${t('publish.onYouTube')}: <a href=${watchUrl(pub.youtube_video_id)} target="_blank" rel="noopener noreferrer">${watchUrl(pub.youtube_video_id)}</a>
      ${' '}<span class="muted">(${t('publish.videoId')}: <code>${pub.youtube_video_id}</code>)</span></p>` : null}
    ${pub.thumbnail_status === 'failed' ? html`<p class="muted">${t('publish.thumbnailFailed')}</p>` : null}
    <dl class="facts">
      <div><dt>${t('publish.videoTitle')}</dt><dd>${pub.title}</dd></div>
      <div><dt>${t('publish.privacy')}</dt><dd>${t('publish.privacyValue.' + pub.privacy_status)}</dd></div>
      ${pub.publish_at ? html`<div><dt>${t('publish.publishAt')}</dt><dd>${fmtDate(pub.publish_at)}</dd></div>` : null}
      <div><dt>${t('publish.madeForKids')}</dt><dd>${t(pub.made_for_kids ? 'publish.kidsYes' : 'publish.kidsNo')}</dd></div>
      <div><dt>${t('publish.synthetic')}</dt><dd>${t(pub.contains_synthetic_media ? 'common.yes' : 'common.no')}</dd></div>
    </dl>
  </div>`;
}

// The form: title, description and tags start as the project's and are kept
// on it (PATCH) when changed; privacy, an optional schedule (which makes the
// upload private: YouTube's rule), made for kids (a choice with no default)
// and the AI disclosure (on by default). The panel holds what was typed, so
// a failed upload's form comes back as it was sent.
const formFrom = (project) => ({
  title: project.title || project.topic || '',
  description: project.description || '',
  tags: (project.tags || []).join(', '),
  privacy: 'private',
  publishAt: '',
  kids: null,
  synthetic: true,
});

function PublishForm({ project, f, setF, again, onPublished }) {
  const act = useAction();
  // A refusal for the video's state says nothing once that state changed.
  useEffect(() => act.setError(null), [project.render_status]);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const base = `/projects/${encodeURIComponent(project.id)}`;
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      if (f.kids === null) throw new Error(t('publish.kidsRequired'));
      // YouTube refuses these after the upload began; the API refuses them
      // before, and the page before asking.
      if (/[<>]/.test(f.title + f.description)) throw new Error(t('publish.noAngles'));
      const tags = parseTags(f.tags);
      const change = {};
      if (f.title !== (project.title || project.topic || '')) change.title = f.title;
      if (f.description !== (project.description || '')) change.description = f.description || null;
      if (tags.join('\n') !== (project.tags || []).join('\n')) change.tags = tags;
      if (Object.keys(change).length) await patch(base, change);
      const body = {
        privacy_status: f.publishAt ? 'private' : f.privacy,
        made_for_kids: f.kids,
        contains_synthetic_media: f.synthetic,
        title: f.title,
        description: f.description,
        tags,
      };
      if (f.publishAt) body.publish_at = new Date(f.publishAt).toISOString();
      onPublished(await post(base + '/publish', body), Object.keys(change).length > 0);
    });
  };
  const scheduled = f.publishAt !== '';
  return html`<form onSubmit=${submit} aria-labelledby="publish-title">
    <${Field} label=${t('publish.videoTitle')} required maxlength="100" value=${f.title} onInput=${set('title')} hint=${t('publish.titleHint')} />
    <${Field} kind="textarea" rows="4" label=${t('publish.description')} maxlength="5000" value=${f.description} onInput=${set('description')}
      hint=${/[<>]/.test(f.description) ? t('publish.noAngles') : null} />
    <${Field} label=${t('publish.tags')} maxlength="600" value=${f.tags} onInput=${set('tags')} hint=${t('publish.tagsHint')} />
    <div class="grid3">
      <${Field} kind="select" label=${t('publish.privacy')} value=${scheduled ? 'private' : f.privacy} disabled=${scheduled}
        onChange=${set('privacy')} hint=${scheduled ? t('publish.scheduledPrivate') : null}>
        ${PRIVACY.map((v) => html`<option value=${v}>${t('publish.privacyValue.' + v)}</option>`)}<//>
      <${Field} label=${t('publish.publishAt')} type="datetime-local" value=${f.publishAt} onInput=${set('publishAt')} hint=${t('publish.publishAtHint')} />
    </div>
    <fieldset>
      <legend>${t('publish.madeForKids')}</legend>
      <p class="hint" id="kids-hint">${t('publish.kidsHint')}</p>
      <label class="check"><input type="radio" name="made_for_kids" value="yes" required aria-describedby="kids-hint"
        checked=${f.kids === true} onChange=${() => setF({ ...f, kids: true })} /> ${t('publish.kidsYes')}</label>
      <label class="check"><input type="radio" name="made_for_kids" value="no" required aria-describedby="kids-hint"
        checked=${f.kids === false} onChange=${() => setF({ ...f, kids: false })} /> ${t('publish.kidsNo')}</label>
    </fieldset>
    <div class="field">
      <label class="check"><input type="checkbox" checked=${f.synthetic} aria-describedby="synthetic-hint"
        onChange=${(e) => setF({ ...f, synthetic: e.target.checked })} /> ${t('publish.synthetic')}</label>
      <p class="hint" id="synthetic-hint">${t('publish.syntheticHint')}</p>
    </div>
    ${project.render_status !== 'rendered' ? html`<p class="muted">${t('publish.needsRender')}</p>` : null}
    <${PublishError} error=${act.error} />
    <div class="actions"><button type="submit" disabled=${act.busy}>${t(again ? 'publish.publishAgain' : 'publish.publish')}</button></div>
  </form>`;
}

export function PublishPanel({ project, onChanged }) {
  // undefined: loading; null: never asked for.
  const [pub, setPub] = useState(undefined);
  const [error, setError] = useState(null);
  const [polls, setPolls] = useState(0);
  const [form, setForm] = useState(() => formFrom(project));
  const load = () => get(`/projects/${encodeURIComponent(project.id)}/publish`).then(
    (p) => { setError(null); setPub(p); },
    (e) => { if (e.status === 404) setPub(null); else setError(e); });
  useEffect(() => { load(); }, [project.id]);
  useEffect(() => {
    if (!pub || !(PUB_BUSY.has(pub.status) || pub.status === 'waiting') || polls >= POLL_MAX) return undefined;
    const timer = setTimeout(() => { setPolls(polls + 1); load(); }, pub.status === 'waiting' ? WAIT_POLL_MS : POLL_MS);
    return () => clearTimeout(timer);
  }, [pub]);
  const published = (p, changed) => {
    setPolls(0);
    setPub(p);
    if (changed) onChanged();
  };
  return html`<section class="card publish" aria-labelledby="publish-title">
    <h2 id="publish-title">${t('publish.title')}</h2>
    <${ErrorBox} error=${error} />
    ${pub === undefined ? html`<p class="muted" role="status">${t('common.loading')}</p>` : null}
    ${pub ? html`<${Publication} pub=${pub} />` : null}
    ${pub && pub.status === 'published' ? html`<${VideoAnalytics} key=${pub.youtube_video_id} project=${project} />` : null}
    ${pub === null || (pub && pub.status === 'failed')
    ? html`<${PublishForm} project=${project} f=${form} setF=${setForm} again=${pub !== null} onPublished=${published} />` : null}
  </section>`;
}
