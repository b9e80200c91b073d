// The operator console: a client of the operator API (/operator/*, in /openapi.json) and
// nothing more. Every value goes into the page as text (`el`), never as markup; the
// operator key stays in this tab's sessionStorage. Every act asks for a reason, which
// the order's history keeps with the key's name.

import { el, money, when, cell, ApiError, MEASURES, STANDINGS, percent, scorecardTable, shell } from './common.js';

const { call, route, flash, listing, submitting, start } = shell({
  keyName: 'dropflow.operator_key',
  check: 'me',
  sections: ['queue', 'orders', 'vendors', 'scorecards', 'payouts', 'dead-letters'],
  render: async (current, rest, show) => {
    const id = rest.length ? decodeURIComponent(rest.join('/')) : null;
    if (current === 'orders' && id) await orderView(id, show);
    else if (current === 'orders') await ordersView(show);
    else if (current === 'vendors' && id) await vendorView(id, show);
    else if (current === 'vendors') await vendorsView(show);
    else if (current === 'scorecards' && id) await scorecardView(id, show);
    else if (current === 'scorecards') await scorecardsView(show);
    else if (current === 'payouts') await payoutsView(show);
    else if (current === 'dead-letters' && id) await letterView(id, show);
    else if (current === 'dead-letters') await lettersView(show);
    else await queueView(show);
  },
});

const KINDS = { waiting_lines: 'Lines no vendor has', supplier_sync: 'Supplier order failing', overdue: 'Overdue, escalated', dead_letter: 'Dead letter', sku_claim: 'SKU claim' };
const LISTINGS = { routed: 'Routed', held: 'Held (unpaid)', cancelled: 'Cancelled', void: 'Void', parked: 'Parked' };
const LINE_STATES = { routed: 'With a vendor', waiting: 'Waits for a vendor', void: 'Void', not_sent: 'Not sent' };

/** A form field: its label and input. */
function field(id, label, attrs = {}) {
  return el('div', {}, el('label', { for: id }, label), el('input', { id, name: id, ...attrs }));
}

/** A form that asks for a reason and runs `work(reason)`; `extra` fields go before it. */
function reasonForm({ id, title, button, danger, extra = [], work }) {
  const error = el('p', { class: 'error', role: 'alert', id: `${id}-error` });
  const submit = el('button', { type: 'submit', class: danger ? 'danger' : null }, button);
  const form = el('form', { id, novalidate: true },
    el('h3', {}, title),
    extra,
    field(`${id}-reason`, 'Reason (kept in the history)', { required: true, maxlength: 500, autocomplete: 'off' }),
    error,
    submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    submitting(submit, error, () => work(form.querySelector(`#${id}-reason`).value.trim(), form));
  });
  return form;
}

// --- Decisions ------------------------------------------------------------------------

