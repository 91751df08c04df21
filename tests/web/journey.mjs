// The dashboard's browser test: headless Chromium (playwright-core) against
// the real server tests/web_journey.c started. One person's journey in
// English and the same in Brazilian Portuguese: sign up, connect Google (the
// fake), import a channel, create a persona, create a project and watch it
// reach "scripted" live, edit and rewrite a scene, narrate it and play the
// audio, see each scene's image and make one again, render the video live
// and play it with its subtitle track, publish it to the fake upload server
// (after the channel's upload limit in English, scheduled in Portuguese),
// see its numbers by day once a backfill brings them (decision 157),
// see the video go out of date and (English) a render fail for a lost file,
// compare and restore a persona version, export it as a preset and import
// it, and find what all that did on the Activity screen; on the channel,
// import a Studio CSV (its bad row shown by line) and see the chart, switch
// the optimizer's mode; the persona leaderboard and a persona's performance.
// Then two accounts with a seeded history (decision 113): the optimizer's
// real suggestion dismissed, its automatic switch reverted and Google access
// revoked then reconnected (English), or the suggestion accepted
// (Portuguese), and a backfill; a second user, who must see none of it (nor
// the first user's activity); an administrator reading the first user's
// activity; and the screens at phone width. axe-core runs on every screen
// (no serious or critical violation passes); a CSP violation, a page error
// or a console error fails the run. Screenshots go to PSTUDIO_WEB_ARTIFACTS.
import { createRequire } from 'node:module';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import en from '../../web/app/locale-en.js';
import ptBR from '../../web/app/locale-pt-BR.js';

const BASE = process.env.PSTUDIO_WEB_BASE;
const OUT = process.env.PSTUDIO_WEB_ARTIFACTS;
const require = createRequire(resolve(process.env.PSTUDIO_WEB_NODE_MODULES) + '/');
const { chromium } = require('playwright-core');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'a long passphrase for tests';
const TIMEOUT = 20000;

let passed = 0;
let failed = 0;
function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

// The messages the dashboard itself shows, so the test reads the same words.
function msg(dict, key, vars = {}) {
  let v = key.split('.').reduce((o, k) => (o ? o[k] : undefined), dict);
  if (v === undefined) throw new Error('no message ' + key);
  for (const [k, x] of Object.entries(vars)) v = v.replaceAll(`{{${k}}}`, String(x));
  return v;
}

async function watch(page, problems) {
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    // The browser logs every failed load: the 401 of asking who is signed in
    // while no one is, the 404s the test asks for on purpose (and of a
    // project never published), and the 409 of publishing before the render.
    if (m.type() === 'error' && !/status of (401|404|409)/.test(m.text())) problems.push('console: ' + m.text());
  });
  await page.exposeFunction('__cspViolation', (d) => problems.push('CSP violation: ' + d));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

// axe-core, evaluated through the DevTools protocol (not a <script>, which
// the page's CSP would rightly refuse); serious and critical violations fail.
async function axe(page, name) {
  await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    const text = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`).join('\n  ');
    throw new Error(`axe on ${name}:\n  ${text}`);
  }
}

// A small YouTube Studio export ("Table data.csv"): the last four days, a
// row Studio never writes (line 4), and Studio's Total row.
function studioCsv() {
  const day = (n) => new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);
  return ['Date,Views,Watch time (hours),Likes,Subscribers',
    'Total,1000,50.5,40,7',
    `${day(4)},210,10.5,8,1`,
    `${day(3)},not a number,9.0,7,2`,
    `${day(2)},260,12.25,11,2`,
    `${day(1)},300,15.0,12,2`].join('\n') + '\n';
}

// The date n days before today (UTC), as the API writes dates.
const daysAgo = (n) => new Date(Date.now() - n * 86400000).toISOString().slice(0, 10);

// Sixty days of a channel's Studio export for the optimizer: 1000-odd views a
// day while the better persona ran (60 to 31 days ago), 300-odd since.
function historyCsv() {
  const rows = ['Date,Views,Watch time (hours)'];
  for (let n = 60; n >= 1; n--) {
    const views = (n > 30 ? 1000 : 300) + (n % 5) * 15;
    rows.push(`${daysAgo(n)},${views},${(views * 2 / 60).toFixed(2)}`);
  }
  return rows.join('\n') + '\n';
}

// The API as the signed-in page would call it (the context's cookies, the
// CSRF header), for setting up and for checking what a click did, from the
// test's side, so its refusals are not the page's console errors. A string
// body goes as CSV.
async function api(page, method, path, body) {
  const cookies = await page.context().cookies();
  const csrf = (cookies.find((c) => c.name === 'pstudio_csrf') || {}).value || '';
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = typeof body === 'string' ? 'text/csv' : 'application/json';
  const r = await page.request.fetch(BASE + '/api/v1' + path, {
    method, headers, data: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await r.text();
  return { status: r.status(), body: text ? JSON.parse(text) : null };
}

// Asks fn until it answers something truthy, every 250 ms, for at most ms.
async function until(what, fn, ms = TIMEOUT) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The launcher as the seeder (tests/web_journey.c): what a browser cannot do.
function seeder(...args) {
  return execFileSync(process.env.PSTUDIO_WEB_SEEDER, args, { encoding: 'utf8' }).trim();
}

async function phoneFits(page, name) {
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 390, `${name} is ${wide} px wide at 390 px`);
  await shot(page, `phone-${name}`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function shot(page, name) {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
}

// One panel alone, for the README's pictures.
async function panelShot(locator, name) {
  await locator.screenshot({ path: `${OUT}/${name}.png` });
}

// The launcher's fake upload server refuses new uploads with
// uploadLimitExceeded (on) or takes them (off): SIGUSR2 toggles it, and the
// launcher writes which to OUT/upload-limit.
async function uploadLimit(state) {
  process.kill(process.ppid, 'SIGUSR2');
  await until('the upload limit ' + state, async () => existsSync(`${OUT}/upload-limit`) && readFileSync(`${OUT}/upload-limit`, 'utf8').trim() === state);
}

// A datetime-local value (the browser's local time) n hours from now.
function localIn(hours) {
  const d = new Date(Date.now() + hours * 3600000);
  const z = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}T${z(d.getHours())}:${z(d.getMinutes())}`;
}

