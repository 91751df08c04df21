// Analytics: the channel's chart with its Studio CSV import and backfill
// form, the channel's optimizer panel (both shown in ChannelDetail), the
// persona leaderboard (#/analytics) and one persona's performance
// (#/analytics/personas/<id>).
import { html, useState } from './ui.js';
import { t, fmtNumber, fmtDecimal, fmtDate, fmtDay, fmtPercent, fmtEstimate } from './i18n.js';
import { get, patch, post, upload } from './api.js';
import { Field, ErrorBox, Loading, useAction, useLoad } from './components.js';
import { LineChart } from './chart.js';

// The chartable columns of an analytics row (AnalyticsRow in openapi.json).
export const CHANNEL_METRICS = ['views', 'watch_time_minutes', 'avg_view_duration_seconds', 'avg_retention',
  'avg_ctr', 'impressions', 'likes', 'comments', 'shares', 'subscribers_gained', 'subscribers_lost'];
// What GET /analytics/leaderboard ranks by, and what performance reports.
export const PERSONA_METRICS = ['views_per_day', 'watch_minutes_per_view', 'average_view_percentage', 'ctr', 'subscribers_net'];
export const OBJECTIVES = ['watch_minutes_per_impression', 'views_per_day', 'average_view_percentage', 'subscribers_net'];
const MODES = ['off', 'suggest', 'auto'];
// The Studio export is at most 1 MiB (the API refuses more with 413).
const CSV_MAX = 1 << 20;

const enc = encodeURIComponent;
// Percentages in the page's language, not the browser's.
const pct = fmtPercent;
const shortId = (id) => id.slice(0, 8);

function personaLabel(personas, id) {
  if (!id) return t('channels.noPersona');
  const p = personas.find((x) => x.id === id);
  return p ? p.name : t('analytics.privatePersona', { id: shortId(id) });
}