async function queueView(show) {
  const { data } = await call('GET', 'queue');
  const target = (d) => {
    if (['waiting_lines', 'supplier_sync', 'overdue'].includes(d.kind)) return el('a', { href: `#orders/${encodeURIComponent(d.subject)}` }, d.subject);
    if (d.kind === 'dead_letter') return el('a', { href: `#dead-letters/${encodeURIComponent(d.subject)}` }, d.subject);
    return d.subject;
  };
  show(
    el('h1', {}, 'Decisions'),
    data.decisions.length === 0
      ? el('p', { class: 'muted' }, 'Nothing waits for a decision.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'queue' },
        el('thead', {}, el('tr', {}, ['What', 'About', 'Detail', 'Waiting'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, data.decisions.map((d) => el('tr', { 'data-kind': d.kind },
          cell('What', KINDS[d.kind] || d.kind),
          cell('About', target(d)),
          cell('Detail', d.detail),
          cell('Waiting', d.age_hours === null ? '—' : `${d.age_hours} h`)))))),
  );
}

// --- Orders ---------------------------------------------------------------------------

async function ordersView(show) {
  const q = sessionStorage.getItem('dropflow.operator.q') || '';
  const state = sessionStorage.getItem('dropflow.operator.state') || '';
  const search = el('input', { id: 'order-search', name: 'q', type: 'search', value: q, autocomplete: 'off', spellcheck: 'false' });
  const select = el('select', { id: 'order-state', name: 'state' },
    el('option', { value: '' }, 'Every order'),
    Object.entries(LISTINGS).map(([value, label]) => el('option', { value, selected: value === state }, label)));
  const form = el('form', { id: 'find-form', class: 'row', role: 'search' },
    el('div', {}, el('label', { for: 'order-search' }, 'Find: order number, order id, customer email or tracking number'), search),
    el('div', {}, el('label', { for: 'order-state' }, 'Show'), select),
    el('div', {}, el('button', { type: 'submit' }, 'Find')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem('dropflow.operator.q', search.value.trim());
    sessionStorage.setItem('dropflow.operator.state', select.value);
    route('order-search');
  });
  const { first, body, more } = await listing('orders', { q, state }, (p) => p.orders, orderRow);
  show(
    el('h1', {}, 'Orders'),
    form,
    first.orders.length === 0
      ? el('p', { class: 'muted', id: 'no-orders' }, q ? `No order matches “${q}”.` : 'No orders.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'orders' },
        el('thead', {}, el('tr', {}, ['Order', 'Status', 'Created', 'Customer', 'Total', 'Vendors', 'Waiting lines'].map((h) => el('th', { scope: 'col' }, h)))),
        body)),
    more,
  );
}

function orderRow(o) {
  return el('tr', { 'data-order': o.order_id, class: o.waiting_lines ? 'late' : null },
    cell('Order', el('a', { href: `#orders/${encodeURIComponent(o.order_id)}` }, o.order_number), el('div', { class: 'muted' }, `${o.source} · ${o.shop}`)),
    cell('Status', o.status),
    cell('Created', when(o.created_at)),
    cell('Customer', o.customer_email || '—'),
    cell('Total', money(o.total)),
    cell('Vendors', o.vendors.join(', ') || '—'),
    cell('Waiting lines', String(o.waiting_lines)));
}

async function orderView(id, show) {
  const [{ data: o }, { data: vendors }] = await Promise.all([call('GET', `orders/${encodeURIComponent(id)}`), call('GET', 'vendors')]);
  const waiting = o.lines.filter((l) => l.status === 'waiting');
  const refresh = (message) => { flash(message); route('order-title'); };
  show(
    el('p', {}, el('a', { href: '#orders' }, '← Orders')),
    el('h1', { id: 'order-title' }, `Order ${o.order.order_number} `, el('span', { class: 'badge' }, o.order.status)),
    el('section', { class: 'card' },
      el('dl', { class: 'pairs' },
        el('dt', {}, 'Order id'), el('dd', {}, o.order.order_id),
        el('dt', {}, 'Storefront'), el('dd', {}, `${o.order.source} · ${o.order.shop}`),
        el('dt', {}, 'Customer'), el('dd', {}, `${o.customer_name} ${o.order.customer_email ? `<${o.order.customer_email}>` : ''}`),
        el('dt', {}, 'Ship to'), el('dd', {}, o.shipping_address ? el('address', {}, o.shipping_address.join('\n')) : 'No shipping address'),
        el('dt', {}, 'Total'), el('dd', {}, money(o.order.total)))),
    linesSection(o, waiting),
    waiting.length ? actSection(o, waiting, vendors.vendors, refresh) : null,
    o.order.status === 'routed' || o.order.status === 'held' ? changeSection(o, vendors.vendors, refresh) : null,
    vendorOrdersSection(o),
    actionsSection(o),
    mailSection(o),
  );
}