async function screen(page, name) {
  await axe(page, name);
  await shot(page, name);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

// A browser context at desktop size, in one of the dashboard's languages,
// with the page's problems collected.
async function session(browser, lang) {
  const M = lang === 'en' ? en : ptBR;
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  const problems = [];
  await watch(page, problems);
  return { M, T: (k, v) => msg(M, k, v), suffix: lang === 'en' ? 'en' : 'pt-BR', ctx, page, problems };
}

async function journey(browser, lang, email) {
  const { T, suffix, ctx, page, problems } = await session(browser, lang);
  const ids = {};

  await step(`${lang}: sign up`, async () => {
    await page.goto(BASE + '/#/signup');
    if (lang !== 'en') {
      await page.getByLabel(msg(en, 'nav.language')).selectOption('pt-BR');
    }
    await page.getByRole('heading', { name: T('auth.signupTitle') }).waitFor();
    await screen(page, `signup-${suffix}`);
    await page.getByLabel(T('auth.email')).fill(email);
    await page.getByLabel(T('auth.password')).fill(PASSWORD);
    await page.getByRole('button', { name: T('auth.signup') }).click();
    await page.getByRole('heading', { name: T('account.title') }).waitFor();
    await page.locator('main').getByText(email).waitFor();
    const stored = await page.evaluate(() => Object.keys(localStorage));
    check(stored.every((k) => k === 'pstudio.lang'), 'localStorage holds only the language: ' + stored);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'pstudio_session');
    check(session && session.httpOnly && session.sameSite === 'Lax', 'the session cookie is HttpOnly, SameSite=Lax');
    // The plan by its name from GET /plans, not its code.
    const me = (await api(page, 'GET', '/me')).body;
    const plan = (await api(page, 'GET', '/plans')).body.items.find((x) => x.id === me.plan.id);
    check(plan && plan.name !== plan.code, 'the plan has a name other than its code');
    await page.locator('h2 .plan', { hasText: new RegExp('^' + plan.name + '$') }).waitFor();
    await screen(page, `account-${suffix}`);
  });

  await step(`${lang}: connect Google and import a channel`, async () => {
    await page.getByRole('link', { name: T('nav.google') }).click();
    await page.getByRole('heading', { name: T('google.title') }).waitFor();
    await page.getByRole('button', { name: T('google.connect') }).click();
    // The fake consents at once; Google's redirect lands on /google/connected.
    await page.waitForURL(/\/google\/connected$/);
    await page.getByRole('link', { name: /Persona Studio dashboard/ }).click();
    await page.getByText(T('google.connected')).waitFor();
    await page.getByText(T('google.status.active')).first().waitFor();
    await page.getByRole('button', { name: T('google.discover') }).first().click();
    const first = page.locator('.discover input[type=checkbox]').first();
    await first.check();
    await page.getByRole('button', { name: T('google.import_one', { count: 1 }) }).click();
    await page.getByText(T('google.importDone')).waitFor();
    await screen(page, `google-${suffix}`);
    await phoneFits(page, `google-${suffix}`);
    await page.getByRole('link', { name: T('nav.channels') }).first().click();
    await page.getByRole('heading', { name: T('channels.title') }).waitFor();
    await page.locator('.card a').first().waitFor();
    await screen(page, `channels-${suffix}`);
    await phoneFits(page, `channels-${suffix}`);
  });

  const personaName = lang === 'en' ? 'Calm <b>narrator</b>' : 'Narradora <i>calma</i>';
  await step(`${lang}: create a persona and change it`, async () => {
    await page.getByRole('link', { name: T('nav.personas') }).click();
    await page.getByRole('heading', { name: T('personas.systemTitle') }).waitFor();
    check(await page.getByText(T('personas.needsPlan', { plan: 'pro' })).first().isVisible()
      || await page.getByText(T('personas.needsPlan', { plan: 'creator' })).first().isVisible(),
    'a locked persona names the plan it needs');
    await screen(page, `personas-${suffix}`);
    await page.getByRole('link', { name: T('personas.new') }).click();
    await page.getByLabel(T('personas.name')).fill(personaName);
    await page.getByLabel(T('personas.instruction')).fill('You explain science calmly, in short sentences.');
    await page.getByLabel(T('personas.temperature')).fill('0.6');
    await page.getByLabel(T('personas.language'), { exact: true }).fill(lang === 'en' ? 'en' : 'pt-BR');
    await page.getByRole('button', { name: T('personas.create') }).click();
    // The name is markup-like on purpose: it must come back as text.
    await page.getByRole('heading', { name: personaName }).waitFor();
    ids.persona = page.url().split('/').pop();
    await page.getByLabel(T('personas.temperature')).fill('1.1');
    await page.getByLabel(T('personas.changeReason')).fill('livelier');
    await page.getByRole('button', { name: T('personas.save') }).click();
    await page.getByText(T('personas.saved', { version: 2 })).waitFor();
    await screen(page, `persona-editor-${suffix}`);
    await phoneFits(page, `persona-editor-${suffix}`);
  });

  await step(`${lang}: assign the persona to the channel`, async () => {
    await page.getByRole('link', { name: T('nav.channels') }).click();
    await page.locator('.card a').first().click();
    await page.getByRole('heading', { name: T('channels.timeline') }).waitFor();
    ids.channel = page.url().split('/').pop();
    await page.getByLabel(T('channels.changePersona')).selectOption({ label: personaName });
    await page.getByLabel(T('channels.reason')).fill('first persona');
    await page.getByRole('button', { name: T('channels.assign') }).click();
    await page.locator('.timeline li', { hasText: 'first persona' }).waitFor();
    await screen(page, `channel-${suffix}`);
  });

  await step(`${lang}: import a Studio CSV and see the chart`, async () => {
    await page.getByLabel(T('analytics.csvFile')).setInputFiles({ name: 'Table data.csv', mimeType: 'text/csv', buffer: Buffer.from(studioCsv()) });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/analytics/import')),
      page.getByRole('button', { name: T('analytics.import') }).click()]);
    check(res.status() === 200, 'the import is answered 200, not ' + res.status());
    const rejected = page.locator('table.rejected');
    await rejected.waitFor();
    check((await rejected.locator('tbody tr').count()) === 1, 'one row is refused');
    check((await rejected.locator('tbody td').first().textContent()) === '4', 'the refused row is named by its line, 4');
    await page.locator('.chart canvas').first().waitFor();
    await page.getByLabel(T('analytics.metricLabel')).selectOption('watch_time_minutes');
    await page.locator('.chart[aria-label^="' + T('analytics.metric.watch_time_minutes') + '"]').waitFor();
    await page.getByLabel(T('analytics.period')).selectOption('WEEK');
    await page.locator('.chart canvas').first().waitFor();
    await page.getByLabel(T('analytics.period')).selectOption('DAY');
    await page.locator('.chart canvas').first().waitFor();
    await screen(page, `channel-analytics-${suffix}`);
  });

  await step(`${lang}: the optimizer panel changes mode`, async () => {
    await page.getByRole('heading', { name: T('optimizer.title') }).waitFor();
    await page.getByTestId('optimizer-why').or(page.locator('.suggestion')).first().waitFor();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith('/channels/' + ids.channel)),
      page.getByLabel(T('optimizer.mode')).selectOption('auto')]);
    check(res.status() === 200, 'the mode change is answered 200');
    check((await res.json()).optimization_mode === 'auto', 'the channel is in auto mode');
    await page.getByText(T('optimizer.modeHint.auto')).waitFor();
    await page.getByLabel(T('optimizer.objective')).selectOption('views_per_day');
    await page.waitForFunction((label) => {
      const sel = [...document.querySelectorAll('select')].find((x) => x.labels[0] && x.labels[0].textContent === label);
      return sel && sel.value === 'views_per_day' && !sel.disabled;
    }, T('optimizer.objective'));
    await screen(page, `channel-optimizer-${suffix}`);
    // The channel's screen at phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 390, `the channel's screen is ${wide} px wide at 390 px`);
    await shot(page, `phone-channel-${suffix}`);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step(`${lang}: create a project and watch it reach scripted live`, async () => {
    const streams = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/events')) streams.push(r.url()); });
    let loads = 0;
    page.on('load', () => loads++);
    await page.getByRole('link', { name: T('nav.projects') }).click();
    await page.getByRole('link', { name: T('projects.new') }).click();
    await page.getByLabel(T('projects.topic')).fill(lang === 'en' ? 'Why is the sky dark at night?' : 'Por que o céu é escuro à noite?');
    await page.getByLabel(T('projects.channel')).selectOption(ids.channel);
    await page.getByLabel(T('projects.scenes'), { exact: true }).fill('3');
    if (lang !== 'en') await page.getByLabel(T('projects.language'), { exact: true }).fill('pt-BR');
    await screen(page, `project-new-${suffix}`);
    await page.getByRole('button', { name: T('projects.create') }).click();
    await page.waitForURL(/#\/projects\/[0-9a-f-]{36}$/);
    ids.project = page.url().split('/').pop();
    // No reload: the status changes through the events stream.
    await page.locator('.progress .badge', { hasText: T('status.scripted') }).waitFor({ timeout: 30000 });
    await page.getByRole('heading', { name: T('projects.scene', { n: 3 }) }).waitFor();
    check(streams.length >= 1, 'the dashboard listens on /api/v1/events');
    check(loads === 0, 'the status changed with no page load');
    // Nothing asked for yet: each scene's image and narration say so, not
    // "queued", as the API's generations (0) and statuses (PENDING) do.
    const fresh = (await api(page, 'GET', `/projects/${ids.project}`)).body.scenes;
    check(fresh.every((x) => x.image_generation === 0 && x.image_status === 'PENDING' && x.audio_generation === 0 && x.audio_status === 'PENDING'),
      'the API reports no image or narration asked for: ' + JSON.stringify(fresh.map((x) => [x.image_generation, x.audio_generation])));
    await page.waitForFunction(([img, aud]) => {
      const i = [...document.querySelectorAll('.scene .image-status .badge')];
      const a = [...document.querySelectorAll('.scene .audio-status .badge')];
      return i.length === 3 && a.length === 3 && i.every((x) => x.textContent === img) && a.every((x) => x.textContent === aud);
    }, [T('image.NOT_ASKED'), T('audio.NOT_ASKED')]);
    await screen(page, `project-${suffix}`);
  });

  await step(`${lang}: edit a narration and rewrite a scene`, async () => {
    const edited = lang === 'en' ? 'The night sky is dark because the universe is young <script>.' : 'O céu noturno é escuro porque o universo é jovem <script>.';
    const n1 = page.getByLabel(T('projects.narration', { n: 1 }));
    await n1.fill(edited);
    const [saved] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/scenes/')),
      page.getByRole('button', { name: T('projects.saveNarration') }).first().click()]);
    check(saved.status() === 200, 'the narration is saved');
    await page.getByRole('button', { name: T('projects.saveNarration') }).first().waitFor({ state: 'attached' });
    await page.waitForFunction(() => document.querySelector('.scene .actions button').disabled);
    // The rewrite is a job: the dashboard hears it end on the events stream
    // and reads the project again, with scene 2 rewritten (a newer updated_at).
    const label2 = T('projects.narration', { n: 2 });
    const reread = page.waitForResponse(async (r) => {
      if (r.request().method() !== 'GET' || !r.url().endsWith('/projects/' + ids.project)) return false;
      const p = await r.json();
      return p.status === 'scripted' && p.scenes[1].updated_at > p.scenes[0].updated_at;
    }, { timeout: 30000 });
    await page.getByRole('button', { name: T('projects.regenerateScene') }).nth(1).click();
    const rewritten = (await (await reread).json()).scenes[1].narration;
    await page.waitForFunction(([label, text]) => {
      const el = [...document.querySelectorAll('textarea')].find((x) => x.labels[0] && x.labels[0].textContent === label);
      return el && el.value === text && !el.disabled;
    }, [label2, rewritten]);
    await page.locator('.progress .badge', { hasText: T('status.scripted') }).waitFor();
    check(await page.getByLabel(T('projects.narration', { n: 1 })).inputValue() === edited, 'the edited narration stays');
    await screen(page, `scenes-${suffix}`);
  });

  await step(`${lang}: narrate the project and play a scene`, async () => {
    await page.getByRole('button', { name: T('projects.narrate'), exact: true }).click();
    await page.locator('.scene .badge', { hasText: new RegExp('^' + T('audio.COMPLETED') + '$') }).nth(2).waitFor({ timeout: 60000 });
    check(await page.locator('.scene audio').count() === 3, 'each scene has its player');
    const audio = page.locator('.scene audio').first();
    const src = await audio.locator('source').first().getAttribute('src');
    check(src.startsWith(`/api/v1/projects/${ids.project}/media/`), 'the audio comes from the media route: ' + src);
    check(await audio.locator('track[kind=subtitles]').count() === 1, 'the subtitles are a track');
    // The browser reads the audio's metadata from the media route (same
    // origin, the session cookie, media-src 'self').
    await page.waitForFunction(() => {
      const a = document.querySelector('.scene audio');
      return a && a.readyState >= 1 && a.duration > 0;
    });
    await screen(page, `narration-${suffix}`);
    // One scene narrated again: its status leaves COMPLETED, then returns.
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/audio')),
      page.getByRole('button', { name: T('projects.narrateScene') }).nth(1).click()]);
    check(res.status() === 202, 'narrating one scene again is accepted');
    await page.waitForFunction((done) => {
      const b = [...document.querySelectorAll('.scene .audio-status .badge')];
      return b.length === 3 && b.every((x) => x.textContent === done) && !document.querySelector('main [role=status]');
    }, T('audio.COMPLETED'), { timeout: 60000 });
    const asked = (await api(page, 'GET', `/projects/${ids.project}`)).body.scenes;
    check(asked.every((x) => x.image_generation >= 1) && asked[1].audio_generation === 2 && asked[0].audio_generation === 1,
      'narrating asked for each image once and scene 2\'s narration twice: ' + JSON.stringify(asked.map((x) => [x.image_generation, x.audio_generation])));
  });

  await step(`${lang}: each scene's image, and one made again`, async () => {
    await page.waitForFunction((made) => {
      const b = [...document.querySelectorAll('.scene .image-status .badge')];
      return b.length === 3 && b.every((x) => x.textContent === made);
    }, T('image.COMPLETED'), { timeout: 60000 });
    const imgs = page.locator('.scene img.still');
    check(await imgs.count() === 3, 'each scene shows its image');
    // The browser loaded each landscape PNG from the media route.
    await page.waitForFunction(() => [...document.querySelectorAll('.scene img.still')].every((i) => i.complete && i.naturalWidth === 1920 && i.naturalHeight === 1080));
    const before = (await api(page, 'GET', `/projects/${ids.project}`)).body;
    const first = before.scenes[0];
    check(await imgs.first().getAttribute('src') === first.image.landscape, 'the image is the scene\'s landscape PNG on the media route');
    check(first.image.landscape.startsWith(`/api/v1/projects/${ids.project}/media/`), 'the media route serves it');
    check(await imgs.first().getAttribute('alt') === (first.visual_description || first.narration), 'the alt text is the visual description');
    await screen(page, `scene-images-${suffix}`);
    await phoneFits(page, `scene-images-${suffix}`);
    const old = before.scenes[1].image.landscape;
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/image')),
      page.getByRole('button', { name: T('projects.drawSceneOf', { n: 2 }) }).click()]);
    check(res.status() === 202, 'making one scene\'s image again is accepted, not ' + res.status());
    // A new generation is a new file; the board shows it once it is made.
    const made = await until('scene 2\'s new image', async () => {
      const sc = (await api(page, 'GET', `/projects/${ids.project}`)).body.scenes[1];
      return sc.image_status === 'COMPLETED' && sc.image.landscape !== old ? sc.image.landscape : null;
    }, 60000);
    await page.locator(`.scene img.still[src="${made}"]`).waitFor();
    await page.waitForFunction(() => !document.querySelector('main [role=status]'));
  });

  const description = lang === 'en' ? 'Why the sky is dark at night, in three scenes.' : 'Por que o céu é escuro à noite, em três cenas.';
  await step(`${lang}: render the video, watched live, and play it`, async () => {
    let loads = 0;
    const onLoad = () => loads++;
    page.on('load', onLoad);
    const panel = page.locator('section.render');
    const pub = page.locator('section.publish');
    await pub.getByRole('heading', { name: T('publish.title') }).waitFor();
    await pub.getByLabel(T('publish.kidsNo')).check();
    // YouTube refuses < and > in a description (the offline writer's may
    // have them): the page says so and asks nothing.
    let asked = 0;
    const onRequest = (r) => { if (r.url().endsWith('/publish') && r.method() === 'POST') asked++; };
    page.on('request', onRequest);
    await pub.getByLabel(T('publish.description')).fill(description + ' <b>');
    await pub.getByRole('button', { name: T('publish.publish'), exact: true }).click();
    await pub.getByRole('alert').filter({ hasText: T('publish.noAngles') }).waitFor();
    page.off('request', onRequest);
    check(asked === 0, 'nothing was sent with < in the description');
    await pub.getByLabel(T('publish.description')).fill(description);
    // Publishing before the render is refused, and the page says why.
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/publish')),
      pub.getByRole('button', { name: T('publish.publish'), exact: true }).click()]);
    check(refused.status() === 409, 'publishing before the render is refused with 409, not ' + refused.status());
    await pub.getByRole('alert').filter({ hasText: T('publish.problem.notRendered') }).waitFor();
    // The progress the events stream brings, as the page shows it.
    await page.evaluate(() => {
      window.__renderSeen = { progress: [], states: [] };
      new MutationObserver(() => {
        const p = document.querySelector('.render progress');
        if (p) window.__renderSeen.progress.push(Number(p.value));
        const b = document.querySelector('.render .render-state .badge');
        if (b) window.__renderSeen.states.push(b.textContent);
      }).observe(document.querySelector('.render'), { subtree: true, childList: true, attributes: true, characterData: true });
    });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/render')),
      panel.getByRole('button', { name: T('render.render') }).click()]);
    check(res.status() === 202, 'the render is accepted, not ' + res.status());
    await panel.locator('.render-state .badge', { hasText: new RegExp('^' + T('render.status.rendered') + '$') }).waitFor({ timeout: 240000 });
    const seen = await page.evaluate(() => window.__renderSeen);
    check(seen.states.includes(T('render.status.rendering')), 'the panel showed the render running: ' + JSON.stringify(seen.states.slice(0, 5)));
    check(seen.progress.some((v) => v > 0 && v < 1000), 'the panel showed progress from the events stream: ' + JSON.stringify(seen.progress.slice(-5)));
    check(loads === 0, 'the render finished on the page with no page load');
    page.off('load', onLoad);
    const p = (await api(page, 'GET', `/projects/${ids.project}`)).body;
    check(p.render_status === 'rendered' && p.video && p.video.mp4 === `/api/v1/projects/${ids.project}/media/video.mp4`, 'the API has the video: ' + JSON.stringify(p.video));
    const video = panel.locator('video');
    check(await video.locator('source').getAttribute('src') === p.video.mp4, 'the player plays the API\'s video.mp4');
    // The browser reads the video's metadata from the media route and can
    // play it (H.264 and AAC in MP4, moov first): play() resolves, muted.
    await page.waitForFunction(() => {
      const v = document.querySelector('.render video');
      return v && v.readyState >= 1 && v.duration > 0;
    }, null, { timeout: 30000 });
    const duration = await video.evaluate((v) => v.duration);
    check(Math.abs(duration * 1000 - p.render_duration_ms) < 500, `the player's duration ${duration} s is the render's ${p.render_duration_ms} ms`);
    // The whole video's subtitles (decision 156): one text track, from the
    // API's video.vtt, shown by default for the soft option, its cues loaded
    // and none past the video's end.
    check(p.video.vtt === `/api/v1/projects/${ids.project}/media/video.vtt`, 'the API names the video\'s WebVTT: ' + JSON.stringify(p.video));
    check(await video.locator('track').getAttribute('src') === p.video.vtt, 'the player\'s track is the API\'s video.vtt');
    await page.waitForFunction(() => {
      const v = document.querySelector('.render video');
      return v.textTracks.length === 1 && v.textTracks[0].mode === 'showing' && v.textTracks[0].cues && v.textTracks[0].cues.length > 0;
    }, null, { timeout: 30000 });
    const cues = await video.evaluate((v) => [...v.textTracks[0].cues].map((c) => [c.startTime, c.endTime]));
    check(cues.every(([a, b]) => a >= 0 && a < b && b <= duration + 0.1), 'every cue is inside the video: ' + JSON.stringify(cues.slice(-3)));
    await video.evaluate(async (v) => { v.muted = true; await v.play(); v.pause(); });
    await page.waitForFunction(() => document.querySelector('.render video').readyState >= 2);
    // The thumbnail, YouTube's size, from the media route.
    await page.waitForFunction(() => {
      const i = document.querySelector('.render .thumbnail img');
      return i && i.complete && i.naturalWidth === 1280 && i.naturalHeight === 720;
    });
    check(await panel.locator('.thumbnail img').getAttribute('src') === p.video.thumbnail, 'the thumbnail is the API\'s thumbnail.png');
    await video.scrollIntoViewIfNeeded();
    await screen(page, `render-${suffix}`);
    await panelShot(panel, `render-panel-${suffix}`);
  });

  await step(`${lang}: publish to YouTube and see the video's link`, async () => {
    const pub = page.locator('section.publish');
    const title = lang === 'en' ? 'Why the night sky is dark' : 'Por que o céu noturno é escuro';
    const tags = lang === 'en' ? ['astronomy', 'night sky'] : ['astronomia', 'céu noturno'];
    // The refusal for the missing video went with the render.
    await pub.getByRole('alert').filter({ hasText: T('publish.problem.notRendered') }).waitFor({ state: 'detached' });
    await pub.getByLabel(T('publish.videoTitle')).fill(title);
    await pub.getByLabel(T('publish.tags')).fill(tags.join(', '));
    check(await pub.getByLabel(T('publish.synthetic')).isChecked(), 'the AI disclosure starts on');
    check(await pub.getByLabel(T('publish.kidsNo')).isChecked(), 'made for kids is as chosen');
    const publish = async (name) => {
      const [r] = await Promise.all([
        page.waitForResponse((x) => x.request().method() === 'POST' && x.url().endsWith('/publish')),
        pub.getByRole('button', { name, exact: true }).click()]);
      check(r.status() === 202, `the publication is queued, not ${r.status()}: ${await r.text()}`);
    };
    let at = null;
    if (lang === 'en') {
      // The channel's upload limit: the publication fails with the reason,
      // and the form offers to publish again.
      await uploadLimit('on');
      await publish(T('publish.publish'));
      await pub.locator('.badge', { hasText: new RegExp('^' + T('publish.status.failed') + '$') }).waitFor({ timeout: 60000 });
      await pub.getByRole('alert').filter({ hasText: T('publish.uploadLimit') }).waitFor();
      check((await pub.getByRole('alert').textContent()).includes('uploadLimitExceeded'), 'the API\'s reason is shown');
      await axe(page, `publish-failed-${suffix}`);
      await panelShot(pub, `publish-failed-${suffix}`);
      await uploadLimit('off');
      await publish(T('publish.publishAgain'));
    } else {
      // Scheduled: YouTube requires private, so the page sets it and says why.
      const local = localIn(26);
      at = new Date(local).getTime();
      await pub.getByLabel(T('publish.publishAt')).fill(local);
      await pub.getByText(T('publish.scheduledPrivate')).waitFor();
      check(await pub.getByLabel(T('publish.privacy')).isDisabled(), 'privacy is fixed while scheduled');
      check(await pub.getByLabel(T('publish.privacy')).inputValue() === 'private', 'a scheduled video is private');
      await axe(page, `publish-form-${suffix}`);
      await panelShot(pub, `publish-form-${suffix}`);
      await publish(T('publish.publish'));
    }
    await pub.locator('.badge', { hasText: new RegExp('^' + T('publish.status.published') + '$') }).waitFor({ timeout: 60000 });
    const pb = (await api(page, 'GET', `/projects/${ids.project}/publish`)).body;
    check(pb.status === 'published' && /^[A-Za-z0-9_-]+$/.test(pb.youtube_video_id || ''), 'the API has the video id: ' + JSON.stringify(pb));
    check(pb.title === title && pb.description === description && JSON.stringify(pb.tags) === JSON.stringify(tags),
      'the form\'s title, description and tags went out: ' + JSON.stringify([pb.title, pb.description, pb.tags]));
    check(pb.made_for_kids === false && pb.contains_synthetic_media === true, 'the declarations went out as chosen');
    check(pb.bytes_sent === pb.bytes_total && pb.bytes_total > 0, 'every byte was sent');
    if (at !== null) {
      check(pb.privacy_status === 'private' && pb.publish_at && Math.abs(Date.parse(pb.publish_at) - at) < 60000, 'scheduled, private: ' + JSON.stringify([pb.privacy_status, pb.publish_at]));
      await pub.locator('dd', { hasText: /\d/ }).first().waitFor();
    } else {
      check(pb.privacy_status === 'private' && pb.publish_at === null, 'private, not scheduled');
    }
    const link = pub.getByRole('link', { name: pb.url });
    check(await link.getAttribute('href') === pb.url && pb.url === 'https://www.youtube.com/watch?v=' + pb.youtube_video_id, 'the link is the video\'s: ' + pb.url);
    await pub.getByText(pb.youtube_video_id, { exact: true }).waitFor();
    // The title and tags were kept on the project.
    const proj = (await api(page, 'GET', `/projects/${ids.project}`)).body;
    check(proj.title === title && proj.description === description && JSON.stringify(proj.tags) === JSON.stringify(tags),
      'the project keeps the edited title, description and tags: ' + JSON.stringify([proj.title, proj.description, proj.tags]));
    await screen(page, `publish-${suffix}`);
    await panelShot(pub, `publish-panel-${suffix}`);
    await phoneFits(page, `publish-${suffix}`);
  });

  await step(`${lang}: the published video's numbers by day`, async () => {
    const box = page.locator('section.video-analytics');
    // Nothing collected for the new video yet: said so, with the range.
    await box.getByTestId('no-video-analytics').waitFor();
    await axe(page, `video-analytics-empty-${suffix}`);
    // A backfill of the channel's last week also asks YouTube Analytics for
    // its published videos by day (the fake upload declared this one).
    const bf = await api(page, 'POST', `/channels/${ids.channel}/analytics/backfill`, { from: daysAgo(7), to: daysAgo(1) });
    check(bf.status === 202, 'the backfill is queued: ' + bf.status);
    const days = await until('the video\'s 7 days', async () => {
      const r = await api(page, 'GET', `/projects/${ids.project}/analytics?from=${daysAgo(7)}&to=${daysAgo(1)}`);
      return r.status === 200 && r.body.items.length === 7 ? r.body : null;
    }, 60000);
    const pb = (await api(page, 'GET', `/projects/${ids.project}/publish`)).body;
    check(days.youtube_video_id === pb.youtube_video_id && days.items.every((r) => r.youtube_video_id === pb.youtube_video_id && r.views > 0),
      'the days are the published video\'s: ' + JSON.stringify(days.items[0]));
    check(days.items.every((r) => r.persona_id === ids.persona), 'each day is credited to the persona that wrote the project');
    await page.reload();
    await box.locator('.chart canvas').waitFor();
    // The panel reads the API's default range (28 days to yesterday), which
    // holds the 7 days and nothing else.
    const all = (await api(page, 'GET', `/projects/${ids.project}/analytics`)).body.items;
    check(all.length === 7, 'the default range has the 7 days: ' + all.length);
    const views = all.reduce((a, r) => a + r.views, 0);
    const stat = (name) => box.locator('.stat', { has: page.getByText(name, { exact: true }) }).locator('dd');
    check((await stat(T('analytics.metric.views')).textContent()) === new Intl.NumberFormat(suffix).format(views),
      'the total views are the days\' sum: ' + views);
    check(await box.locator(`.chart[aria-label^="${T('analytics.metric.views')}"]`).count() === 1, 'the chart is of views');
    await box.getByText(T('analytics.showTable')).click();
    check(await box.locator('table tbody tr').count() === 7, 'the table has a row a day');
    const first = await box.locator('table tbody tr').first().locator('td').nth(1).textContent();
    check(first === new Intl.NumberFormat(suffix, { maximumFractionDigits: 2 }).format(all[0].views), `the first day's views are the API's (${first}, ${all[0].views})`);
    await box.getByLabel(T('analytics.metricLabel')).selectOption('watch_time_minutes');
    await box.locator(`.chart[aria-label^="${T('analytics.metric.watch_time_minutes')}"]`).waitFor();
    await panelShot(box, `video-analytics-${suffix}`);
    // A range before the video's days is empty, and said so.
    await box.getByLabel(T('analytics.to'), { exact: true }).fill(daysAgo(20));
    await box.getByLabel(T('analytics.to'), { exact: true }).dispatchEvent('change');
    await box.getByTestId('no-video-analytics').waitFor();
    await box.getByLabel(T('analytics.to'), { exact: true }).fill('');
    await box.getByLabel(T('analytics.to'), { exact: true }).dispatchEvent('change');
    await box.locator('.chart canvas').waitFor();
    await axe(page, `video-analytics-${suffix}`);
  });

  await step(`${lang}: a changed scene makes the video out of date`, async () => {
    const panel = page.locator('section.render');
    const n3 = page.getByRole('textbox', { name: T('projects.narration', { n: 3 }) });
    await n3.fill((await n3.inputValue()) + ' ' + (lang === 'en' ? 'And that is all.' : 'E é isso.'));
    const [saved] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/scenes/')),
      page.getByRole('button', { name: T('projects.saveNarration') }).nth(2).click()]);
    check(saved.status() === 200, 'the narration is saved');
    await panel.locator('.render-state .badge', { hasText: T('render.status.stale') }).waitFor();
    await panel.getByText(T('render.staleWhy')).waitFor();
    await panel.getByRole('button', { name: T('render.again') }).waitFor();
    check(await panel.locator('video').count() === 1, 'the previous video stays in the player');
    check((await api(page, 'GET', `/projects/${ids.project}`)).body.render_status === 'stale', 'the API says stale');
    await axe(page, `render-stale-${suffix}`);
    await panelShot(panel, `render-stale-${suffix}`);
  });

  if (lang === 'en') {
    await step(`${lang}: a render that fails says why, and can be asked for again`, async () => {
      const panel = page.locator('section.render');
      // Scene 3 narrated again: every scene is ready, so Render again is offered.
      await page.getByRole('button', { name: T('projects.narrateScene') }).nth(2).click();
      await page.waitForFunction((done) => {
        const b = [...document.querySelectorAll('.scene .audio-status .badge')];
        return b.length === 3 && b.every((x) => x.textContent === done) && !document.querySelector('.render .actions button').disabled;
      }, T('audio.COMPLETED'), { timeout: 60000 });
      const again = panel.getByRole('button', { name: T('render.again') });
      // Scene 1's WAV is lost from the store: the render fails for a missing
      // input, with the reason.
      const before = (await api(page, 'GET', `/projects/${ids.project}`)).body;
      seeder('lose-media', ids.project, before.scenes[0].audio.wav.split('/').pop());
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/render')),
        again.click()]);
      check(res.status() === 202, 'rendering again is accepted, not ' + res.status());
      await panel.locator('.render-state .badge', { hasText: new RegExp('^' + T('render.status.failed') + '$') }).waitFor({ timeout: 120000 });
      const p = (await api(page, 'GET', `/projects/${ids.project}`)).body;
      check(p.render_status === 'failed' && p.render_error, 'the API says failed, with a reason: ' + p.render_error);
      const alert = panel.getByRole('alert');
      await alert.filter({ hasText: T('render.failedWhy') }).waitFor();
      check((await alert.textContent()).includes(p.render_error), 'the panel shows the API\'s reason');
      await again.waitFor();
      check(!(await again.isDisabled()), 'rendering again is offered');
      check(await panel.locator('video').count() === 1, 'the previous video stays in the player');
      await axe(page, `render-failed-${suffix}`);
      await panelShot(panel, `render-failed-${suffix}`);
    });
  }

  await step(`${lang}: the leaderboard and a persona's performance`, async () => {
    await page.getByRole('link', { name: T('nav.analytics') }).click();
    await page.getByRole('heading', { name: T('analytics.leaderboard') }).waitFor();
    await page.locator('table.leaderboard').or(page.getByTestId('leaderboard-empty')).first().waitFor();
    await page.getByLabel(T('analytics.rankBy')).selectOption('watch_minutes_per_view');
    await page.locator('table.leaderboard').or(page.getByTestId('leaderboard-empty')).first().waitFor();
    await screen(page, `leaderboard-${suffix}`);
    await phoneFits(page, `leaderboard-${suffix}`);
    await page.goto(`${BASE}/#/analytics/personas/${ids.persona}`);
    await page.getByRole('heading', { name: T('analytics.health') }).waitFor();
    check(await page.getByRole('row', { name: new RegExp('^' + T('analytics.pmetric.views_per_day')) }).count() === 1, 'the performance table has views per day');
    await screen(page, `persona-performance-${suffix}`);
    await phoneFits(page, `persona-performance-${suffix}`);
  });

  await step(`${lang}: compare and restore a persona version`, async () => {
    await page.goto(`${BASE}/#/personas/${ids.persona}`);
    await page.getByRole('heading', { name: T('personas.history') }).waitFor();
    // Its usage: the project's script and the scene rewrite were written by
    // this persona (the channel's), as the API counts them.
    const usage = (await api(page, 'GET', `/personas/${ids.persona}/usage`)).body;
    check(usage.attempts === 2, 'the API counts two generations, not ' + usage.attempts);
    await page.locator('.stat', { hasText: T('personas.attempts') }).locator('dd', { hasText: /^2$/ }).waitFor();
    check(await page.getByRole('link', { name: T('personas.performanceLink') }).getAttribute('href') === `#/analytics/personas/${ids.persona}`, 'the editor links to the persona\'s performance');
    await page.getByRole('button', { name: T('personas.compare', { version: 2 }) }).click();
    const diff = page.locator('table.diff');
    await diff.waitFor();
    check(await diff.locator('th[scope=row]', { hasText: 'temperature' }).count() === 1, 'the diff shows the temperature change');
    await screen(page, `persona-diff-${suffix}`);
    await phoneFits(page, `persona-diff-${suffix}`);
    await page.getByRole('button', { name: T('personas.restore') }).click();
    await page.locator('.history strong', { hasText: 'v3' }).waitFor();
    check(await page.getByLabel(T('personas.temperature')).inputValue() === '0.6', 'version 1 restored as version 3');
  });

  await step(`${lang}: export the persona as a preset and import it`, async () => {
    await page.goto(`${BASE}/#/personas/${ids.persona}`);
    await page.getByRole('heading', { name: T('personas.history') }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: T('personas.export') }).click()]);
    const file = await download.path();
    const preset = JSON.parse(readFileSync(file, 'utf8'));
    const source = (await api(page, 'GET', `/personas/${ids.persona}`)).body;
    check(preset.name === source.name && preset.system_instruction === source.system_instruction, 'the preset carries the persona');
    await page.getByRole('navigation').getByRole('link', { name: T('nav.personas'), exact: true }).click();
    await page.getByText(T('personas.importTitle')).click();
    await page.getByLabel(T('personas.presetFile')).setInputFiles(file);
    await page.waitForFunction((label) => {
      const el = [...document.querySelectorAll('textarea')].find((x) => x.labels[0] && x.labels[0].textContent === label);
      return el && el.value.length > 0;
    }, T('personas.presetText'));
    await screen(page, `persona-import-${suffix}`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/personas/import')),
      page.getByRole('button', { name: T('personas.import') }).click()]);
    check(res.status() === 201, 'the import is answered 201, not ' + res.status());
    const created = await res.json();
    await page.waitForURL(new RegExp(`#/personas/${created.id}$`));
    await page.getByRole('heading', { name: source.name }).waitFor();
    check(created.id !== ids.persona && created.type === 'CUSTOM', 'the import is a new persona of ours');
    const copy = (await api(page, 'GET', `/personas/${created.id}`)).body;
    check(copy.system_instruction === source.system_instruction && copy.temperature === source.temperature, 'the imported persona has the preset\'s settings');
    // A preset that is not JSON is refused in the page, named as such.
    await page.getByRole('navigation').getByRole('link', { name: T('nav.personas'), exact: true }).click();
    await page.getByText(T('personas.importTitle')).click();
    await page.getByLabel(T('personas.presetText')).fill('{not json');
    await page.getByRole('button', { name: T('personas.import') }).click();
    await page.getByRole('alert').filter({ hasText: T('personas.presetNotJson') }).waitFor();
  });

  await step(`${lang}: the account counts this month's project and generations`, async () => {
    await page.getByRole('link', { name: T('nav.account') }).click();
    const row = (k) => page.getByRole('row', { name: new RegExp('^' + T(k)) });
    await row('account.projects').getByRole('cell').first().filter({ hasText: /^1$/ }).waitFor();
    // The project's script and the scene rewrite: two generations.
    check((await row('account.generations').getByRole('cell').first().textContent()) === '2', 'two generations counted');
  });

  await step(`${lang}: the Activity screen lists what this journey did`, async () => {
    const google = (await api(page, 'GET', '/google/accounts')).body.items[0];
    const channel = (await api(page, 'GET', `/channels/${ids.channel}`)).body;
    await page.getByRole('link', { name: T('nav.activity') }).click();
    await page.getByRole('heading', { name: T('audit.title') }).waitFor();
    const rows = page.locator('table.audit tbody tr');
    const row = (action, sentence) => page.locator(`table.audit tbody tr[data-action="${action}"]`, { has: page.getByRole('cell', { name: sentence, exact: true }) });
    // What this journey caused, each as its sentence, by "you", from the
    // loopback address the browser came from.
    const signup = row('auth.signup', T('audit.says.auth.signup'));
    await signup.waitFor();
    check(await signup.getByRole('cell', { name: T('audit.actor.you'), exact: true }).count() === 1, 'the sign-up was done by you');
    check(await signup.getByRole('cell', { name: '127.0.0.1', exact: true }).count() === 1, 'the sign-up shows its address');
    await row('google.connected', T('audit.says.google.connected', { email: google.email })).waitFor();
    await row('channel.persona_switched', T('audit.says.channel.switched', { channel: channel.name, persona: personaName })).waitFor();
    await row('persona.restored', T('audit.says.persona.restored', { name: personaName, from: 1, to: 3 })).waitFor();
    // The persona's markup-like name is text in the sentence, never markup.
    check(await page.locator('table.audit b, table.audit i').count() === 0, 'no markup from a name in the table');
    // Newest first, as the API lists them, each time in the page's language.
    const api1 = (await api(page, 'GET', '/audit?limit=50')).body.items;
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
    check(JSON.stringify(shown) === JSON.stringify(api1.map((e) => e.action)), `the rows are the API's events in its order: ${shown} / ${api1.map((e) => e.action)}`);
    // (Spaces compared loosely: Chromium's ICU and Node's may differ in which space goes before AM.)
    const time = rows.first().locator('time');
    check(await time.getAttribute('datetime') === api1[0].occurred_at, 'the row carries the event\'s time');
    const when = (await time.textContent()).replace(/\s+/g, ' ');
    const want = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(api1[0].occurred_at)).replace(/\s+/g, ' ');
    check(when === want, `the time is in the page's language: ${when} / ${want}`);
    await screen(page, `activity-${suffix}`);
    await phoneFits(page, `activity-${suffix}`);

    // More than a page: 25 API keys made and revoked through the API (50
    // events); "Load more" brings the rest, and every event is listed once.
    for (let i = 0; i < 25; i++) {
      const k = await api(page, 'POST', '/api-keys', { name: i === 0 ? 'ci' : `key ${i}` });
      check(k.status === 201, 'an API key is created: ' + k.status);
      check((await api(page, 'DELETE', `/api-keys/${k.body.id}`)).status === 204, 'the key is revoked');
    }
    let all = [];
    for (let cursor = null, first = true; first || cursor; first = false) {
      const pg = (await api(page, 'GET', '/audit?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''))).body;
      all = all.concat(pg.items);
      cursor = pg.next_cursor;
    }
    check(all.length > 50, 'more than a page of events: ' + all.length);
    ids.events = all.map((e) => e.id);
    await page.reload();
    await until('the first page', async () => (await rows.count()) === 50);
    await page.getByRole('button', { name: T('audit.more') }).click();
    await until('every event', async () => (await rows.count()) === all.length);
    const ids2 = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')));
    check(JSON.stringify(ids2) === JSON.stringify(all.map((e) => e.action)), 'both pages together are the whole trail in order');
    await row('apikey.created', T('audit.says.apikey.created', { name: 'ci' })).waitFor();
    check(await page.getByRole('button', { name: T('audit.more') }).count() === 0, 'no more to load after the last page');

    // Filters: one group of actions, and a range of days.
    await page.getByLabel(T('audit.group')).selectOption({ label: T('audit.groups.persona') });
    await page.getByRole('button', { name: T('audit.apply') }).click();
    await until('only persona events', async () => {
      const a = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
      return a.length === 1 && a[0] === 'persona.restored';
    });
    const local = (n) => { const d = new Date(Date.now() + n * 86400000); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
    await page.getByLabel(T('audit.group')).selectOption({ label: T('audit.groups.all') });
    await page.getByLabel(T('audit.from'), { exact: true }).fill(local(1));
    await page.getByLabel(T('audit.to'), { exact: true }).fill(local(2));
    await page.getByRole('button', { name: T('audit.apply') }).click();
    await page.getByText(T('audit.none')).waitFor();
    await page.getByLabel(T('audit.from'), { exact: true }).fill(local(-1));
    await page.getByLabel(T('audit.to'), { exact: true }).fill(local(0));
    await page.getByLabel(T('audit.group')).selectOption({ label: T('audit.groups.channel') });
    await page.getByRole('button', { name: T('audit.apply') }).click();
    await until('today\'s channel events', async () => {
      const a = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
      return a.length === 1 && a[0] === 'channel.persona_switched';
    });
    check(await page.getByRole('checkbox', { name: T('audit.allUsers') }).count() === 0, 'no All users switch for a user');
  });

  await step(`${lang}: sign out`, async () => {
    await page.getByRole('button', { name: T('nav.signout') }).click();
    await page.getByRole('heading', { name: T('auth.signinTitle') }).waitFor();
    await screen(page, `signin-${suffix}`);
  });

  if (problems.length) {
    failed++;
    console.log(`FAIL ${lang}: the page reported problems:\n  ${problems.join('\n  ')}`);
  }
  await ctx.close();
  return ids;
}

// The optimizer with a history: a new account imports its channel, gets two
// personas with 30 days each (the assignments backdated by the seeder, the
// days imported as a Studio CSV through the API), and the optimizer's real
// suggestion is on the channel's screen. In English it is dismissed, the
// channel goes to automatic mode, the real optimizer job switches it and the
// switch is reverted; in Portuguese it is accepted. Each click is checked
// through the API. Then Backfill, on days before the import's 90.
async function optimizer(browser, lang, email) {
  const { M, T, suffix, ctx, page, problems } = await session(browser, lang);
  let channel;
  const best = lang === 'en' ? 'Storyteller' : 'Contadora';
  const current = lang === 'en' ? 'Lecturer' : 'Palestrante';
  const ids = {};

  await step(`${lang}: optimizer: an account with a channel and two personas with history`, async () => {
    await page.goto(BASE + '/#/signup');
    if (lang !== 'en') await page.getByLabel(msg(en, 'nav.language')).selectOption('pt-BR');
    await page.getByLabel(T('auth.email')).fill(email);
    await page.getByLabel(T('auth.password')).fill(PASSWORD);
    await page.getByRole('button', { name: T('auth.signup') }).click();
    await page.getByRole('heading', { name: T('account.title') }).waitFor();
    await page.getByRole('link', { name: T('nav.google') }).click();
    await page.getByRole('button', { name: T('google.connect') }).click();
    await page.waitForURL(/\/google\/connected$/);
    await page.getByRole('link', { name: /Persona Studio dashboard/ }).click();
    await page.getByRole('button', { name: T('google.discover') }).first().click();
    await page.locator('.discover input[type=checkbox]').first().check();
    await page.getByRole('button', { name: T('google.import_one', { count: 1 }) }).click();
    await page.getByText(T('google.importDone')).waitFor();
    channel = (await api(page, 'GET', '/channels')).body.items[0].id;
    for (const [k, name] of [['best', best], ['current', current]]) {
      const r = await api(page, 'POST', '/personas', { name, system_instruction: `Speak as ${name}.`, language: 'en' });
      check(r.status === 201, 'persona created: ' + r.status);
      ids[k] = r.body.id;
    }
    // Importing the channel backfills its last 90 days from the fake Google:
    // wait for all of them, so they do not land over the CSV's.
    await until('the import\'s 90-day backfill', async () => {
      const r = await api(page, 'GET', `/channels/${channel}/analytics?period=DAY&from=${daysAgo(90)}&to=${daysAgo(1)}`);
      return r.status === 200 && r.body.items.length === 90;
    }, 60000);
    seeder('seed-history', channel, ids.best, ids.current);
    const imp = await api(page, 'POST', `/channels/${channel}/analytics/import`, historyCsv());
    check(imp.status === 200 && imp.body.rejected.length === 0, 'the 60-day history is imported: ' + JSON.stringify(imp.body));
  });

  await step(`${lang}: optimizer: the suggestion and its evidence`, async () => {
    await page.goto(`${BASE}/#/channels/${channel}`);
    const card = page.locator('.suggestion');
    await card.waitFor();
    check(await card.getByText(best, { exact: true }).count() === 1, 'the suggestion proposes the better persona');
    // Personas with no day anywhere show no figures, only "no data yet".
    const bestRow = page.getByRole('row', { name: new RegExp('^' + best) });
    await bestRow.waitFor();
    check(await bestRow.getByText(T('optimizer.noData')).count() === 0, 'the persona with days shows its figures');
    const empty = await page.locator('td', { hasText: T('optimizer.noData') }).count();
    const cand = (await api(page, 'GET', `/channels/${channel}/suggestions`)).body;
    const none = cand.personas.filter((x) => x.channel_days + x.owner_days + x.global_days === 0).length;
    check(empty === none, `"no data yet" on each candidate without days (${empty} shown, ${none} in the API)`);
    // The figures are in the objective's units (views a day, about 1,000
    // for the better persona's first 30 days), in the page's language, not
    // the model's log (decision 130).
    const back = { views_per_day: Math.expm1, average_view_percentage: Math.expm1, watch_minutes_per_impression: Math.exp, subscribers_net: (x) => x }[cand.objective_used];
    check(back && cand.objective_scale === (cand.objective_used === 'subscribers_net' ? 'linear' : 'log'), 'the objective\'s scale is named: ' + cand.objective_used);
    const fig = cand.personas.find((x) => x.persona_id === ids.best);
    check(Math.abs(fig.typical - back(fig.mean)) <= 1e-6 * Math.max(1, Math.abs(fig.typical)),
      'the better persona\'s typical day is its mean back in the objective\'s units: ' + JSON.stringify(fig));
    if (cand.objective_used === 'views_per_day') check(fig.typical > 500 && fig.typical < 2000, 'about 1,000 views a day: ' + fig.typical);
    const est = (n) => new Intl.NumberFormat(lang, Math.abs(n) >= 100 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 3 }).format(n);
    const cells = await bestRow.getByRole('cell').allTextContents();
    check(cells.includes(est(fig.typical)) && cells.includes(`${est(fig.typical_lo95)} – ${est(fig.typical_hi95)}`),
      `the row shows ${est(fig.typical)} and ${est(fig.typical_lo95)} – ${est(fig.typical_hi95)}: ${JSON.stringify(cells)}`);
    await page.getByRole('columnheader', { name: T('optimizer.typical') }).first().waitFor();
    ids.suggestion = cand.suggestion.id;
    check(cand.suggestion.persona_id === ids.best, 'the API proposes the same persona');
    await screen(page, `channel-suggestion-${suffix}`);
    await phoneFits(page, `channel-suggestion-${suffix}`);
  });

  if (lang === 'en') {
    await step(`${lang}: optimizer: dismiss, an automatic switch, and revert it`, async () => {
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/dismiss')),
        page.getByRole('button', { name: T('optimizer.dismiss') }).click()]);
      check(res.status() === 200, 'the dismissal is answered 200, not ' + res.status());
      await page.getByTestId('optimizer-why').waitFor();
      const after = (await api(page, 'GET', `/channels/${channel}/suggestions`)).body;
      check(after.suggestion === null, 'no suggestion is offered after the dismissal');
      check((await api(page, 'GET', `/channels/${channel}`)).body.persona_id === ids.current, 'dismissing leaves the persona');
      await page.getByLabel(T('optimizer.mode')).selectOption('auto');
      await page.getByText(T('optimizer.modeHint.auto')).waitFor();
      check((await api(page, 'GET', `/channels/${channel}`)).body.optimization_mode === 'auto', 'the channel is in auto mode');
      // The daily job's run for this channel, queued now; the server runs it.
      seeder('run-optimizer', channel);
      const sw = await until('the optimizer\'s switch', async () => {
        const items = (await api(page, 'GET', `/channels/${channel}/assignments`)).body.items;
        return items.find((a) => a.source === 'optimizer');
      }, 30000);
      check(sw.persona_id === ids.best && sw.evidence, 'the optimizer switched to the better persona, with its evidence');
      await page.reload();
      const row = page.locator('.timeline li', { hasText: T('channels.source.optimizer') });
      await row.waitFor();
      await screen(page, `channel-switch-${suffix}`);
      const [rv] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/revert')),
        row.getByRole('button', { name: T('optimizer.revert') }).click()]);
      check(rv.status() === 200 || rv.status() === 201, 'the revert is answered 2xx, not ' + rv.status());
      const [pre, post] = M.optimizer.paused.split('{{date}}').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      await page.getByText(new RegExp(pre + '.+' + post)).waitFor();
      const ch = (await api(page, 'GET', `/channels/${channel}`)).body;
      check(ch.persona_id === ids.current, 'the revert restored the previous persona');
      const sg = (await api(page, 'GET', `/channels/${channel}/suggestions`)).body;
      check(sg.optimizer.paused_at, 'the revert paused automatic mode');
      check(await page.getByRole('button', { name: T('optimizer.revert') }).count() === 0, 'the revert is not offered again');
    });
  } else {
    await step(`${lang}: optimizer: accept the suggestion`, async () => {
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/accept')),
        page.getByRole('button', { name: T('optimizer.accept') }).click()]);
      check(res.status() === 200 || res.status() === 201, 'the acceptance is answered 2xx, not ' + res.status());
      await page.locator('.timeline li', { hasText: T('optimizer.accepted') }).waitFor();
      const ch = (await api(page, 'GET', `/channels/${channel}`)).body;
      check(ch.persona_id === ids.best, 'accepting switched the channel to the proposed persona');
      const items = (await api(page, 'GET', `/channels/${channel}/assignments`)).body.items;
      check(items.some((a) => a.suggestion_id === ids.suggestion && a.persona_id === ids.best), 'the assignment names the suggestion');
      await screen(page, `channel-accepted-${suffix}`);
    });
  }

  await step(`${lang}: optimizer: backfill days before the import's`, async () => {
    const from = daysAgo(120);
    const to = daysAgo(100);
    const none = (await api(page, 'GET', `/channels/${channel}/analytics?period=DAY&from=${from}&to=${to}`)).body.items.length;
    check(none === 0, 'no days that old before the backfill');
    const form = page.locator('form', { has: page.getByRole('button', { name: T('analytics.backfill') }) });
    await form.getByLabel(T('analytics.from')).fill(from);
    await form.getByLabel(T('analytics.to')).fill(to);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/analytics/backfill')),
      form.getByRole('button', { name: T('analytics.backfill') }).click()]);
    check(res.status() === 202, 'the backfill is queued: ' + res.status());
    await form.getByRole('status').waitFor();
    await until('the backfilled days', async () => {
      const r = await api(page, 'GET', `/channels/${channel}/analytics?period=DAY&from=${from}&to=${to}`);
      return r.body.items.length === 21;
    }, 60000);
    await screen(page, `channel-backfill-${suffix}`);
  });

  if (lang === 'en') {
    await step(`${lang}: Google access revoked, the account needs reconnecting, and Reconnect`, async () => {
      const account = (await api(page, 'GET', '/google/accounts')).body.items[0];
      check(account.status === 'active', 'the account starts active');
      // The person revokes the app at Google (the launcher's fake forgets
      // every token); the next call to Google finds out.
      process.kill(process.ppid, 'SIGUSR1');
      await until('the account to need reconnecting', async () => {
        await api(page, 'GET', `/google/accounts/${account.id}/channels`);
        return (await api(page, 'GET', '/google/accounts')).body.items[0].status === 'needs_reconnect';
      });
      await page.goto(`${BASE}/#/channels`);
      await page.locator('.card .badge', { hasText: T('google.status.needs_reconnect') }).waitFor();
      await page.locator('.card a').first().click();
      await page.getByRole('alert').filter({ hasText: T('channels.needsReconnect') }).waitFor();
      await page.goto(`${BASE}/#/google`);
      await page.getByText(T('google.reconnectWhy')).waitFor();
      check(await page.getByRole('button', { name: T('google.discover') }).count() === 0, 'no discovery while the account needs reconnecting');
      await screen(page, `google-reconnect-${suffix}`);
      await page.getByRole('button', { name: T('google.reconnect') }).click();
      await page.waitForURL(/\/google\/connected$/);
      await page.getByRole('link', { name: /Persona Studio dashboard/ }).click();
      await page.getByText(T('google.status.active')).first().waitFor();
      const again = (await api(page, 'GET', '/google/accounts')).body.items;
      check(again.length === 1 && again[0].id === account.id && again[0].status === 'active', 'the same account is active again');
      check((await api(page, 'GET', `/google/accounts/${account.id}/channels`)).status === 200, 'Google answers again');
    });
  }

  if (problems.length) {
    failed++;
    console.log(`FAIL ${lang} optimizer: the page reported problems:\n  ${problems.join('\n  ')}`);
  }
  await ctx.close();
}

