// Signing in and up, and the account screen: the plan, its limits and this
// month's usage.
import { html, useState, useEffect } from './ui.js';
import { t, fmtNumber } from './i18n.js';
import { post, get } from './api.js';
import { Field, ErrorBox, useAction, useLoad, Loading } from './components.js';
import { navigate } from './nav.js';

export function SignIn({ mode, onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const act = useAction();
  const signup = mode === 'signup';
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      await post(signup ? '/auth/signup' : '/auth/login', { email, password });
      navigate('');
      onSignedIn();
    });
  };
  return html`<section class="narrow">
    <h1>${signup ? t('auth.signupTitle') : t('auth.signinTitle')}</h1>
    <form onSubmit=${submit}>
      <${Field} label=${t('auth.email')} type="email" autocomplete="email" required
        value=${email} onInput=${(e) => setEmail(e.target.value)} />
      <${Field} label=${t('auth.password')} type="password" required minlength="8"
        autocomplete=${signup ? 'new-password' : 'current-password'}
        hint=${signup ? t('auth.passwordHint') : undefined}
        value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <${ErrorBox} error=${act.error} />
      <button type="submit" disabled=${act.busy}>${signup ? t('auth.signup') : t('auth.signin')}</button>
    </form>
    <p>${signup
    ? html`${t('auth.haveAccount')} <a href="#/signin">${t('auth.signin')}</a>`
    : html`${t('auth.noAccount')} <a href="#/signup">${t('auth.signup')}</a>`}</p>
  </section>`;
}

function Limit({ label, used, max }) {
  return html`<tr><th scope="row">${label}</th>
    <td>${used === undefined ? '—' : fmtNumber(used)}</td>
    <td>${max === null || max === undefined ? t('account.unlimited') : fmtNumber(max)}</td></tr>`;
}

// The plan's name from GET /plans (the account's own answer has only its
// code), the code while it loads or when the plan is not listed.
function PlanName({ plan }) {
  const plans = useLoad(() => get('/plans'), []);
  const found = plans.data && plans.data.items.find((x) => x.id === plan.id);
  return html`<span class="plan" data-plan=${plan.code}>${found ? found.name : plan.code}</span>`;
}

export function Account({ me, refreshMe }) {
  // The usage shown is this visit's, not the sign-in's.
  useEffect(() => { refreshMe(); }, []);
  const counts = useLoad(async () => {
    const ch = await get('/channels?limit=100');
    // Projects created since the 1st of this month (UTC), newest first:
    // paging stops at the first older one.
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
    let projects = 0;
    let cursor = null;
    for (;;) {
      const page = await get('/projects?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      const recent = page.items.filter((p) => p.created_at >= monthStart).length;
      projects += recent;
      cursor = page.next_cursor;
      if (!cursor || recent < page.items.length) break;
    }
    return { channels: ch.items.length, projects };
  }, []);
  const plan = me.plan || {};
  return html`<section>
    <h1>${t('account.title')}</h1>
    <p>${t('account.signedInAs')} <strong>${me.email}</strong></p>
    <h2>${t('account.plan')}: <${PlanName} plan=${plan} /></h2>
    <${Loading} state=${counts}>${() => html`
      <table class="limits">
        <caption class="sr-only">${t('account.usageCaption')}</caption>
        <thead><tr><th scope="col">${t('account.limit')}</th><th scope="col">${t('account.used')}</th><th scope="col">${t('account.max')}</th></tr></thead>
        <tbody>
          <${Limit} label=${t('account.channels')} used=${counts.data.channels} max=${plan.max_channels} />
          <${Limit} label=${t('account.generations')} used=${me.usage ? me.usage.generations_this_month : undefined} max=${plan.max_generations_per_month} />
          <${Limit} label=${t('account.projects')} used=${counts.data.projects} max=${plan.max_projects_per_month} />
        </tbody>
      </table>`}
    <//>
    <p class="hint">${t('account.monthNote')}</p>
  </section>`;
}