function linesSection(o, waiting) {
  return el('section', { class: 'card' }, el('h2', {}, 'Lines'),
    el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'lines' },
      el('thead', {}, el('tr', {}, [waiting.length ? 'Pick' : null, 'Line', 'SKU', 'Item', 'Qty', 'Paid', 'Where it stands'].filter(Boolean).map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, o.lines.map((l) => el('tr', { 'data-line': l.line_id, class: l.status === 'waiting' ? 'late' : null },
        waiting.length ? cell('Pick', l.status === 'waiting'
          ? el('label', { class: 'pick' }, el('input', { type: 'checkbox', class: 'pick', value: l.line_id, id: `pick-${l.line_id}` }), `Line ${l.line_id}`)
          : '') : null,
        cell('Line', l.line_id),
        cell('SKU', l.sku || '—'),
        cell('Item', l.title),
        cell('Qty', String(l.quantity)),
        cell('Paid', money(l.paid)),
        cell('Where it stands', LINE_STATES[l.status] || l.status, l.vendor ? `: ${l.vendor}` : '', l.reason ? el('div', { class: 'muted' }, l.reason) : '')))))));
}

/** The lines ticked in the lines table, or every waiting line when none is. */
function picked(waiting) {
  const ticked = Array.from(document.querySelectorAll('#lines input.pick:checked'), (box) => box.value);
  return ticked.length ? ticked : waiting.map((l) => l.line_id);
}

/** Where given lines are bought, when their new vendor does not map the SKU. */
function supplierFields(prefix, currency) {
  return el('details', {}, el('summary', {}, 'Where it is bought, when the vendor does not map the SKU'),
    field(`${prefix}-supplier-name`, 'Supplier'),
    field(`${prefix}-product-url`, 'Product URL (its https address)', { type: 'url' }),
    el('div', { class: 'row' }, field(`${prefix}-cost`, 'Cost per unit', { inputmode: 'decimal' }), field(`${prefix}-currency`, 'Currency', { value: currency, maxlength: 3 })));
}

/** What `supplierFields` say, as the give body's `supplier` (undefined when left empty). */
function supplierBody(form, prefix) {
  const value = (name) => form.querySelector(`#${prefix}-${name}`).value.trim();
  if (!value('supplier-name')) return undefined;
  return { supplier_name: value('supplier-name'), product_url: value('product-url'), cost: { amount: value('cost'), currency: value('currency').toUpperCase() } };
}

function actSection(o, waiting, vendors, refresh) {
  const id = encodeURIComponent(o.order.order_id);
  const options = vendors.filter((v) => v.state !== 'suspended').map((v) => el('option', { value: v.vendor_id }, `${v.name} (${v.vendor_id})${v.state === 'held' ? ', held' : ''}`));
  const vendorSelect = el('select', { id: 'give-vendor', name: 'vendor', required: true }, options);
  const give = reasonForm({
    id: 'give-form',
    title: 'Give to a vendor',
    button: 'Give the lines',
    extra: [el('div', {}, el('label', { for: 'give-vendor' }, 'Vendor'), vendorSelect), supplierFields('give', o.order.total.currency)],
    work: async (reason, form) => {
      const lines = picked(waiting);
      const body = { lines, vendor: vendorSelect.value, reason, supplier: supplierBody(form, 'give') };
      await call('POST', `orders/${id}/give`, { body });
      refresh(`Lines ${lines.join(', ')} given to ${vendorSelect.value}; the vendor is briefed.`);
    },
  });
  const voiding = reasonForm({
    id: 'void-form',
    title: 'Void: no vendor will send it',
    button: 'Void the lines',
    danger: true,
    work: async (reason) => {
      const lines = picked(waiting);
      await call('POST', `orders/${id}/void`, { body: { lines, reason } });
      refresh(`Lines ${lines.join(', ')} voided; the customer is told they will be refunded. Refund them at the store.`);
    },
  });
  return el('section', { class: 'card' }, el('h2', {}, 'Lines waiting for a vendor'),
    el('p', { class: 'muted' }, 'Tick the lines to act on; none ticked acts on every waiting line.'),
    el('div', { class: 'actions' }, give, voiding));
}