async function stranger(browser, owned) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  const T = (k, v) => msg(en, k, v);
  await step('a second user sees none of the first user\'s data', async () => {
    await page.goto(BASE + '/#/signup');
    await page.getByLabel(T('auth.email')).fill('stranger@example.com');
    await page.getByLabel(T('auth.password')).fill(PASSWORD);
    await page.getByRole('button', { name: T('auth.signup') }).click();
    await page.getByRole('heading', { name: T('account.title') }).waitFor();
    await page.goto(BASE + '/#/channels');
    await page.getByText(T('channels.none')).waitFor();
    await page.goto(BASE + '/#/projects');
    await page.getByText(T('projects.none')).waitFor();
    await page.goto(BASE + '/#/personas');
    await page.getByText(T('personas.noneYours')).waitFor();
    await page.goto(BASE + '/#/google');
    await page.getByText(T('google.none')).waitFor();
    // The first user's video and publication are not there either.
    for (const [method, path] of [['GET', `/projects/${owned.project}/publish`], ['POST', `/projects/${owned.project}/publish`],
      ['POST', `/projects/${owned.project}/render`], ['GET', `/projects/${owned.project}/media/video.mp4`],
      ['GET', `/projects/${owned.project}/media/thumbnail.png`], ['GET', `/projects/${owned.project}/analytics`]]) {
      const body = method === 'POST' ? (path.endsWith('/publish') ? { privacy_status: 'private', made_for_kids: false } : {}) : undefined;
      const r = await page.request.fetch(BASE + '/api/v1' + path, {
        method,
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': ((await page.context().cookies()).find((c) => c.name === 'pstudio_csrf') || {}).value || '' },
        data: body === undefined ? undefined : JSON.stringify(body),
      });
      check(r.status() === 404, `${method} ${path} is a 404 for another user, not ${r.status()}`);
    }
    for (const path of [`projects/${owned.project}`, `channels/${owned.channel}`, `personas/${owned.persona}`, `analytics/personas/${owned.persona}`]) {
      await page.goto(`${BASE}/#/${path}`);
      await page.getByRole('alert').waitFor();
      check((await page.getByRole('alert').textContent()).includes('Not found'), `${path} is a 404 for another user`);
    }
    // Their Activity is their own sign-up alone; everyone's is not theirs to read.
    await page.goto(`${BASE}/#/activity`);
    await page.getByRole('heading', { name: T('audit.title') }).waitFor();
    const rows = page.locator('table.audit tbody tr');
    await rows.first().waitFor();
    const actions = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.action));
    check(JSON.stringify(actions) === '["auth.signup"]', 'the second user\'s Activity is their sign-up only: ' + actions);
    const mine = await (await page.request.get(BASE + '/api/v1/audit')).json();
    check(mine.items.every((e) => e.subject_user_id === mine.items[0].subject_user_id && !owned.events.includes(e.id)), 'the API lists none of the first user\'s events');
    check((await page.request.get(BASE + '/api/v1/admin/audit')).status() === 403, 'everyone\'s trail is refused to a user');
    await axe(page, 'activity-stranger');
  });
  await step('an administrator reads every user\'s Activity, one user at a time', async () => {
    // An administrator made as an operator would, with the real command line
    // (the password on standard input).
    execFileSync(process.env.PSTUDIO_WEB_PSTUDIO, ['admin', 'user', 'create', '--admin', '--email', 'admin@example.com'],
      { input: PASSWORD + '\n', stdio: ['pipe', 'ignore', 'inherit'] });
    await page.getByRole('button', { name: T('nav.signout') }).click();
    await page.goto(BASE + '/#/signin');
    await page.getByLabel(T('auth.email')).fill('admin@example.com');
    await page.getByLabel(T('auth.password')).fill(PASSWORD);
    await page.getByRole('button', { name: T('auth.signin') }).click();
    await page.getByRole('heading', { name: T('account.title') }).waitFor();
    await page.goto(`${BASE}/#/activity`);
    await page.getByRole('checkbox', { name: T('audit.allUsers') }).check();
    await page.getByLabel(T('audit.user'), { exact: true }).selectOption({ label: 'you@example.com' });
    // Their sign-up is older than their first page: the sign-ins only.
    await page.getByLabel(T('audit.group')).selectOption({ label: T('audit.groups.auth') });
    await page.getByRole('button', { name: T('audit.apply') }).click();
    const signup = page.locator('table.audit tbody tr[data-action="auth.signup"]');
    await signup.waitFor();
    check(await signup.getByRole('cell', { name: 'you@example.com', exact: true }).count() === 1, 'the event names whose trail it is');
    check(await signup.getByRole('cell', { name: T('audit.actor.user'), exact: true }).count() === 1, 'the actor is a user, not the admin');
    const subjects = await page.locator('table.audit tbody tr td:nth-child(2)').allTextContents();
    check(subjects.length > 1 && subjects.every((x) => x === 'you@example.com'), 'only that user\'s events: ' + [...new Set(subjects)]);
    await screen(page, 'activity-admin');
  });
  await ctx.close();
}

