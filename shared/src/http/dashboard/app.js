// The vendor dashboard: a client of the vendor API (/openapi.json) and nothing more.
// Every value from the API goes into the page through text nodes (`el` below), never as
// markup; the key stays in this tab's sessionStorage and travels only in the
// Authorization header. The API decides every rule; the page shows its answers.

import { $, el, link, money, when, cell, num, newKey, scorecardTable, shell } from './common.js';

const { call, route, signOut, failed, flash, loadMore, listing, submitting, start } = shell({
  keyName: 'dropflow.api_key',
  check: 'balance',
  sections: ['orders', 'products', 'suppliers', 'money', 'scorecard'],
  render: async (current, rest, show) => {
    if (current === 'orders' && rest.length) await orderView(decodeURIComponent(rest.join('/')), show);
    else if (current === 'orders') await ordersView(show);
    else if (current === 'products') await productsView(show);
    else if (current === 'suppliers') await suppliersView(show);
    else if (current === 'scorecard') await scorecardView(show);
    else await moneyView(show);
  },
});

const STATES = {
  awaiting_supplier: 'Awaiting supplier order',
  awaiting_shipment: 'Awaiting shipment',
  shipped: 'Shipped',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
};
const CLOCKS = {
  place_reminder: 'Reminder to order from the supplier',
  place_with_supplier: 'Order from the supplier',
  ship: 'Ship',
  tracking_stale: 'Carrier news expected',
  delivery_promise: 'Delivery promised',
  refund_warning: 'Supplier refund window closing',
  dispute_window: 'Supplier dispute window opens',
  ship_promised: 'Shipping date given to the customer',
  delivery_promised: 'Delivery date given to the customer',
  auto_cancel: 'Cancelled if still not ordered',
};
const LATE = { place_with_supplier: 'Supplier order late', ship: 'Shipment late', delivery_promise: 'Delivery late' };

// --- Orders ---------------------------------------------------------------------------

async function ordersView(show) {
  const filter = sessionStorage.getItem('dropflow.state') || '';
  const select = el('select', { id: 'state-filter', name: 'state' },
    el('option', { value: '' }, 'All states'),
    Object.entries(STATES).map(([value, label]) => el('option', { value, selected: value === filter }, label)));
  select.addEventListener('change', () => { sessionStorage.setItem('dropflow.state', select.value); route('state-filter'); });
  const { first, body, more } = await listing('orders', { state: filter }, (p) => p.orders, orderRow);
  show(
    el('h1', {}, 'Orders'),
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'state-filter' }, 'Show'), select)),
    first.orders.length === 0
      ? el('p', { class: 'muted' }, filter ? 'No orders in this state.' : 'No orders yet. They appear here as soon as a storefront sends them.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'orders' },
        el('thead', {}, el('tr', {}, ['Order', 'State', 'Created', 'Supplier deadline', 'Ship to', 'Late'].map((h) => el('th', { scope: 'col' }, h)))),
        body)),
    more,
  );
}

function orderRow(o) {
  const late = o.overdue.length > 0;
  return el('tr', { class: late ? 'late' : null, 'data-order': o.id },
    cell('Order', el('a', { href: `#orders/${encodeURIComponent(o.id)}` }, o.order_number)),
    cell('State', STATES[o.state] || o.state),
    cell('Created', when(o.created_at)),
    cell('Supplier deadline', when(o.supplier_deadline)),
    cell('Ship to', o.customer_name),
    cell('Late', late ? o.overdue.map((k) => el('span', { class: 'badge late' }, LATE[k] || k)) : '—'));
}

async function orderView(id, show) {
  const { data: o, etag } = await call('GET', `orders/${encodeURIComponent(id)}`);
  const refresh = (message) => { flash(message); route('order-title'); };
  show(
    el('p', {}, el('a', { href: '#orders' }, '← All orders')),
    el('h1', { id: 'order-title' }, `Order ${o.order_number} `, el('span', { class: 'badge', id: 'order-state' }, STATES[o.state] || o.state)),
    o.overdue.length ? el('p', { class: 'banner', role: 'note' }, `Late: ${o.overdue.map((k) => LATE[k] || k).join(', ')}`) : null,
    o.cancel_reason ? el('p', {}, el('strong', {}, 'Cancelled: '), o.cancel_reason) : null,
    briefSection(o),
    actionsSection(o, etag, refresh),
    parcelsSection(o),
    clocksSection(o),
    economicsSection(o),
    earningsSection(o),
    historySection(o),
  );
}