/** The clocks an operator may give a vendor more time on. */
const CLOCKS = { ship: 'Ship', place_with_supplier: 'Order from the supplier', auto_cancel: 'Cancellation if never ordered', delivery_promise: 'Delivery' };

/** Fix the address, give a vendor's part to another vendor, give a vendor more time, send a mail again. */
function changeSection(o, vendors, refresh) {
  const id = encodeURIComponent(o.order.order_id);
  const part = (name, label, attrs = {}) => field(`address-form-${name}`, label, { autocomplete: 'off', ...attrs });
  const address = reasonForm({
    id: 'address-form',
    title: 'Fix the shipping address',
    button: 'Ship it there',
    extra: [part('name', 'Recipient'), part('line1', 'Street and number'), part('line2', 'Apartment, suite (optional)'),
      el('div', { class: 'row' }, part('city', 'City'), part('postal_code', 'Postal code')),
      el('div', { class: 'row' }, part('region', 'Region (optional)'), part('country_code', 'Country (two letters)', { maxlength: 2 }))],
    work: async (reason, form) => {
      const value = (name) => form.querySelector(`#address-form-${name}`).value.trim();
      const address = { name: value('name'), line1: value('line1'), line2: value('line2') || null, city: value('city'), region: value('region') || null, postal_code: value('postal_code') || null, country_code: value('country_code').toUpperCase() };
      await call('POST', `orders/${id}/address`, { body: { address, reason } });
      refresh('The order ships to the new address; the vendors of what has not shipped are mailed.');
    },
  });
  const open = o.vendor_orders.filter((vo) => !['shipped', 'delivered', 'cancelled'].includes(vo.state));
  const vendorSelect = el('select', { id: 'extend-vendor' }, open.map((vo) => el('option', { value: vo.vendor_id }, `${vo.vendor_id} (${vo.state})`)));
  const clockSelect = el('select', { id: 'extend-clock' }, Object.entries(CLOCKS).map(([value, label]) => el('option', { value }, label)));
  const extend = open.length ? reasonForm({
    id: 'extend-form',
    title: 'Give a vendor more time',
    button: 'Extend the deadline',
    extra: [el('div', {}, el('label', { for: 'extend-vendor' }, 'Vendor'), vendorSelect), el('div', {}, el('label', { for: 'extend-clock' }, 'Step'), clockSelect),
      field('extend-hours', 'Hours more (1-720)', { type: 'number', min: 1, max: 720, value: 24 })],
    work: async (reason, form) => {
      const hours = Number(form.querySelector('#extend-hours').value);
      await call('POST', `orders/${id}/extend`, { body: { vendor: vendorSelect.value, clock: clockSelect.value, hours, reason } });
      refresh(`${vendorSelect.value} has ${hours} more hours; the vendor is mailed the new deadline.`);
    },
  }) : null;
  // A part nothing of which was ordered from the supplier can go to another vendor, whole.
  const unordered = o.vendor_orders.filter((vo) => vo.state === 'awaiting_supplier');
  const partSelect = el('select', { id: 'handover-part' }, unordered.map((vo, i) => el('option', { value: String(i) }, `${vo.vendor_id}: lines ${vo.lines.join(', ')}`)));
  const toSelect = el('select', { id: 'handover-vendor' }, vendors.filter((v) => v.state !== 'suspended').map((v) => el('option', { value: v.vendor_id }, `${v.name} (${v.vendor_id})`)));
  const handover = unordered.length ? reasonForm({
    id: 'handover-form',
    title: "Give a vendor's part to another vendor",
    button: 'Give it',
    extra: [el('div', {}, el('label', { for: 'handover-part' }, 'Part not yet ordered'), partSelect), el('div', {}, el('label', { for: 'handover-vendor' }, 'To'), toSelect),
      supplierFields('handover', o.order.total.currency)],
    work: async (reason, form) => {
      const part = unordered[Number(partSelect.value)];
      await call('POST', `orders/${id}/give`, { body: { lines: part.lines, vendor: toSelect.value, reason, supplier: supplierBody(form, 'handover') } });
      refresh(`${part.vendor_id}'s part is ${toSelect.value}'s now: ${part.vendor_id} is told not to order it, ${toSelect.value} is briefed.`);
    },
  }) : null;
  const mailSelect = el('select', { id: 'resend-mail' }, o.mail.map((m, i) => el('option', { value: String(i) }, `${m.event} → ${m.to}`)));
  const resend = o.mail.length ? reasonForm({
    id: 'resend-form',
    title: 'Send a mail again',
    button: 'Send it again',
    extra: [el('div', {}, el('label', { for: 'resend-mail' }, 'Mail'), mailSelect)],
    work: async (reason) => {
      const mail = o.mail[Number(mailSelect.value)];
      await call('POST', `orders/${id}/resend`, { body: { event_id: mail.event_id, to: mail.to, reason } });
      refresh(`The ${mail.event} mail is sent again to ${mail.to}.`);
    },
  }) : null;
  return el('section', { class: 'card', id: 'change' }, el('h2', {}, 'Change the order'), el('div', { class: 'actions' }, address, handover, extend, resend));
}