function AnalyticsTable({ rows, metric }) {
  return html`<details class="data-table"><summary>${t('analytics.showTable')}</summary>
    <table><caption class="sr-only">${t('analytics.metric.' + metric)}</caption>
      <thead><tr><th scope="col">${t('analytics.date')}</th><th scope="col">${t('analytics.metric.' + metric)}</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr key=${r.date}><td><time datetime=${r.date}>${fmtDay(r.date)}</time></td><td>${fmtDecimal(r[metric])}</td></tr>`)}</tbody>
    </table></details>`;
}

// The query of an analytics read: the chosen from and to (the API's default
// range where empty) beside any other parameters.
function rangeQuery(range, params = {}) {
  const q = new URLSearchParams(params);
  if (range.from) q.set('from', range.from);
  if (range.to) q.set('to', range.to);
  return q;
}

// The metric to chart and the range's two dates, in the caller's grid.
function MetricAndRange({ metrics, metric, setMetric, range, setRange }) {
  return html`<${Field} kind="select" label=${t('analytics.metricLabel')} value=${metric} onChange=${(e) => setMetric(e.target.value)}>
      ${metrics.map((m) => html`<option value=${m}>${t('analytics.metric.' + m)}</option>`)}
    <//>
    <${Field} label=${t('analytics.from')} type="date" value=${range.from} onChange=${(e) => setRange({ ...range, from: e.target.value })} />
    <${Field} label=${t('analytics.to')} type="date" value=${range.to} onChange=${(e) => setRange({ ...range, to: e.target.value })} />`;
}

function ImportForm({ channelId, onImported }) {
  const [file, setFile] = useState(null);
  const [report, setReport] = useState(null);
  const act = useAction();
  const submit = (e) => {
    e.preventDefault();
    if (!file) return;
    setReport(null);
    act.run(async () => {
      if (file.size > CSV_MAX) throw new Error(t('analytics.csvTooLarge'));
      try {
        setReport(await upload(`/channels/${enc(channelId)}/analytics/import`, file, 'text/csv'));
        onImported();
      } catch (err) {
        // A 422 names the rows it refused: show them with the error.
        if (err.problem && Array.isArray(err.problem.rejected)) setReport({ imported: 0, unchanged: 0, rejected: err.problem.rejected, ignored_columns: [] });
        throw err;
      }
    });
  };
  return html`<form class="inline-form" onSubmit=${submit}>
    <${Field} label=${t('analytics.csvFile')} type="file" accept=".csv,text/csv" hint=${t('analytics.csvHint')}
      onChange=${(e) => setFile(e.target.files[0] || null)} />
    <button type="submit" disabled=${!file || act.busy}>${t('analytics.import')}</button>
    <${ErrorBox} error=${act.error} />
    ${report ? html`<div role="status" class="import-report">
      <p>${t('analytics.imported', { imported: report.imported, unchanged: report.unchanged })}</p>
      ${report.ignored_columns && report.ignored_columns.length ? html`<p class="muted">${t('analytics.ignored')}: ${report.ignored_columns.join(', ')}</p>` : null}
      ${report.rejected.length ? html`<table class="rejected"><caption>${t('analytics.rejected', { count: report.rejected.length })}</caption>
        <thead><tr><th scope="col">${t('analytics.line')}</th><th scope="col">${t('analytics.reason')}</th></tr></thead>
        <tbody>${report.rejected.map((r) => html`<tr key=${r.line}><td>${r.line}</td><td>${r.reason}</td></tr>`)}</tbody></table>` : null}
    </div>` : null}
  </form>`;
}

function BackfillForm({ channelId }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [done, setDone] = useState(null);
  const act = useAction();
  const submit = (e) => {
    e.preventDefault();
    setDone(null);
    act.run(async () => setDone(await post(`/channels/${enc(channelId)}/analytics/backfill`, { from, to })));
  };
  return html`<form class="inline-form" onSubmit=${submit}>
    <${Field} label=${t('analytics.from')} type="date" required value=${from} onInput=${(e) => setFrom(e.target.value)} />
    <${Field} label=${t('analytics.to')} type="date" required value=${to} onInput=${(e) => setTo(e.target.value)} />
    <button type="submit" class="secondary" disabled=${act.busy}>${t('analytics.backfill')}</button>
    <${ErrorBox} error=${act.error} />
    ${done ? html`<p role="status" class="ok">${t('analytics.backfillQueued', { status: t('analytics.job.' + done.status) })}</p>` : null}
  </form>`;
}

// The channel's chart: DAY or WEEK rows of one metric, the API's default
// range unless from/to are chosen.
export function ChannelAnalytics({ channel }) {
  const [period, setPeriod] = useState('DAY');
  const [metric, setMetric] = useState('views');
  const [range, setRange] = useState({ from: '', to: '' });
  const state = useLoad(() => {
    return get(`/channels/${enc(channel.id)}/analytics?${rangeQuery(range, { period })}`);
  }, [channel.id, period, range.from, range.to]);
  return html`<section aria-labelledby="analytics-h">
    <h2 id="analytics-h">${t('analytics.channelTitle')}</h2>
    <div class="grid3">
      <${Field} kind="select" label=${t('analytics.period')} value=${period} onChange=${(e) => setPeriod(e.target.value)}>
        <option value="DAY">${t('analytics.day')}</option><option value="WEEK">${t('analytics.week')}</option>
      <//>
      <${MetricAndRange} metrics=${CHANNEL_METRICS} metric=${metric} setMetric=${setMetric} range=${range} setRange=${setRange} />
    </div>
    <${Loading} state=${state}>${() => {
      const rows = state.data.items;
      return html`<p class="muted">${t('analytics.range', { from: fmtDay(state.data.from), to: fmtDay(state.data.to) })}</p>
        ${rows.length === 0 ? html`<p class="muted" data-testid="no-analytics">${t('analytics.none')}</p>` : html`
        <${LineChart} label=${t('analytics.chartLabel', { metric: t('analytics.metric.' + metric), from: fmtDay(state.data.from), to: fmtDay(state.data.to) })}
          dates=${rows.map((r) => r.date)} values=${rows.map((r) => r[metric])} />
        <${AnalyticsTable} rows=${rows} metric=${metric} />`}`;
    }}<//>
    <h3>${t('analytics.importTitle')}</h3>
    <${ImportForm} channelId=${channel.id} onImported=${state.reload} />
    ${channel.account_id ? html`<h3>${t('analytics.backfillTitle')}</h3><${BackfillForm} channelId=${channel.id} />` : null}
  </section>`;
}

// The columns of a published video's day (VideoAnalyticsRow): YouTube keeps
// no impressions or click-through rate per video in reports.query.
export const VIDEO_METRICS = ['views', 'watch_time_minutes', 'avg_view_duration_seconds', 'avg_retention',
  'likes', 'comments', 'shares', 'subscribers_gained', 'subscribers_lost'];

const sum = (rows, f) => rows.reduce((a, r) => a + f(r), 0);

// A published video's days (GET /projects/{id}/analytics, decision 140):
// the totals of the range, one metric's chart and its table. Shown under
// the publication once the video is on YouTube.
export function VideoAnalytics({ project }) {
  const [metric, setMetric] = useState('views');
  const [range, setRange] = useState({ from: '', to: '' });
  const state = useLoad(() => {
    return get(`/projects/${enc(project.id)}/analytics?${rangeQuery(range)}`);
  }, [project.id, range.from, range.to]);
  return html`<section class="video-analytics" aria-labelledby="video-analytics-h">
    <h3 id="video-analytics-h">${t('analytics.video.title')}</h3>
    <p class="muted">${t('analytics.video.intro')}</p>
    <div class="grid3">
      <${MetricAndRange} metrics=${VIDEO_METRICS} metric=${metric} setMetric=${setMetric} range=${range} setRange=${setRange} />
    </div>
    <${Loading} state=${state}>${() => {
      const d = state.data;
      const rows = d.items;
      const from = fmtDay(d.from);
      const to = fmtDay(d.to);
      if (rows.length === 0) return html`<p class="muted" data-testid="no-video-analytics">${t('analytics.video.none', { from, to })}</p>`;
      return html`<p class="muted">${t('analytics.range', { from, to })}</p>
        <dl class="stats">
          <div class="stat"><dt>${t('analytics.metric.views')}</dt><dd>${fmtNumber(sum(rows, (r) => r.views))}</dd></div>
          <div class="stat"><dt>${t('analytics.metric.watch_time_minutes')}</dt><dd>${fmtDecimal(sum(rows, (r) => r.watch_time_minutes), 1)}</dd></div>
          <div class="stat"><dt>${t('analytics.video.net')}</dt><dd>${fmtNumber(sum(rows, (r) => r.subscribers_gained - r.subscribers_lost))}</dd></div>
        </dl>
        <${LineChart} label=${t('analytics.chartLabel', { metric: t('analytics.metric.' + metric), from, to })}
          dates=${rows.map((r) => r.date)} values=${rows.map((r) => r[metric])} />
        <${AnalyticsTable} rows=${rows} metric=${metric} />`;
    }}<//>
  </section>`;
}

// The figures behind a suggestion or an optimizer's switch: the proposed
// persona, P(it beats the current one), the expected uplift, and each
// candidate's channel-days, mean and 95 % interval.
function Evidence({ personas, s }) {
  return html`<dl class="stats">
    <div class="stat"><dt>${t('optimizer.proposed')}</dt><dd>${personaLabel(personas, s.persona_id)}</dd></div>
    <div class="stat"><dt>${t('optimizer.pBeats')}</dt><dd>${pct(s.p_beats_current)}</dd></div>
    <div class="stat"><dt>${t('optimizer.uplift')}</dt><dd>${s.uplift === undefined || s.uplift === null ? '—' : (s.uplift >= 0 ? '+' : '') + pct(s.uplift)}</dd></div>
    ${s.proposed_days !== undefined ? html`<div class="stat"><dt>${t('optimizer.days')}</dt><dd>${t('optimizer.daysValue', { proposed: fmtNumber(s.proposed_days), current: fmtNumber(s.current_days) })}</dd></div>` : null}
  </dl>`;
}

// A candidate with no day anywhere (on this channel, the owner's other
// channels or the shared pool) has only the model's prior (mean 0, ±1.96 on
// the log scale): that is shown as "no data yet", not as figures.
const hasData = (p) => (p.channel_days || 0) + (p.owner_days || 0) + (p.global_days || 0) > 0;

// A candidate's estimate and interval in the objective's own units (the
// API's typical, typical_lo95, typical_hi95: exp(mean) - 1 views a day and
// so on, decision 130). Evidence kept before those fields existed has only
// the model's scale, shown as it was, with the scale named in the caption.
const inUnits = (ev) => ev.personas.every((p) => p.typical !== undefined);
function Estimate({ p, units }) {
  const [mid, lo, hi] = units ? [p.typical, p.typical_lo95, p.typical_hi95] : [p.mean, p.lo95, p.hi95];
  const f = units ? fmtEstimate : (x) => fmtDecimal(x, 3);
  return html`<td>${f(mid)}</td>
    <td>${lo === null || lo === undefined ? '—' : `${f(lo)} – ${f(hi)}`}</td>`;
}

function Candidates({ personas, ev }) {
  if (!ev || !Array.isArray(ev.personas) || ev.personas.length === 0) return null;
  const objective = ev.objective_used || ev.objective;
  const units = inUnits(ev);
  return html`<div class="scroll"><table class="candidates">
    <caption>${t('optimizer.candidates', { from: fmtDay(ev.from), to: fmtDay(ev.to), objective: t('optimizer.objectives.' + objective, { defaultValue: objective }) })}${units || objective === 'subscribers_net' ? '' : ` · ${t('optimizer.modelScale')}`}</caption>
    <thead><tr><th scope="col">${t('channels.persona')}</th><th scope="col">${t('optimizer.channelDays')}</th><th scope="col">${units ? t('optimizer.typical') : t('optimizer.mean')}</th>
      <th scope="col">${t('optimizer.interval')}</th><th scope="col">${t('optimizer.pBest')}</th></tr></thead>
    <tbody>${ev.personas.map((p) => html`<tr key=${p.persona_id}>
      <td>${personaLabel(personas, p.persona_id)}${p.current ? ` (${t('optimizer.current')})` : ''}</td>
      <td>${fmtNumber(p.channel_days)}</td>
      ${hasData(p) ? html`<${Estimate} p=${p} units=${units} />`
    : html`<td colspan="2" class="muted">${t('optimizer.noData')}</td>`}
      <td>${pct(p.p_best)}</td></tr>`)}</tbody></table></div>`;
}

// The optimizer on one channel: its mode and objective, why it waits, the
// open suggestion with its evidence, and every candidate's figures.
// It reads the suggestions again whenever the channel changes (a persona
// switched, a revert's pause), not only when its own selects change.
export function OptimizerPanel({ channel, personas, onChanged }) {
  const state = useLoad(() => get(`/channels/${enc(channel.id)}/suggestions`), [channel.id, channel.updated_at, channel.persona_id, channel.optimization_mode, channel.objective, channel.optimizer_paused_at]);
  const set = useAction();
  const decide = useAction();
  const change = (k) => (e) => set.run(async () => { await patch(`/channels/${enc(channel.id)}`, { [k]: e.target.value }); onChanged(); });
  const act = (sid, what) => decide.run(async () => { await post(`/channels/${enc(channel.id)}/suggestions/${enc(sid)}/${what}`); onChanged(); state.reload(); });
  return html`<section aria-labelledby="optimizer-h">
    <h2 id="optimizer-h">${t('optimizer.title')}</h2>
    <div class="grid3">
      <${Field} kind="select" label=${t('optimizer.mode')} value=${channel.optimization_mode} disabled=${set.busy} onChange=${change('optimization_mode')}
        hint=${t('optimizer.modeHint.' + channel.optimization_mode)}>
        ${MODES.map((m) => html`<option value=${m}>${t('optimizer.modes.' + m)}</option>`)}
      <//>
      <${Field} kind="select" label=${t('optimizer.objective')} value=${channel.objective} disabled=${set.busy} onChange=${change('objective')}>
        ${OBJECTIVES.map((o) => html`<option value=${o}>${t('optimizer.objectives.' + o)}</option>`)}
      <//>
    </div>
    <${ErrorBox} error=${set.error} />
    <${Loading} state=${state}>${() => {
      const d = state.data;
      const o = d.optimizer || {};
      return html`
        ${o.status ? html`<p><span class="muted">${t('optimizer.status')}:</span> <span class="badge">${t('optimizer.statuses.' + o.status, { defaultValue: o.status })}</span>${o.why ? ' ' + o.why : ''}${o.checked_at ? html` <span class="muted">(${fmtDate(o.checked_at)})</span>` : null}</p>` : null}
        ${o.paused_at ? html`<p class="muted">${t('optimizer.paused', { date: fmtDate(o.paused_at) })}</p>` : null}
        ${d.objective_used && d.objective_used !== d.objective ? html`<p class="muted">${t('optimizer.objectiveUsed', { objective: t('optimizer.objectives.' + d.objective_used) })}</p>` : null}
        ${d.suggestion ? html`<div class="card suggestion">
          <h3>${t('optimizer.suggestion')}</h3>
          <${Evidence} personas=${personas} s=${d.suggestion} />
          ${d.why ? html`<p>${d.why}</p>` : null}
          <${ErrorBox} error=${decide.error} />
          <div class="actions">
            <button type="button" disabled=${decide.busy} onClick=${() => act(d.suggestion.id, 'accept')}>${t('optimizer.accept')}</button>
            <button type="button" class="secondary" disabled=${decide.busy} onClick=${() => act(d.suggestion.id, 'dismiss')}>${t('optimizer.dismiss')}</button>
          </div></div>`
    : html`<p data-testid="optimizer-why">${t('optimizer.noSuggestion')}${d.why ? ': ' + d.why : ''}</p>`}
        <${Candidates} personas=${personas} ev=${d} />`;
    }}<//>
  </section>`;
}

// An optimizer's (or an accepted suggestion's) evidence in the timeline.
export function AssignmentEvidence({ a, personas }) {
  const ev = a.evidence;
  if (!ev) return null;
  return html`<details class="evidence"><summary>${t('optimizer.evidence')}</summary>
    <${Evidence} personas=${personas} s=${{ ...ev, persona_id: a.persona_id }} />
    ${ev.why ? html`<p>${ev.why}</p>` : null}
    <${Candidates} personas=${personas} ev=${ev} /></details>`;
}

function Figure({ name, f }) {
  return html`<tr><th scope="row">${t('analytics.pmetric.' + name)}</th><td>${fmtDecimal(f.mean)}</td>
    <td>${f.ci95 ? `${fmtDecimal(f.ci95[0])} – ${fmtDecimal(f.ci95[1])}` : '—'}</td><td>${fmtNumber(f.n)}</td></tr>`;
}

function Health({ g }) {
  return html`${pct(g.success_rate)} · ${t('analytics.generations', { count: g.count })}${g.p50_duration_ms !== null ? ` · p50 ${fmtNumber(g.p50_duration_ms)} ms · p95 ${fmtNumber(g.p95_duration_ms)} ms` : ''}`;
}

export function Leaderboard() {
  const [metric, setMetric] = useState('views_per_day');
  const state = useLoad(() => get(`/analytics/leaderboard?metric=${enc(metric)}`), [metric]);
  return html`<section>
    <h1>${t('analytics.leaderboard')}</h1>
    <p class="muted">${t('analytics.leaderboardIntro')}</p>
    <${Field} kind="select" label=${t('analytics.rankBy')} value=${metric} onChange=${(e) => setMetric(e.target.value)}>
      ${PERSONA_METRICS.map((m) => html`<option value=${m}>${t('analytics.pmetric.' + m)}</option>`)}
    <//>
    <${Loading} state=${state}>${() => {
      const d = state.data;
      if (d.items.length === 0) return html`<p class="muted" data-testid="leaderboard-empty">${t('analytics.noLeaders', { from: fmtDay(d.from), to: fmtDay(d.to) })}</p>`;
      return html`<div class="scroll"><table class="leaderboard">
        <caption>${t('analytics.range', { from: fmtDay(d.from), to: fmtDay(d.to) })}</caption>
        <thead><tr><th scope="col">#</th><th scope="col">${t('channels.persona')}</th><th scope="col">${t('analytics.pmetric.' + metric)}</th>
          <th scope="col">${t('optimizer.interval')}</th><th scope="col">${t('optimizer.channelDays')}</th><th scope="col">${t('analytics.health')}</th></tr></thead>
        <tbody>${d.items.map((p) => {
          const f = p.metrics[metric];
          return html`<tr key=${p.persona_id}><td>${p.rank}</td>
            <td>${p.name === null ? html`<span class="muted">${t('analytics.privatePersona', { id: shortId(p.persona_id) })}</span>`
    : html`<a href=${'#/analytics/personas/' + p.persona_id}>${p.name}</a>`}</td>
            <td>${fmtDecimal(f.mean)}</td><td>${f.ci95 ? `${fmtDecimal(f.ci95[0])} – ${fmtDecimal(f.ci95[1])}` : '—'}</td>
            <td>${fmtNumber(p.channel_days)}</td><td><${Health} g=${p.generation} /></td></tr>`;
        })}</tbody></table></div>`;
    }}<//>
  </section>`;
}

export function PersonaPerformance({ id }) {
  const state = useLoad(async () => {
    const [perf, persona] = await Promise.all([get(`/personas/${enc(id)}/performance`), get(`/personas/${enc(id)}`)]);
    return { perf, persona };
  }, [id]);
  return html`<${Loading} state=${state}>${() => {
    const { perf, persona } = state.data;
    const g = perf.generation;
    return html`<section>
      <p><a href="#/analytics">← ${t('analytics.leaderboard')}</a></p>
      <h1>${persona.name}</h1>
      <p class="muted">${t('analytics.range', { from: fmtDay(perf.from), to: fmtDay(perf.to) })} · ${t('analytics.channelDays', { count: perf.channel_days })}</p>
      <div class="scroll"><table>
        <caption>${t('analytics.performance')}</caption>
        <thead><tr><th scope="col">${t('analytics.metricLabel')}</th><th scope="col">${t('optimizer.mean')}</th><th scope="col">${t('optimizer.interval')}</th><th scope="col">${t('optimizer.channelDays')}</th></tr></thead>
        <tbody>${PERSONA_METRICS.map((m) => html`<${Figure} key=${m} name=${m} f=${perf.metrics[m]} />`)}</tbody>
      </table></div>
      <h2>${t('analytics.health')}</h2>
      <dl class="stats">
        <div class="stat"><dt>${t('analytics.successRate')}</dt><dd>${pct(g.success_rate)}</dd></div>
        <div class="stat"><dt>${t('analytics.generationsLabel')}</dt><dd>${fmtNumber(g.count)}</dd></div>
        <div class="stat"><dt>p50</dt><dd>${g.p50_duration_ms === null ? '—' : fmtNumber(g.p50_duration_ms) + ' ms'}</dd></div>
        <div class="stat"><dt>p95</dt><dd>${g.p95_duration_ms === null ? '—' : fmtNumber(g.p95_duration_ms) + ' ms'}</dd></div>
      </dl>
      <p><a href=${'#/personas/' + persona.id}>${t('analytics.personaSettings')}</a></p>
    </section>`;
  }}<//>`;
}