/** Everything needed to buy the order from the supplier in one go. */
function briefSection(o) {
  const a = o.shipping_address;
  const addressLines = [a.name, a.company, a.line1, a.line2, [a.city, a.region, a.postal_code].filter(Boolean).join(', '), a.country_code].filter(Boolean);
  const copy = el('button', { type: 'button', class: 'quiet' }, 'Copy address');
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText([...addressLines, a.phone].filter(Boolean).join('\n')); copy.textContent = 'Copied'; } catch { copy.textContent = 'Select the address to copy it'; }
  });
  const lines = el('tbody', {}, o.lines.map((l) => el('tr', {},
    cell('Item', el('strong', {}, l.title), l.variant ? ` — ${l.variant}` : '', el('br'), el('span', { class: 'muted' }, l.sku ? `SKU ${l.sku}` : 'no SKU')),
    cell('Supplier', link(l.supplier.product_url, l.supplier.name)),
    cell('Supplier variant', l.supplier.variant || '—'),
    num('Qty', String(l.quantity)),
    num('Cost per unit', money(l.supplier.cost_per_unit)),
    num('Cost', money(l.supplier.cost_total)))));
  return el('section', { class: 'card', 'aria-labelledby': 'brief-title' },
    el('h2', { id: 'brief-title' }, 'Buy from the supplier'),
    el('div', { class: 'brief' },
      el('div', {},
        el('h3', {}, 'Ship to'),
        el('address', { id: 'ship-to' }, addressLines.join('\n')),
        el('p', {}, 'Phone: ', a.phone ? el('a', { href: `tel:${a.phone.replace(/[^0-9+]/g, '')}` }, a.phone) : 'none given'),
        copy),
      el('div', { class: 'scroll' }, el('table', { class: 'list' },
        el('thead', {}, el('tr', {}, ['Item', 'Supplier', 'Supplier variant', 'Qty', 'Cost per unit', 'Cost'].map((h, i) => el('th', { scope: 'col', class: i >= 3 ? 'num' : null }, h)))),
        lines,
        o.economics && o.economics.supplier_cost ? el('tfoot', {}, el('tr', {}, el('th', { scope: 'row', colspan: 5 }, 'Supplier cost'), num('Supplier cost', money(o.economics.supplier_cost)))) : null))));
}

/** The forms for what can be done next, with the step's deadline (and how late it is);
 *  the API says whether it may. A supplier order or a parcel may hold some of the
 *  lines (several suppliers, several parcels): the form lists them, all ticked. */