function vendorOrdersSection(o) {
  if (!o.vendor_orders.length) return null;
  return el('section', { class: 'card', id: 'vendor-orders' }, el('h2', {}, 'Vendor orders'),
    o.vendor_orders.map((vo) => el('details', { 'data-vendor': vo.vendor_id },
      el('summary', {}, `${vo.vendor_id}: ${vo.state} (lines ${vo.lines.join(', ')})`),
      el('ol', {}, vo.history.map((h) => el('li', {}, when(h.at), ` ${h.actor}: ${h.action}`, h.detail ? ` (${h.detail})` : ''))))));
}

function actionsSection(o) {
  return el('section', { class: 'card' }, el('h2', {}, 'What the operator did'),
    o.actions.length === 0 ? el('p', { class: 'muted' }, 'Nothing yet.')
      : el('ol', { id: 'actions' }, o.actions.map((a) => el('li', {}, when(a.at), ` ${a.by}: ${a.action}. `, el('span', { class: 'muted' }, `Reason: ${a.reason}`)))));
}

function mailSection(o) {
  return el('section', { class: 'card' }, el('h2', {}, 'Mail sent'),
    o.mail.length === 0 ? el('p', { class: 'muted' }, 'None kept (mail is listed for 7 days).')
      : el('ul', { id: 'mail' }, o.mail.map((m) => el('li', {}, when(m.at), ` ${m.event} → ${m.to}`))));
}

// --- Vendors --------------------------------------------------------------------------

async function vendorsView(show) {
  const { data } = await call('GET', 'vendors');
  show(
    el('h1', {}, 'Vendors'),
    el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'vendors' },
      el('thead', {}, el('tr', {}, ['Vendor', 'Email', 'State', 'Commission'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, data.vendors.map((v) => el('tr', { 'data-vendor': v.vendor_id },
        cell('Vendor', el('a', { href: `#vendors/${encodeURIComponent(v.vendor_id)}` }, v.name), el('div', { class: 'muted' }, v.vendor_id)),
        cell('Email', v.email),
        cell('State', v.state),
        cell('Commission', `${(v.commission_bps / 100).toFixed(2)} %`)))))),
  );
}