async function phone(browser) {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'pt-BR', isMobile: true, hasTouch: true });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  const T = (k, v) => msg(ptBR, k, v);
  await step('phone width (390 px): no sideways scrolling', async () => {
    await page.goto(BASE + '/#/signin');
    await page.getByLabel(T('auth.email')).fill('stranger@example.com');
    await page.getByLabel(T('auth.password')).fill(PASSWORD);
    await page.getByRole('button', { name: T('auth.signin') }).click();
    await page.getByRole('heading', { name: T('account.title') }).waitFor();
    for (const [path, heading] of [['', 'account.title'], ['personas', 'personas.systemTitle'], ['projects/new', 'projects.new'], ['analytics', 'analytics.leaderboard']]) {
      await page.goto(`${BASE}/#/${path}`);
      await page.getByRole('heading', { name: T(heading) }).waitFor();
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      check(wide <= 390, `#/${path} is ${wide} px wide at 390 px`);
      await screen(page, `phone-${path.replace('/', '-') || 'account'}`);
    }
  });
  await ctx.close();
}

const browser = await chromium.launch({
  executablePath: process.env.PSTUDIO_CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const owned = await journey(browser, 'en', 'you@example.com');
  await journey(browser, 'pt-BR', 'voce@example.com');
  await optimizer(browser, 'en', 'optimizer@example.com');
  await optimizer(browser, 'pt-BR', 'otimizador@example.com');
  await stranger(browser, owned);
  await phone(browser);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
