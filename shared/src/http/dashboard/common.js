// What the vendor dashboard and the operator console share: building the page from
// text (never markup), calling the API with the tab's key, signing in and out, and
// showing the view the address names. Each page passes its own key name, sign-in check
// and views to `shell`.

export const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes, never markup. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A link only for http(s) addresses; anything else shows as plain text. */
export function link(href, text) {
  let url = null;
  try { url = new URL(href); } catch { /* not a URL */ }
  if (!url || !['http:', 'https:'].includes(url.protocol)) return el('span', {}, text);
  return el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, text);
}

export const money = (m) => (m ? `${m.amount} ${m.currency}` : '—');
export function when(iso) {
  if (!iso) return '—';
  const at = new Date(iso);
  return el('time', { datetime: iso, title: iso }, at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
}
export const cell = (label, ...content) => el('td', { 'data-label': label }, ...content);
export const num = (label, ...content) => el('td', { 'data-label': label, class: 'num' }, ...content);

/** An API answer that is not a success: its status and the problem's `detail`. */
export class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; this.detail = detail; }
}

/** The scorecard's measures in words, worst-first where "higher is better" is false. */
export const MEASURES = {
  late_supplier_order_rate: { label: 'Late supplier orders', better: 'lower' },
  late_shipment_rate: { label: 'Late shipments', better: 'lower' },
  valid_tracking_rate: { label: 'Valid tracking', better: 'higher' },
  cancel_rate: { label: 'Cancelled before shipping', better: 'lower' },
  on_time_delivery_rate: { label: 'Delivered on time', better: 'higher' },
  refund_rate: { label: 'Refunded', better: 'lower' },
};
export const STANDINGS = { good: 'Good', at_risk: 'At risk', failing: 'Failing' };
export const percent = (value) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`);

/** A scorecard's measures as a table: value, counts, window, target, state. */
export function scorecardTable(card, id) {
  return el('div', { class: 'scroll' }, el('table', { class: 'list', id },
    el('thead', {}, el('tr', {}, ['Measure', 'Value', 'Of', 'Window', 'Target', 'State'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, Object.entries(MEASURES).map(([name, { label, better }]) => {
      const m = card.measures[name];
      if (!m) return null;
      return el('tr', { 'data-measure': name, class: m.state === 'failing' ? 'late' : null },
        cell('Measure', label),
        cell('Value', percent(m.value)),
        cell('Of', `${m.numerator} of ${m.denominator}`),
        cell('Window', `${m.window_days} days`),
        cell('Target', `${better === 'lower' ? 'under' : 'over'} ${percent(m.target)}`),
        cell('State', el('span', { class: m.state === 'good' ? 'badge' : 'badge late' }, STANDINGS[m.state] || m.state)));
    }))));
}

/** A fresh Idempotency-Key. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The page's frame. `keyName`: where this tab keeps the key; `check`: the GET path that
 * proves a key at sign-in; `sections`: the nav's sections, the first the default;
 * `render(section, rest, show)`: shows the view `#section/rest…` names.
 * Returns the calls the views use.
 */
