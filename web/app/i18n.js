// Languages: i18next holds the messages (web/app/locale-*.js) and their
// plural forms; dates and numbers go through the platform's Intl. The chosen
// language is the one thing kept in localStorage (a UI preference).
import i18next from '/vendor/i18next/i18next.js';
import en from './locale-en.js';
import ptBR from './locale-pt-BR.js';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'pt-BR', name: 'Português (Brasil)' },
];
const PREF = 'pstudio.lang';

function initial() {
  const saved = localStorage.getItem(PREF);
  if (LANGUAGES.some((l) => l.code === saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';
}

export async function initI18n() {
  await i18next.init({
    lng: initial(),
    fallbackLng: 'en',
    resources: { en: { translation: en }, 'pt-BR': { translation: ptBR } },
    // The views render every string as text, never as markup.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  document.documentElement.lang = i18next.language;
}

export async function setLanguage(code) {
  localStorage.setItem(PREF, code);
  await i18next.changeLanguage(code);
  document.documentElement.lang = code;
}

export const t = (key, opts) => i18next.t(key, opts);
export const lang = () => i18next.language;

export function fmtNumber(n) {
  return n === null || n === undefined ? '—' : new Intl.NumberFormat(lang()).format(n);
}
export function fmtDecimal(n, digits = 2) {
  return n === null || n === undefined ? '—'
    : new Intl.NumberFormat(lang(), { maximumFractionDigits: digits }).format(n);
}
// An estimate in an objective's own units (views a day, minutes per
// impression): whole numbers from 100 on, three significant digits below.
export function fmtEstimate(n) {
  if (n === null || n === undefined) return '—';
  const opts = Math.abs(n) >= 100 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 3 };
  return new Intl.NumberFormat(lang(), opts).format(n);
}
export function fmtPercent(x) {
  return x === null || x === undefined ? '—'
    : new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 1 }).format(x);
}
// A calendar day as the API writes it (YYYY-MM-DD, a UTC day), in the
// page's language; anything else is shown as it came.
export function fmtDay(ymd) {
  if (!ymd) return '—';
  const d = new Date(ymd + 'T00:00:00Z');
  return Number.isNaN(d.getTime()) ? ymd : new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}
export function fmtDate(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}