/** The acts on a vendor's state its state allows: hold or release; suspend or resume. */
function stateForms(v) {
  const act = (verb, title, danger, said) => reasonForm({
    id: `${verb}-form`, title, button: verb[0].toUpperCase() + verb.slice(1), danger,
    work: async (reason) => {
      await call('POST', `vendors/${encodeURIComponent(v.vendor_id)}/${verb}`, { body: { reason } });
      flash(said);
      route();
    },
  });
  const forms = [];
  if (v.state === 'suspended') forms.push(act('resume', 'Resume it: what waited is routed', false, `${v.vendor_id} is resumed.`));
  else forms.push(act('suspend', 'Suspend it: its keys are refused, its SKUs routed to no one', true, `${v.vendor_id} is suspended.`));
  if (v.state === 'held') forms.push(act('release', 'Release its held orders', false, `${v.vendor_id} is released: what waited is routed.`));
  else if (v.state === 'active') forms.push(act('hold', 'Hold its new orders for review', true, `${v.vendor_id} is held: its new orders wait for you.`));
  return el('div', { class: 'actions' }, forms);
}

async function vendorView(id, show) {
  const [{ data: d }, { data: orders }] = await Promise.all([
    call('GET', `vendors/${encodeURIComponent(id)}`),
    call('GET', `orders?${new URLSearchParams({ vendor: id, limit: '20' })}`),
  ]);
  const v = d.vendor;
  show(
    el('p', {}, el('a', { href: '#vendors' }, '← Vendors')),
    el('h1', { id: 'vendor-title' }, `${v.name} (${v.vendor_id}) `, el('span', { class: 'badge' }, v.state)),
    el('section', { class: 'card' }, el('h2', {}, 'State'), stateForms(v)),
    el('section', { class: 'card' }, el('h2', {}, 'Scorecard'), scorecardTable(d.scorecard, 'vendor-scorecard')),
    el('section', { class: 'card' }, el('h2', {}, 'Latest orders'),
      orders.orders.length === 0 ? el('p', { class: 'muted' }, 'No orders yet.')
        : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'vendor-orders' },
          el('thead', {}, el('tr', {}, ['Order', 'Status', 'Created', 'Customer', 'Total', 'Vendors', 'Waiting lines'].map((h) => el('th', { scope: 'col' }, h)))),
          el('tbody', {}, orders.orders.map(orderRow))))),
    el('section', { class: 'card' }, el('h2', {}, 'Balance'),
      d.balance.balances.length === 0 ? el('p', { class: 'muted' }, 'No earnings yet.')
        : el('ul', { id: 'vendor-balance' }, d.balance.balances.map((b) =>
          el('li', {}, `${b.currency}: held ${money(b.held)}, available ${money(b.available)}, in payout ${money(b.in_payout)}, paid out ${money(b.paid_out)}`)))),
    el('section', { class: 'card' }, el('h2', {}, 'API keys'),
      d.keys.length === 0 ? el('p', { class: 'muted' }, 'No keys (dropflow key create).')
        : el('ul', { id: 'vendor-keys' }, d.keys.map((k) =>
          el('li', {}, `${k.prefix}… created `, when(k.created_at), `, last used ${k.last_used || 'never'}${k.revoked ? ', revoked' : ''}`)))),
    el('section', { class: 'card' }, el('h2', {}, 'Products'),
      d.products.length === 0 ? el('p', { class: 'muted' }, 'No products.')
        : el('ul', { id: 'vendor-products' }, d.products.map((p) => el('li', {}, `${p.sku}: ${p.supplier_name}, ${money(p.supplier_cost)}`)))),
  );
}

// --- Scorecards -----------------------------------------------------------------------

const RANK = { failing: 0, at_risk: 1, good: 2 };