export function shell({ keyName, check, sections, render }) {
  const base = new URL('./', location.href); // …/vendor/ or …/operator/, under any stage prefix
  let generation = 0;
  let shownHash = null;

  /** Calls the API with the tab's key; answers `{data, etag}` or throws ApiError. */
  async function call(method, path, { body, headers = {}, key = sessionStorage.getItem(keyName) } = {}) {
    const sent = { Accept: 'application/json, application/problem+json', Authorization: `Bearer ${key || ''}`, ...headers };
    if (body !== undefined) sent['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(new URL(path, base), { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    } catch {
      throw new ApiError(0, 'dropflow cannot be reached; check the connection and try again.');
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!response.ok) {
      const detail = data && typeof data.detail === 'string' ? data.detail : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, detail);
    }
    return { data, text, etag: response.headers.get('ETag') };
  }

  function showSignedIn(signedIn) {
    $('sign-in').hidden = signedIn;
    $('nav').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    $('view').hidden = !signedIn;
    if (!signedIn) { $('view').replaceChildren(); flash(''); }
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('api_key');
    const key = input.value.trim();
    const error = $('sign-in-error');
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    const button = event.submitter || $('sign-in-form').querySelector('button');
    button.disabled = true;
    try {
      if (!/^[\x21-\x7e]+$/.test(key)) throw new ApiError(401, 'Enter the key: letters, digits and symbols, no spaces.');
      await call('GET', check, { key });
      sessionStorage.setItem(keyName, key);
      input.value = '';
      showSignedIn(true);
      if (!location.hash) location.hash = `#${sections[0]}`; else route();
    } catch (e) {
      error.textContent = e.detail;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      button.disabled = false;
    }
  }

  /** Forgets the key; `why` (a revoked key, say) is shown on the sign-in form. */
  function signOut(why = '') {
    sessionStorage.removeItem(keyName);
    showSignedIn(false);
    shownHash = null;
    $('sign-in-error').textContent = why;
    history.replaceState(null, '', location.pathname + location.search);
    $('api_key').focus();
  }

  /** Shows what went wrong with a whole view; a key refused mid-session signs out. */
  function failed(e) {
    if (e.status === 401) return signOut(e.detail);
    $('view').replaceChildren(el('p', { class: 'error', role: 'alert' }, e.detail));
  }

  function flash(text) {
    $('flash').textContent = text;
    $('flash').hidden = !text;
  }

  /** Shows the view the address names. Focus moves to its heading only when the address
   *  changed (a refresh after an action or a filter keeps the reader's place), or to
   *  `focusId` when given. */
  async function route(focusId) {
    if (!sessionStorage.getItem(keyName)) return showSignedIn(false);
    showSignedIn(true);
    const [section, ...rest] = location.hash.slice(1).split('/');
    const current = sections.includes(section) ? section : sections[0];
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.section === current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    const mine = ++generation;
    const moved = location.hash !== shownHash;
    const show = (...nodes) => {
      if (mine !== generation) return;
      $('view').replaceChildren(...nodes.filter(Boolean));
      shownHash = location.hash;
      const target = (focusId && $(focusId)) || (moved && $('view').querySelector('h1'));
      if (target) { if (target.tagName === 'H1') target.setAttribute('tabindex', '-1'); target.focus({ preventScroll: target.tagName !== 'H1' }); }
    };
    try {
      await render(current, rest, show);
    } catch (e) {
      if (mine === generation) failed(e);
    }
  }

  /** A "Load more" button that appends the next page through the API's cursor. */
  function loadMore(fetchPage, append) {
    const button = el('button', { type: 'button', class: 'quiet' }, 'Load more');
    let cursor = null;
    const set = (next) => { cursor = next; button.hidden = !next; };
    button.addEventListener('click', async () => {
      button.disabled = true;
      try { const page = await fetchPage(cursor); append(page); set(page.cursor); } catch (e) { failed(e); } finally { button.disabled = false; }
    });
    return { button, set };
  }

  /** The first page of the listing at `path` with `params` (those set), each of
   *  `items(page)` a `row` in a tbody, and a "Load more" button for the next pages. */
  async function listing(path, params, items, row) {
    const body = el('tbody');
    const page = (cursor) => {
      const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value));
      if (cursor) query.set('cursor', cursor);
      return call('GET', `${path}?${query}`).then((r) => r.data);
    };
    const append = (p) => body.append(...items(p).map(row));
    const more = loadMore(page, append);
    const first = await page(null);
    append(first);
    more.set(first.cursor);
    return { first, body, more: more.button };
  }

  /** Runs a form's `work` with its button disabled; the API's refusal goes to `error`
   *  (a key refused mid-session signs out). */
  async function submitting(button, error, work) {
    button.disabled = true;
    try {
      await work();
    } catch (e) {
      if (e.status === 401) return signOut(e.detail);
      error.textContent = e.detail;
    } finally {
      button.disabled = false;
    }
  }

  /** Starts the page: the sign-in form, the sign-out button, and the view of the address. */
  function start() {
    $('sign-in-form').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', () => signOut());
    window.addEventListener('hashchange', () => { flash(''); route(); });
    route();
  }

  return { call, route, signOut, failed, flash, loadMore, listing, submitting, start };
}