function actionsSection(o, etag, refresh) {
  const titles = new Map(o.lines.map((l) => [l.line_id, `${l.quantity} × ${l.variant ? `${l.title} (${l.variant})` : l.title}`]));
  const lineChoice = (ids) => ({ name: 'lines', legend: 'Lines', options: ids.map((id) => ({ value: id, label: titles.get(id) || id })) });
  const placed = new Set(o.supplier_orders.flatMap((s) => s.lines));
  const shipped = new Set(o.shipments.flatMap((s) => s.lines));
  const unplaced = o.lines.map((l) => l.line_id).filter((id) => !placed.has(id));
  const toShip = [...placed].filter((id) => !shipped.has(id));
  const forms = [];
  // Supplier orders dropflow places: confirm what review prepared, retry a refusal, or
  // take it back by hand.
  const automated = o.supplier_automation || [];
  const asks = [
    { state: ['prepared'], name: 'supplier-confirm', path: 'supplier-order/confirm', title: 'Place the prepared supplier order', submit: 'Confirm and place', done: 'Confirmed: dropflow places it with the supplier.' },
    { state: ['failed'], name: 'supplier-retry', path: 'supplier-order/retry', title: 'Try the supplier order again', submit: 'Retry', done: 'dropflow places it again.' },
    { state: ['prepared', 'placing', 'failed', 'unconfirmed'], name: 'supplier-manual', path: 'supplier-order/manual', title: 'Order from the supplier yourself', submit: 'Switch to manual', done: 'Manual: record the supplier order below once placed.' },
  ];
  for (const ask of asks) {
    if (o.state === 'awaiting_supplier' && automated.some((p) => ask.state.includes(p.state))) forms.push(actionForm(o, etag, refresh, { ...ask, fields: [] }));
  }
  if (o.state === 'awaiting_supplier') {
    forms.push(actionForm(o, etag, refresh, {
      name: 'supplier-order', title: 'Supplier order placed', submit: 'Record supplier order', done: 'Supplier order recorded.',
      fields: [{ name: 'supplier_order_ref', label: 'Supplier order number', required: true }],
      choice: unplaced.length > 1 ? lineChoice(unplaced) : null,
    }));
  }
  if (['awaiting_supplier', 'awaiting_shipment'].includes(o.state) && toShip.length) {
    forms.push(actionForm(o, etag, refresh, {
      name: 'shipment', title: 'Shipped', submit: 'Record shipment', done: 'Shipment recorded; the customer is told.',
      fields: [{ name: 'tracking_number', label: 'Tracking number', required: true }, { name: 'carrier', label: 'Carrier (optional: recognised from the number)' }],
      choice: toShip.length > 1 ? lineChoice(toShip) : null,
    }));
  }
  const out = o.shipments.filter((s) => !s.delivered_at);
  if (out.length && ['awaiting_shipment', 'shipped'].includes(o.state)) {
    forms.push(actionForm(o, etag, refresh, {
      name: 'delivered', title: 'Delivered', submit: 'Mark delivered', done: 'Marked delivered.', fields: [],
      choice: out.length > 1 ? { name: 'tracking_number', legend: 'Parcel', single: true, options: out.map((s) => ({ value: s.tracking.number, label: `${s.tracking.carrier_name} ${s.tracking.number}` })) } : null,
    }));
  }
  if ((o.state === 'awaiting_supplier' || o.state === 'awaiting_shipment') && o.shipments.length === 0) {
    forms.push(actionForm(o, etag, refresh, {
      name: 'cancel', title: 'Cannot fulfil it', submit: 'Cancel order', danger: true, done: 'Order cancelled; the customer is refunded by the marketplace.',
      fields: [{ name: 'reason', label: 'Reason', required: true, multiline: true }],
    }));
  }
  return el('section', { class: 'card', 'aria-labelledby': 'actions-title' },
    el('h2', { id: 'actions-title' }, 'Next step'),
    deadline(o),
    forms.length ? el('div', { class: 'actions' }, forms) : el('p', { class: 'muted' }, 'Nothing left to do on this order.'));
}

/** The deadline of the step the order waits for, and how late it is when it is. */
function deadline(o) {
  const step = { awaiting_supplier: 'place_with_supplier', awaiting_shipment: 'ship', shipped: 'delivery_promise' }[o.state];
  const clock = o.clocks.find((k) => k.kind === step);
  if (!clock) return null;
  const since = Date.parse(clock.overdue_since || clock.due_at);
  const late = o.overdue.includes(step) || since <= Date.now();
  return el('p', { class: late ? 'deadline late' : 'deadline', id: 'next-deadline' },
    `${CLOCKS[step]}: due `, when(clock.overdue_since || clock.due_at), late ? ` — late by ${lateness(Date.now() - since)}` : '');
}

/** A span of milliseconds as people say it: "2 days 3 h", "5 h 10 min", "12 min". */
function lateness(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  const [days, hours, mins] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (days) return `${days} day${days === 1 ? '' : 's'} ${hours} h`;
  return hours ? `${hours} h ${mins} min` : `${mins} min`;
}

/** One action's form: each field with its label and, next to it, the API's reason when
 *  it refuses; the same request resent (a double click) carries the same Idempotency-Key. */