async function scorecardsView(show) {
  const { data } = await call('GET', 'scorecards');
  const by = sessionStorage.getItem('dropflow.operator.sort') || 'late_shipment_rate';
  const select = el('select', { id: 'score-sort', name: 'sort' },
    Object.entries(MEASURES).map(([name, { label }]) => el('option', { value: name, selected: name === by }, label)));
  select.addEventListener('change', () => { sessionStorage.setItem('dropflow.operator.sort', select.value); route('score-sort'); });
  // Worst first: failing, then at risk, then by the value (its direction).
  const worse = (a, b) => {
    const [ma, mb] = [a.scorecard.measures[by], b.scorecard.measures[by]];
    const flip = MEASURES[by].better === 'lower' ? -1 : 1;
    return (RANK[ma.state] - RANK[mb.state]) || flip * ((ma.value ?? 0) - (mb.value ?? 0));
  };
  const rows = [...data.vendors].sort(worse);
  show(
    el('h1', {}, 'Scorecards'),
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'score-sort' }, 'Worst first by'), select)),
    el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'scorecards' },
      el('thead', {}, el('tr', {}, ['Vendor', ...Object.values(MEASURES).map((m) => m.label)].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((v) => el('tr', { 'data-vendor': v.vendor.vendor_id },
        cell('Vendor', el('a', { href: `#scorecards/${encodeURIComponent(v.vendor.vendor_id)}` }, v.vendor.name), el('div', { class: 'muted' }, v.vendor.state)),
        Object.entries(MEASURES).map(([name, { label }]) => {
          const m = v.scorecard.measures[name];
          return cell(label, percent(m.value), ' ', el('span', { class: m.state === 'good' ? 'badge' : 'badge late' }, STANDINGS[m.state] || m.state));
        })))))),
  );
}

async function scorecardView(id, show) {
  const { data } = await call('GET', 'scorecards');
  const found = data.vendors.find((v) => v.vendor.vendor_id === id);
  if (!found) throw new ApiError(404, `No vendor ${id}.`);
  show(
    el('p', {}, el('a', { href: '#scorecards' }, '← Scorecards')),
    el('h1', {}, `${found.vendor.name} (${found.vendor.vendor_id})`),
    scorecardTable(found.scorecard, 'scorecard'),
  );
}

// --- Dead letters ---------------------------------------------------------------------

// --- Payouts --------------------------------------------------------------------------

