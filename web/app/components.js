// Small pieces every screen uses: labelled fields, the error box that shows
// a problem's detail (as text), loading state, and a hook that loads data.
import { html, useState, useEffect, useCallback } from './ui.js';
import { t, fmtNumber } from './i18n.js';

let nextId = 0;
const uid = (p) => `${p}-${++nextId}`;

export function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const load = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    fn().then((data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }));
    return () => { live = false; };
  }, deps);
  useEffect(load, [load]);
  return { ...state, reload: load, setData: (data) => setState((s) => ({ ...s, data })) };
}

export function ErrorBox({ error }) {
  if (!error) return null;
  const p = error.problem || {};
  return html`<div class="error" role="alert">
    <strong>${p.title || t('common.error')}</strong>
    <span>${' '}${error.message}</span>
    ${p.field ? html`<span class="muted">${' '}(${p.field})</span>` : null}
  </div>`;
}

export function Loading({ state, children }) {
  if (state.error) return html`<${ErrorBox} error=${state.error} />`;
  if (state.loading && state.data === null) return html`<p class="muted" role="status">${t('common.loading')}</p>`;
  return children();
}

// A labelled input. kind: 'input' | 'textarea' | 'select'; hint is shown
// under it and tied to it with aria-describedby.
export function Field({ label, hint, kind = 'input', id, children, ...rest }) {
  const [fid] = useState(() => id || uid('f'));
  const hid = hint ? fid + '-hint' : undefined;
  let control;
  if (kind === 'textarea') control = html`<textarea id=${fid} aria-describedby=${hid} ...${rest}></textarea>`;
  else if (kind === 'select') control = html`<select id=${fid} aria-describedby=${hid} ...${rest}>${children}</select>`;
  else control = html`<input id=${fid} aria-describedby=${hid} ...${rest} />`;
  return html`<div class="field">
    <label for=${fid}>${label}</label>
    ${control}
    ${hint ? html`<p class="hint" id=${hid}>${hint}</p>` : null}
  </div>`;
}

export function StatusBadge({ status }) {
  return html`<span class=${'badge badge-' + status}>${t('status.' + status)}</span>`;
}

// Runs an async action with a busy flag and an error, for forms and buttons.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try { return await fn(); } catch (e) { setError(e); return undefined; } finally { setBusy(false); }
  };
  return { busy, error, run, setError };
}

// A subscriber count as YouTube gives it: null when the channel hides it.
export function subscribers(n) {
  return n === null || n === undefined ? t('channels.subscribersHidden') : t('channels.subscribers', { count: n, n: fmtNumber(n) });
}
