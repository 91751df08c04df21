// The API client: same-origin fetch with the session cookie, the CSRF header
// on every state change (read from the pstudio_csrf cookie the API sets at
// sign-in; the session token itself is HttpOnly and never seen here), and
// problem+json answers turned into ApiError.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'pstudio_csrf') return v.join('=');
  }
  return '';
}

// A body that is a Blob (a chosen file) goes as it is, with its type given
// in headers; anything else goes as JSON.
export async function api(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrfToken();
  let payload;
  if (body instanceof Blob) {
    payload = body;
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch('/api/v1' + path, {
    method, headers: h, body: payload, credentials: 'same-origin', cache: 'no-store',
  });
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204 && (type.startsWith('application/json') || type.startsWith('application/problem+json')))
    data = await res.json();
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b, h) => api('POST', p, b === undefined ? {} : b, h);
export const patch = (p, b, h) => api('PATCH', p, b, h);
export const del = (p) => api('DELETE', p);
export const upload = (p, blob, type) => api('POST', p, blob, { 'Content-Type': type });

// A project's media file by its address on the media route: the API names
// files by that address, and a bare file name is put on that route too.
export function mediaUrl(project, file) {
  const route = `/api/v1/projects/${encodeURIComponent(project.id)}/media/`;
  return file.startsWith(route) ? file : route + encodeURIComponent(file.split('/').pop());
}

// Pages through a listing ({items, next_cursor}) up to max items.
export async function listAll(path, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''));
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

// One EventSource per signed-in page, shared by every screen that watches
// projects: the API allows a user only a few streams at once.
let source = null;
const listeners = new Set();
export function watchProjects(fn) {
  listeners.add(fn);
  if (source === null) {
    source = new EventSource('/api/v1/events');
    source.addEventListener('project', (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch { return; }
      for (const l of listeners) l(data);
    });
  }
  return () => listeners.delete(fn);
}
export function closeEvents() {
  if (source) source.close();
  source = null;
  listeners.clear();
}