/** The payment run: run the payouts now, export them for the bank, mark each paid. */
async function payoutsView(show) {
  const { data } = await call('GET', 'payouts');
  const again = (said) => { flash(said); route(); };
  const run = reasonForm({
    id: 'run-payouts-form',
    title: 'Run the payouts now',
    button: 'Run them',
    work: async (reason) => {
      const { data: ran } = await call('POST', 'payouts/run', { body: { reason } });
      again(`${ran.released} earnings released, ${ran.payouts.length} payouts created${ran.refused.length ? `; refused, for a person to look at: ${ran.refused.join('; ')}` : ''}.`);
    },
  });
  const csv = el('pre', { id: 'payout-csv', hidden: true });
  const download = el('a', { id: 'payout-csv-link', download: 'payouts.csv', hidden: true }, 'Save payouts.csv');
  const exportButton = el('button', { type: 'button', id: 'export-payouts' }, 'Export for the bank (CSV)');
  exportButton.addEventListener('click', async () => {
    let text;
    try {
      ({ text } = await call('GET', 'payouts/export', { headers: { Accept: 'text/csv' } }));
    } catch (error) {
      flash(`The export failed: ${error.message}`);
      return;
    }
    csv.textContent = text;
    csv.hidden = false;
    download.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    download.hidden = false;
  });
  // Form ids by row (a payout id has dots, which a selector would read as classes).
  const markPaid = (p, i) => reasonForm({
    id: `paid-${i}`,
    title: 'Mark paid',
    button: 'Mark paid',
    extra: [field(`paid-${i}-reference`, 'Transfer reference', { required: true, maxlength: 200, autocomplete: 'off' })],
    work: async (reason, form) => {
      const reference = form.querySelector(`#paid-${i}-reference`).value.trim();
      await call('POST', `payouts/${encodeURIComponent(p.payout.payout_id)}/paid`, { body: { reference, reason } });
      again(`Payout ${p.payout.payout_id} to ${p.vendor_id} is paid (${reference}); the vendor is told.`);
    },
  });
  show(
    el('h1', {}, 'Payouts'),
    el('div', { class: 'actions' }, run, el('div', {}, el('h3', {}, 'The payment run'), exportButton, ' ', download)),
    csv,
    data.payouts.length === 0
      ? el('p', { class: 'muted' }, 'No payout waits to be transferred.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'payouts' },
        el('thead', {}, el('tr', {}, ['Vendor', 'Pay to', 'Amount', 'Created', 'Transfer'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, data.payouts.map((p, i) => el('tr', { 'data-payout': p.payout.payout_id },
          cell('Vendor', p.name || p.vendor_id, el('div', { class: 'muted' }, p.email)),
          cell('Pay to', p.payee || el('span', { class: 'error' }, 'No payee: it cannot be paid until the vendor has one')),
          cell('Amount', money(p.payout.amount)),
          cell('Created', when(p.payout.created_at)),
          cell('Transfer', p.payee ? markPaid(p, i) : '—')))))),
  );
}

async function lettersView(show) {
  const { data } = await call('GET', 'dead-letters');
  show(
    el('h1', {}, 'Dead letters'),
    data.dead_letters.length === 0
      ? el('p', { class: 'muted' }, 'No dead letters: everything was processed.')
      : el('div', { class: 'scroll' }, el('table', { class: 'list', id: 'dead-letters' },
        el('thead', {}, el('tr', {}, ['Letter', 'Queue', 'About', 'Why', 'First seen'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, data.dead_letters.map((d) => el('tr', { 'data-letter': d.id },
          cell('Letter', el('a', { href: `#dead-letters/${encodeURIComponent(d.id)}` }, d.id)),
          cell('Queue', d.queue),
          cell('About', d.summary),
          cell('Why', d.reason),
          cell('First seen', when(d.first_seen))))))),
  );
}

async function letterView(id, show) {
  const { data: d } = await call('GET', `dead-letters/${encodeURIComponent(id)}`);
  // Back to the list without a hashchange (which clears the message).
  const done = (message) => { history.pushState(null, '', '#dead-letters'); route(); flash(message); };
  let body = d.body;
  try { body = JSON.stringify(JSON.parse(d.body), null, 2); } catch { /* shown as it is */ }
  show(
    el('p', {}, el('a', { href: '#dead-letters' }, '← Dead letters')),
    el('h1', { id: 'letter-title' }, `Dead letter ${d.id}`),
    el('section', { class: 'card' }, el('dl', { class: 'pairs' },
      el('dt', {}, 'Queue'), el('dd', {}, d.queue),
      el('dt', {}, 'About'), el('dd', {}, d.summary),
      el('dt', {}, 'Why'), el('dd', {}, d.reason),
      el('dt', {}, 'First seen'), el('dd', {}, when(d.first_seen)),
      el('dt', {}, 'Size'), el('dd', {}, `${d.bytes} bytes`))),
    el('div', { class: 'actions' },
      reasonForm({
        id: 'replay-form', title: 'Replay it to its queue', button: 'Replay',
        work: async (reason) => { await call('POST', `dead-letters/${encodeURIComponent(id)}/replay`, { body: { reason } }); done(`Dead letter ${id} sent back to the ${d.queue} queue.`); },
      }),
      reasonForm({
        id: 'discard-form', title: 'Discard it: it is not to be processed', button: 'Discard', danger: true,
        work: async (reason) => { await call('POST', `dead-letters/${encodeURIComponent(id)}/discard`, { body: { reason } }); done(`Dead letter ${id} discarded.`); },
      })),
    el('section', { class: 'card' }, el('h2', {}, 'Body, as it will be replayed'), el('pre', { class: 'scroll', id: 'letter-body' }, body)),
  );
}

start();
