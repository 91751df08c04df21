// The dashboard's shell: who is signed in, the navigation, the language
// switch, and hash routing (#/channels/<id>): the screens live in the URL
// fragment, so the server serves one page and never needs to know them.
import { html, render, useState, useEffect, useRef } from './ui.js';
import { initI18n, setLanguage, t, lang, LANGUAGES } from './i18n.js';
import { get, post, closeEvents } from './api.js';
import { navigate } from './nav.js';
import { SignIn, Account } from './screens-account.js';
import { Google } from './screens-google.js';
import { Channels, ChannelDetail } from './screens-channels.js';
import { Personas, PersonaEditor } from './screens-personas.js';
import { Projects, NewProject, ProjectDetail } from './screens-projects.js';
import { Leaderboard, PersonaPerformance } from './screens-analytics.js';
import { Activity } from './screens-audit.js';

// Routes: a pattern of literal segments and :params, and its screen. A
// channel's analytics and optimizer are in its own screen (channels/:id).
const ROUTES = [
  ['', Account],
  ['google', Google],
  ['channels', Channels],
  ['channels/:id', ChannelDetail],
  ['personas', Personas],
  ['personas/new', PersonaEditor],
  ['personas/:id', PersonaEditor],
  ['projects', Projects],
  ['projects/new', NewProject],
  ['projects/:id', ProjectDetail],
  ['analytics', Leaderboard],
  ['analytics/personas/:id', PersonaPerformance],
  ['activity', Activity],
];

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { segs: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

function match(segs) {
  // Literal segments beat params: personas/new before personas/:id.
  for (const [pattern, screen] of ROUTES) {
    const ps = pattern.split('/').filter(Boolean);
    if (ps.length !== segs.length) continue;
    const params = {};
    if (ps.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = segs[i]), true) : p === segs[i])))
      return { screen, params };
  }
  return null;
}


const NAV = [['', 'nav.account'], ['google', 'nav.google'], ['channels', 'nav.channels'],
  ['personas', 'nav.personas'], ['projects', 'nav.projects'], ['analytics', 'nav.analytics'],
  ['activity', 'nav.activity']];

function App() {
  const [me, setMe] = useState(undefined); // undefined: asking; null: signed out
  const [route, setRoute] = useState(parseHash());
  const [, setLang] = useState(lang());
  const mainRef = useRef(null);

  const refreshMe = () => get('/me').then(setMe, () => setMe(null));
  useEffect(() => { refreshMe(); }, []);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  // A new screen takes the focus, so keyboard and screen-reader users start there.
  useEffect(() => { if (mainRef.current) mainRef.current.focus(); }, [route.segs.join('/')]);

  const changeLang = async (e) => { await setLanguage(e.target.value); setLang(e.target.value); };
  const signOut = async () => {
    try { await post('/auth/logout'); } catch { /* the session is gone either way */ }
    closeEvents();
    setMe(null);
    navigate('');
  };

  const langSelect = html`<label class="lang"><span class="sr-only">${t('nav.language')}</span>
    <select aria-label=${t('nav.language')} onChange=${changeLang} value=${lang()}>
      ${LANGUAGES.map((l) => html`<option value=${l.code}>${l.name}</option>`)}
    </select></label>`;

  if (me === undefined) return html`<p class="loading" role="status">${t('common.loading')}</p>`;
  if (me === null) {
    return html`<header class="top"><span class="brand">Persona Studio</span>${langSelect}</header>
      <main id="main" tabindex="-1" ref=${mainRef}>
        <${SignIn} mode=${route.segs[0] === 'signup' ? 'signup' : 'signin'} onSignedIn=${refreshMe} />
      </main>`;
  }
  // Signed in, the sign-in and sign-up addresses lead to the account.
  const m = ['signin', 'signup'].includes(route.segs[0]) ? match([]) : match(route.segs);
  const current = route.segs[0] || '';
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); mainRef.current.focus(); }}>${t('nav.skip')}</a>
    <header class="top">
      <span class="brand">Persona Studio</span>
      <nav aria-label=${t('nav.main')}>
        <ul>${NAV.map(([p, k]) => html`<li><a href=${'#/' + p} aria-current=${current === p ? 'page' : undefined}>${t(k)}</a></li>`)}</ul>
      </nav>
      <div class="who">
        <span class="muted">${me.email}</span>
        ${langSelect}
        <button type="button" class="secondary" onClick=${signOut}>${t('nav.signout')}</button>
      </div>
    </header>
    <main id="main" tabindex="-1" ref=${mainRef}>
      ${m ? html`<${m.screen} key=${route.segs.join('/')} ...${m.params} query=${route.query} me=${me} refreshMe=${refreshMe} />`
    : html`<h1>${t('common.notFound')}</h1><p><a href="#/">${t('nav.account')}</a></p>`}
    </main>`;
}

await initI18n();
render(html`<${App} />`, document.getElementById('app'));