function actionForm(o, etag, refresh, spec) {
  const error = el('p', { class: 'error', role: 'alert', id: `${spec.name}-error` });
  const inputs = spec.fields.map((f) => el(f.multiline ? 'textarea' : 'input', { id: `${spec.name}-${f.name}`, name: f.name, required: f.required, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${spec.name}-error`, rows: f.multiline ? 2 : null }));
  const fields = spec.fields.flatMap((f, i) => [el('label', { for: inputs[i].id }, f.label), inputs[i], i === 0 ? error : null]);
  const button = el('button', { type: 'submit', class: spec.danger ? 'danger' : null }, spec.submit);
  const choice = spec.choice ? choiceField(spec.name, spec.choice) : null;
  const form = el('form', { id: `${spec.name}-form`, method: 'post', novalidate: true, 'aria-labelledby': `${spec.name}-title` },
    el('h3', { id: `${spec.name}-title` }, spec.title), fields, choice && choice.node, spec.fields.length ? null : error, button);
  let sent = null;
  let key = null;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    const body = {};
    spec.fields.forEach((f, i) => { const value = inputs[i].value.trim(); if (value) body[f.name] = value; });
    if (choice) {
      const chosen = choice.value();
      if (chosen === null) { error.textContent = 'Choose at least one line.'; return; }
      if (chosen !== undefined) body[spec.choice.name] = chosen;
    }
    const text = JSON.stringify(body);
    if (text !== sent) { sent = text; key = newKey(); }
    error.textContent = '';
    inputs.forEach((input) => input.removeAttribute('aria-invalid'));
    button.disabled = true;
    try {
      await call('POST', `orders/${encodeURIComponent(o.id)}/${spec.path || spec.name}`, { body, headers: { 'Idempotency-Key': key, ...(etag ? { 'If-Match': etag } : {}) } });
      refresh(spec.done);
    } catch (e) {
      if (e.status === 401) return signOut(e.detail);
      if (e.status === 412) return refresh('The order changed meanwhile; here it is as it is now.');
      error.textContent = e.detail;
      if (inputs[0]) { inputs[0].setAttribute('aria-invalid', 'true'); inputs[0].focus(); }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Which lines (checkboxes, all ticked: the API's default is all of them) or which
 *  parcel (one of a list) an action is for. `value()` answers what to send: undefined
 *  for every line, null for none. */
function choiceField(form, spec) {
  const id = (i) => `${form}-${spec.name}-${i}`;
  if (spec.single) {
    const select = el('select', { id: id(0), name: spec.name }, spec.options.map((o) => el('option', { value: o.value }, o.label)));
    return { node: el('div', {}, el('label', { for: id(0) }, spec.legend), select), value: () => select.value };
  }
  const boxes = spec.options.map((o, i) => el('input', { type: 'checkbox', id: id(i), name: spec.name, value: o.value, checked: true }));
  const node = el('fieldset', { id: `${form}-${spec.name}` }, el('legend', {}, spec.legend),
    spec.options.map((o, i) => el('label', { for: id(i) }, boxes[i], o.label)));
  const value = () => {
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.length === 0) return null;
    return chosen.length === boxes.length ? undefined : chosen;
  };
  return { node, value };
}

/** What each state of a supplier order dropflow places means, in the vendor's words. */
const PURCHASE_STATES = {
  prepared: 'Prepared: waits for your confirmation',
  placing: 'Being placed',
  placed: 'Placed',
  awaiting_payment: 'Placed: waits for your payment',
  paid: 'Paid: waits for the supplier to ship',
  shipped: 'Shipped',
  delivered: 'Delivered',
  unconfirmed: 'The supplier holds it without its number: record the number',
  failed: 'Refused: back to you',
  manual: 'Manual: you order it',
  cancelled: 'Cancelled',
};

function parcelsSection(o) {
  const titles = new Map(o.lines.map((l) => [l.line_id, l.variant ? `${l.title} (${l.variant})` : l.title]));
  const named = (ids) => ids.map((id) => titles.get(id) || id).join(', ');
  const c = o.last_checkpoint;
  const automated = o.supplier_automation || [];
  const supplierName = { aliexpress: 'AliExpress', cj: 'CJdropshipping' };
  return el('section', { class: 'card', 'aria-labelledby': 'parcels-title' },
    el('h2', { id: 'parcels-title' }, 'Supplier orders and parcels'),
    automated.length === 0 ? null
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'supplier-automation' },
        el('caption', {}, 'Placed by dropflow'),
        el('thead', {}, el('tr', {}, ['Supplier', 'State', 'Lines', 'Supplier’s number', 'Our id there', 'Note'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, automated.map((p) => el('tr', {},
          cell('Supplier', supplierName[p.supplier] || p.supplier),
          cell('State', PURCHASE_STATES[p.state] || p.state),
          cell('Lines', named(p.lines)),
          cell('Supplier’s number', p.references.length ? p.references.join(', ') : '—'),
          cell('Our id there', p.supplier_order_id),
          cell('Note', p.pay_url && p.state === 'awaiting_payment' ? link(p.pay_url, 'Pay it') : (p.reason || '—'))))))),
    o.supplier_orders.length === 0 ? el('p', { class: 'muted' }, 'Not ordered from the supplier yet.')
      : el('table', { class: 'list', id: 'supplier-orders' },
        el('thead', {}, el('tr', {}, ['Supplier order', 'Lines', 'Placed'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, o.supplier_orders.map((s) => el('tr', {}, cell('Supplier order', s.reference), cell('Lines', named(s.lines)), cell('Placed', when(s.placed_at)))))),
    o.shipments.length === 0 ? null
      : el('table', { class: 'list', id: 'parcels' },
        el('thead', {}, el('tr', {}, ['Carrier', 'Tracking', 'Lines', 'Shipped', 'Delivered'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, o.shipments.map((s) => el('tr', {},
          cell('Carrier', s.tracking.carrier_name),
          cell('Tracking', s.tracking.url ? link(s.tracking.url, s.tracking.number) : s.tracking.number),
          cell('Lines', named(s.lines)),
          cell('Shipped', when(s.shipped_at)),
          cell('Delivered', when(s.delivered_at)))))),
    c ? el('p', {}, el('strong', {}, 'Carrier’s last word: '), `${c.tag}${c.message ? ` — ${c.message}` : ''}${c.location ? ` (${c.location})` : ''}, `, when(c.checkpoint_at || c.received_at)) : null);
}

function clocksSection(o) {
  const now = Date.now();
  return el('section', { class: 'card', 'aria-labelledby': 'clocks-title' },
    el('h2', { id: 'clocks-title' }, 'Clocks'),
    o.clocks.length === 0 ? el('p', { class: 'muted' }, 'No clock is running.')
      : el('table', { class: 'list' },
        el('thead', {}, el('tr', {}, ['What', 'Due'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, o.clocks.map((k) => el('tr', { class: Date.parse(k.due_at) <= now ? 'late' : null }, cell('What', CLOCKS[k.kind] || k.kind), cell('Due', when(k.due_at)))))));
}

function economicsSection(o) {
  const e = o.economics;
  const pairs = e ? [['Customer paid', money(e.customer_paid)], ['Commission', money(e.commission)], ['Supplier cost', money(e.supplier_cost)], ['Margin', money(e.margin)]] : [];
  return el('section', { class: 'card', 'aria-labelledby': 'economics-title' },
    el('h2', { id: 'economics-title' }, 'Margin'),
    e ? el('dl', { class: 'pairs', id: 'economics' }, pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])) : el('p', { class: 'muted' }, 'Not available for this order.'),
    o.refunds.length ? el('p', {}, `Refunded: ${o.refunds.map((r) => `${r.quantity} × ${r.line_id} (${money(r.amount)})`).join('; ')}`) : null);
}

/** What the order's delivered parcels earned, and until when each is held. */
function earningsSection(o) {
  const earnings = o.earnings || [];
  return el('section', { class: 'card', 'aria-labelledby': 'earnings-title' },
    el('h2', { id: 'earnings-title' }, 'Earnings'),
    earnings.length === 0 ? el('p', { class: 'muted' }, 'Nothing earned yet: a parcel earns you its lines (less commission) once it is delivered.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'earnings' },
        el('thead', {}, el('tr', {}, ['Parcel', 'Earned', 'Delivered', 'Held until', 'Released'].map((h, i) => el('th', { scope: 'col', class: i === 1 ? 'num' : null }, h)))),
        el('tbody', {}, earnings.map((e) => el('tr', {},
          cell('Parcel', e.tracking_number), num('Earned', money(e.earned)), cell('Delivered', when(e.delivered_at)),
          cell('Held until', when(e.release_at)), cell('Released', e.released_at ? when(e.released_at) : 'not yet')))))));
}

function historySection(o) {
  return el('section', { class: 'card', 'aria-labelledby': 'history-title' },
    el('h2', { id: 'history-title' }, 'History'),
    el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'history' },
      el('thead', {}, el('tr', {}, ['When', 'Who', 'What', 'State', 'Detail'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, (o.history || []).map((h) => el('tr', {},
        cell('When', when(h.at)), cell('Who', h.actor), cell('What', h.action.replaceAll('_', ' ')), cell('State', STATES[h.state] || h.state), cell('Detail', h.detail || '—')))))));
}

// --- Products -------------------------------------------------------------------------

async function productsView(show) {
  const form = productForm();
  const { first, body, more } = await listing('products', {}, (p) => p.products, (p) => productRow(p, form));
  show(
    el('h1', { id: 'products-title' }, 'Products'),
    el('p', { class: 'muted' }, 'Each SKU you sell and where you buy it. Orders for a SKU reach you once it is here.'),
    first.products.length === 0 ? el('p', { class: 'muted', id: 'no-products' }, 'No products yet.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'products' },
        el('thead', {}, el('tr', {}, ['SKU', 'Supplier', 'Cost', 'Supplier variant', 'Supplier step', ''].map((h) => el('th', { scope: 'col' }, h)))),
        body)),
    more,
    form.node,
  );
}

function productRow(p, form) {
  const edit = el('button', { type: 'button', class: 'quiet', 'aria-label': `Edit ${p.sku}` }, 'Edit');
  edit.addEventListener('click', () => form.fill(p));
  const remove = el('button', { type: 'button', class: 'quiet', 'aria-label': `Delete ${p.sku}` }, 'Delete');
  remove.addEventListener('click', async () => {
    if (!confirm(`Stop selling ${p.sku}? New orders for it will wait for a vendor.`)) return;
    remove.disabled = true;
    try { await call('DELETE', `products/${encodeURIComponent(p.sku)}`); flash(`${p.sku} deleted.`); route('products-title'); } catch (e) { failed(e); }
  });
  return el('tr', { 'data-sku': p.sku },
    cell('SKU', p.sku),
    cell('Supplier', link(p.product_url, p.supplier_name)),
    num('Cost', money(p.supplier_cost)),
    cell('Supplier variant', p.supplier_variant || '—'),
    cell('Supplier step', p.mode === 'manual' ? 'By hand' : `${MODES[p.mode] || p.mode} · ${SUPPLIERS[p.supplier_api] || p.supplier_api}`),
    cell('', edit, ' ', remove));
}

/** How a SKU's supplier step runs, in the vendor's words. */
const MODES = { manual: 'By hand', review: 'Prepared, you confirm', auto: 'Placed by dropflow' };

function productForm() {
  const fields = [
    ['sku', 'SKU', 'text'], ['supplier_name', 'Supplier', 'text'], ['product_url', 'Supplier product link', 'url'],
    ['amount', 'Cost per unit', 'text'], ['currency', 'Currency (ISO code)', 'text'], ['supplier_variant', 'Supplier variant (optional)', 'text'],
  ];
  // Through a supplier's API: the supplier's own product, variant and method names.
  const linkFields = [
    ['supplier_product_id', 'Supplier’s product id (AliExpress product_id, CJ pid)'], ['supplier_sku', 'Supplier’s variant (AliExpress sku_attr, CJ vid)'],
    ['shipping_method', 'Shipping method (as the supplier names it)'], ['price_tolerance_percent', 'Price may rise by at most (%, optional)'],
  ];
  const input = (name, type = 'text') => el('input', { id: `product-${name}`, name, type, autocomplete: 'off', spellcheck: 'false', inputmode: ['amount', 'price_tolerance_percent'].includes(name) ? 'decimal' : null, 'aria-describedby': 'product-error' });
  const inputs = Object.fromEntries([...fields.map(([name, , type]) => [name, input(name, type)]), ...linkFields.map(([name]) => [name, input(name)])]);
  const select = (name, options) => el('select', { id: `product-${name}`, name }, options.map(([value, label]) => el('option', { value }, label)));
  inputs.mode = select('mode', Object.entries(MODES));
  inputs.supplier_api = select('supplier_api', [['', 'None (not through an API)'], ['aliexpress', 'AliExpress'], ['cj', 'CJdropshipping']]);
  inputs.currency.value = 'USD';
  const error = el('p', { class: 'error', role: 'alert', id: 'product-error' });
  const title = el('h2', { id: 'product-title' }, 'Add a product');
  const button = el('button', { type: 'submit' }, 'Save product');
  const labelled = (name, label) => el('div', {}, el('label', { for: `product-${name}` }, label), inputs[name]);
  const node = el('form', { class: 'card', id: 'product-form', method: 'post', novalidate: true, 'aria-labelledby': 'product-title' },
    title, el('div', { class: 'row' }, fields.map(([name, label]) => labelled(name, label))),
    el('fieldset', {}, el('legend', {}, 'Supplier step'),
      el('p', { class: 'muted' }, 'By hand, or through your connected supplier account (Suppliers): dropflow prepares the supplier order for you to confirm, or places it. dropflow checks the product, variant, method and price with the supplier when you save.'),
      el('div', { class: 'row' }, labelled('mode', 'How it runs'), labelled('supplier_api', 'Supplier API'), linkFields.map(([name, label]) => labelled(name, label)))),
    error, button);
  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const v = (name) => inputs[name].value.trim();
    if (!v('sku')) { error.textContent = 'Enter the SKU.'; inputs.sku.focus(); return; }
    const body = { supplier_name: v('supplier_name'), product_url: v('product_url'), supplier_cost: { amount: v('amount'), currency: v('currency').toUpperCase() } };
    if (v('supplier_variant')) body.supplier_variant = v('supplier_variant');
    if (v('mode') !== 'manual') body.mode = v('mode');
    if (v('supplier_api')) {
      body.supplier_api = v('supplier_api');
      for (const [name] of linkFields.slice(0, 3)) if (v(name)) body[name] = v(name);
      if (v('price_tolerance_percent')) {
        const percent = Number(v('price_tolerance_percent'));
        if (!Number.isInteger(percent) || percent < 0 || percent > 1000) { error.textContent = 'The price tolerance is a whole percent from 0 to 1000.'; inputs.price_tolerance_percent.focus(); return; }
        body.price_tolerance_percent = percent;
      }
    }
    await submitting(button, error, async () => {
      await call('PUT', `products/${encodeURIComponent(v('sku'))}`, { body });
      flash(`${v('sku')} saved.`);
      route('products-title');
    });
  });
  const fill = (p) => {
    inputs.sku.value = p.sku; inputs.supplier_name.value = p.supplier_name; inputs.product_url.value = p.product_url;
    inputs.amount.value = p.supplier_cost.amount; inputs.currency.value = p.supplier_cost.currency; inputs.supplier_variant.value = p.supplier_variant || '';
    inputs.mode.value = p.mode || 'manual'; inputs.supplier_api.value = p.supplier_api || '';
    for (const [name] of linkFields) inputs[name].value = p[name] ?? '';
    title.textContent = `Edit ${p.sku}`;
    inputs.supplier_name.focus();
  };
  return { node, fill };
}

// --- Suppliers ------------------------------------------------------------------------

const SUPPLIERS = { aliexpress: 'AliExpress', cj: 'CJdropshipping' };

/** What AliExpress's callback said (…/app?supplier_connected=… or ?supplier_error=…),
 *  shown once on the suppliers view and taken out of the address. */
let arrival = (() => {
  const params = new URLSearchParams(location.search);
  const connected = params.get('supplier_connected');
  const error = params.get('supplier_error');
  if (connected || error) history.replaceState(null, '', location.pathname + location.hash);
  if (connected) return `Your ${SUPPLIERS[connected] || 'supplier'} account is connected.`;
  if (error) return `Your AliExpress account was not connected: ${error}`;
  return '';
})();

async function suppliersView(show) {
  const { data } = await call('GET', 'suppliers');
  const warnings = data.accounts.filter((a) => a.expiring).map((a) => el('p', { class: 'error', role: 'alert' },
    `Your ${SUPPLIERS[a.supplier] || a.supplier} authorization runs out ${a.reconnect_by ? `on ${new Date(a.reconnect_by).toLocaleString()}` : 'soon'}: connect the account again below, or dropflow stops placing its orders.`));
  const cjError = el('p', { class: 'error', role: 'alert', id: 'cj-error' });
  const cjKey = el('input', { id: 'cj-api-key', name: 'api_key', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'cj-error cj-hint' });
  const cjForm = el('form', { class: 'card', id: 'cj-form', method: 'post', novalidate: true, 'aria-labelledby': 'cj-title' },
    el('h2', { id: 'cj-title' }, 'Connect CJdropshipping'),
    el('label', { for: 'cj-api-key' }, 'CJdropshipping API key'), cjKey,
    el('p', { class: 'muted', id: 'cj-hint' }, 'From MyCJ → Apps → API. dropflow keeps it sealed and never shows it again.'),
    cjError, el('button', { type: 'submit' }, 'Connect CJdropshipping'));
  cjForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    cjError.textContent = '';
    if (!cjKey.value.trim()) { cjError.textContent = 'Enter the API key.'; cjKey.focus(); return; }
    await submitting(cjForm.querySelector('button'), cjError, async () => {
      await call('POST', 'suppliers/cj', { body: { api_key: cjKey.value.trim() } });
      cjKey.value = '';
      flash('Your CJdropshipping account is connected.');
      route('suppliers-title');
    });
  });
  let aeCard = null;
  if (data.available.includes('aliexpress')) {
    const aeError = el('p', { class: 'error', role: 'alert', id: 'ae-error' });
    const go = el('button', { type: 'button', id: 'connect-aliexpress' }, 'Connect AliExpress');
    go.addEventListener('click', async () => {
      go.disabled = true;
      aeError.textContent = '';
      try { location.assign((await call('POST', 'suppliers/aliexpress/authorize')).data.authorize_url); } catch (e) { go.disabled = false; aeError.textContent = e.detail; }
    });
    aeCard = el('section', { class: 'card', 'aria-labelledby': 'ae-title' }, el('h2', { id: 'ae-title' }, 'Connect AliExpress'),
      el('p', { class: 'muted' }, 'You sign in on AliExpress and allow dropflow to place orders for you; AliExpress then sends you back here.'), aeError, go);
  }
  show(
    el('h1', { id: 'suppliers-title' }, 'Supplier accounts'),
    el('p', { class: 'muted' }, 'The accounts dropflow places supplier orders with, for the products you set to be prepared or placed by dropflow.'),
    ...warnings,
    data.accounts.length === 0 ? el('p', { class: 'muted', id: 'no-accounts' }, 'No supplier account connected yet.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'accounts' },
        el('thead', {}, el('tr', {}, ['Supplier', 'Account', 'Connected', 'Connect again by'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, data.accounts.map((a) => el('tr', { 'data-supplier': a.supplier },
          cell('Supplier', SUPPLIERS[a.supplier] || a.supplier), cell('Account', a.account || '—'), cell('Connected', when(a.connected_at)), cell('Connect again by', when(a.reconnect_by))))))),
    aeCard,
    cjForm,
  );
  if (arrival) { flash(arrival); arrival = ''; }
}

// --- Money ----------------------------------------------------------------------------

async function moneyView(show) {
  const [{ data: balance }, { data: firstPayouts }] = await Promise.all([call('GET', 'balance'), call('GET', 'payouts')]);
  const list = el('div', { id: 'payouts' });
  const append = (p) => list.append(...p.payouts.map(payoutItem));
  const more = loadMore((cursor) => call('GET', `payouts?cursor=${encodeURIComponent(cursor)}`).then((r) => r.data), append);
  append(firstPayouts);
  more.set(firstPayouts.cursor);
  show(
    el('h1', {}, 'Money'),
    el('section', { class: 'card', 'aria-labelledby': 'balance-title' },
      el('h2', { id: 'balance-title' }, 'Balance'),
      balance.balances.length === 0 ? el('p', { class: 'muted' }, 'No earnings yet. What an order earns you is held from delivery until the hold ends, then available for the next payout.')
        : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'balance' },
          el('thead', {}, el('tr', {}, ['Currency', 'Held', 'Available', 'In payout', 'Paid out'].map((h, i) => el('th', { scope: 'col', class: i ? 'num' : null }, h)))),
          el('tbody', {}, balance.balances.map((b) => el('tr', {},
            cell('Currency', b.currency), num('Held', money(b.held)), num('Available', money(b.available)), num('In payout', money(b.in_payout)), num('Paid out', money(b.paid_out)))))))),
    el('section', { class: 'card', 'aria-labelledby': 'payouts-title' },
      el('h2', { id: 'payouts-title' }, 'Payouts'),
      firstPayouts.payouts.length === 0 ? el('p', { class: 'muted' }, 'No payouts yet.') : list,
      more.button),
  );
}

// --- Scorecard ------------------------------------------------------------------------

async function scorecardView(show) {
  const { data: card } = await call('GET', 'scorecard');
  const hours = (h) => (h === null || h === undefined ? '—' : `${h} h`);
  show(
    el('h1', {}, 'Scorecard'),
    el('p', { class: 'muted' }, 'How the marketplace measures your service, each over its window up to today. A measure at risk or failing is mailed to you once.'),
    scorecardTable(card, 'scorecard'),
    el('dl', { class: 'pairs' },
      el('dt', {}, 'Median time to the supplier order'), el('dd', {}, hours(card.median_hours_to_supplier_order)),
      el('dt', {}, 'Median time to shipment'), el('dd', {}, hours(card.median_hours_to_shipment))),
  );
}

function payoutItem(p) {
  return el('details', {},
    el('summary', {}, `${money(p.amount)} · ${p.status === 'paid' ? 'paid' : 'pending'} · `, when(p.paid_at || p.created_at), el('span', { class: 'muted' }, ` · ${p.payout_id}`)),
    p.reference ? el('p', {}, `Transfer reference: ${p.reference}`) : null,
    el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['Entry', 'Amount', 'When', 'Detail'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, p.entries.map((e) => el('tr', {},
        cell('Entry', e.kind === 'clawback' ? 'Clawback' : 'Released'), num('Amount', money(e.amount)), cell('When', when(e.at)), cell('Detail', e.detail))))));
}

// --- Start ----------------------------------------------------------------------------

start();
