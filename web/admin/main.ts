/**
 * The organiser's and support staff's console: sign in with the admin token,
 * list and create events (from a form or an uploaded seat plan), open, pause,
 * resume and close a sale, watch its live dashboard, find orders and refund
 * them, and jump to any checkout in the Temporal UI.
 */
import { api, ApiError, session } from './api';
import { rateChart, type Sample } from './chart';
import { h, money, when } from './dom';
import { parseSeatPlan, SeatPlanError, seatCount, type SectionPlan } from './seat-plan';

interface ConsoleConfig {
  mode: 'development' | 'production';
  temporalUiUrl: string;
  temporalNamespace: string;
}

const config = JSON.parse(document.getElementById('onsale-config')!.textContent ?? '{}') as ConsoleConfig;
const main = document.getElementById('main')!;
let stopPolling: (() => void) | null = null;

const POLL_MS = 2000;
const KEEP_MS = 10 * 60_000;

function show(...nodes: Node[]): void {
  stopPolling?.();
  stopPolling = null;
  main.replaceChildren(...nodes);
  main.querySelector<HTMLElement>('h1')?.focus();
}

function errorText(err: unknown): string {
  return err instanceof ApiError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
}

function flash(target: HTMLElement, text: string, kind: 'error' | 'ok' = 'error'): void {
  target.textContent = text;
  target.className = kind === 'error' ? 'error' : 'notice';
  target.hidden = false;
}

function route(): void {
  if (!session.token) return signIn();
  const m = /^#\/events\/([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (m) return void dashboard(m[1]!);
  if (location.hash === '#/new') return createEvent();
  void eventList();
}

// ------------------------------------------------------------------ sign in --

function signIn(): void {
  const token = h('input', { id: 'admin-token', type: 'password', autocomplete: 'off', required: true });
  const actor = h('input', { id: 'admin-actor', maxlength: 100, placeholder: 'e.g. Rosa (support)' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  show(
    h(
      'section',
      { class: 'panel narrow' },
      h('h1', { tabindex: -1 }, 'Organiser console'),
      h(
        'form',
        {
          class: 'stack',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            try {
              await api('GET', '/v1/admin/events?limit=1', undefined, token.value.trim());
              session.signIn(token.value.trim(), actor.value.trim());
              route();
            } catch (err) {
              flash(error, err instanceof ApiError && err.status < 500 ? 'That is not the admin token.' : errorText(err));
            }
          },
        },
        h('label', { for: 'admin-token' }, 'Admin token'),
        token,
        h('label', { for: 'admin-actor' }, 'Your name (recorded with every action)'),
        actor,
        error,
        h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
      ),
      h('p', { class: 'muted' }, `The token stays in this tab only (sessionStorage). This deployment runs in ${config.mode} mode.`),
    ),
  );
}

// --------------------------------------------------------------- event list --

async function eventList(cursor?: string): Promise<void> {
  const status = h(
    'select',
    { id: 'status-filter', 'aria-label': 'Status' },
    ...['', 'draft', 'scheduled', 'on_sale', 'paused', 'sold_out', 'closed'].map((s) => h('option', { value: s }, s || 'all')),
  );
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  let next: string | undefined = cursor;
  const load = async (reset: boolean) => {
    if (reset) {
      tbody.replaceChildren();
      next = undefined;
    }
    try {
      const q = new URLSearchParams({ limit: '25' });
      if (status.value) q.set('status', status.value);
      if (next) q.set('cursor', next);
      const { body } = await api<{ events: any[]; nextCursor?: string }>('GET', `/v1/admin/events?${q}`);
      for (const e of body.events) {
        tbody.append(
          h(
            'tr',
            { 'data-event-id': e.eventId },
            h('td', {}, h('a', { href: `#/events/${e.eventId}` }, e.name)),
            h('td', {}, e.venue ?? '—'),
            h('td', {}, when(e.startsAt)),
            h('td', {}, h('span', { class: `badge badge-${e.status}` }, e.status.replace('_', ' '))),
            h('td', { class: 'num' }, `${e.counts.sold} / ${e.counts.sold + e.counts.held + e.counts.available}`),
            h('td', { class: 'num' }, money(e.revenueCents)),
          ),
        );
      }
      next = body.nextCursor;
      more.hidden = !next;
    } catch (err) {
      flash(error, errorText(err));
    }
  };
  status.addEventListener('change', () => void load(true));
  more.addEventListener('click', () => void load(false));
  show(
    h(
      'section',
      { class: 'panel' },
      h(
        'div',
        { class: 'console-head' },
        h('h1', { tabindex: -1 }, 'Events'),
        h('a', { href: '#/new', class: 'button primary', role: 'button' }, 'New event'),
        h('button', { type: 'button', class: 'link', onclick: () => (session.signOut(), route()) }, 'Sign out'),
      ),
      h('label', { for: 'status-filter' }, 'Status '),
      status,
      error,
      h(
        'table',
        { class: 'console-table', 'aria-label': 'Events' },
        h('thead', {}, h('tr', {}, ...['Event', 'Venue', 'Starts', 'Status', 'Sold', 'Revenue'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody,
      ),
      more,
    ),
  );
  await load(true);
}

// ------------------------------------------------------------- create event --

function createEvent(): void {
  const field = (id: string, label: string, input: HTMLInputElement | HTMLTextAreaElement) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const name = h('input', { id: 'ev-name', required: true, maxlength: 200 });
  const venue = h('input', { id: 'ev-venue', maxlength: 200 });
  const startsAt = h('input', { id: 'ev-starts', type: 'datetime-local' });
  const onSaleAt = h('input', { id: 'ev-onsale', type: 'datetime-local' });
  const description = h('textarea', { id: 'ev-description', rows: 2, maxlength: 5000 });
  const holdSeconds = h('input', { id: 'ev-hold', type: 'number', min: 30, max: 3600, value: 300 });
  const maxSeats = h('input', { id: 'ev-max', type: 'number', min: 1, max: 50, value: 6 });
  const wrEnabled = h('input', { id: 'ev-wr', type: 'checkbox', checked: true });
  const admitPerMinute = h('input', { id: 'ev-rate', type: 'number', min: 1, value: 6000 });
  const maxActive = h('input', { id: 'ev-active', type: 'number', min: 1, value: 500 });
  const plan = h('textarea', {
    id: 'ev-plan',
    rows: 5,
    spellcheck: 'false',
    'aria-describedby': 'plan-help',
  });
  plan.value = 'id,name,rows,seatsPerRow,priceCents\nFLOOR,Floor,10,20,9500\nB1,Balcony,6,16,5500';
  const file = h('input', { id: 'ev-plan-file', type: 'file', accept: '.csv,.json,text/csv,application/json' });
  const summary = h('p', { class: 'muted', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  let sections: SectionPlan[] = [];
  let extra: Record<string, unknown> = {};
  const reparse = (fileName = 'plan.csv') => {
    try {
      const p = parseSeatPlan(fileName, plan.value);
      sections = p.sections;
      extra = p.event;
      if (typeof extra.name === 'string' && !name.value) name.value = extra.name;
      if (typeof extra.venue === 'string' && !venue.value) venue.value = extra.venue;
      summary.textContent = `${sections.length} sections, ${seatCount(sections).toLocaleString('en-US')} seats`;
      error.hidden = true;
    } catch (err) {
      sections = [];
      flash(error, err instanceof SeatPlanError ? err.message : errorText(err));
    }
  };
  plan.addEventListener('input', () => reparse());
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    plan.value = await f.text();
    reparse(f.name);
  });
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  show(
    h(
      'section',
      { class: 'panel' },
      h('h1', { tabindex: -1 }, 'New event'),
      h(
        'form',
        {
          class: 'stack console-form',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            reparse();
            if (!sections.length) return;
            const { sections: _s, name: _n, venue: _v, ...rest } = { sections: 0, name: 0, venue: 0, ...extra };
            const body = {
              ...rest,
              name: name.value.trim(),
              ...(venue.value.trim() && { venue: venue.value.trim() }),
              ...(description.value.trim() && { description: description.value.trim() }),
              ...(iso(startsAt.value) && { startsAt: iso(startsAt.value) }),
              ...(iso(onSaleAt.value) && { onSaleAt: iso(onSaleAt.value) }),
              holdSeconds: Number(holdSeconds.value),
              maxSeatsPerBuyer: Number(maxSeats.value),
              waitingRoom: {
                enabled: wrEnabled.checked,
                admitPerMinute: Number(admitPerMinute.value),
                maxActiveCheckouts: Number(maxActive.value),
              },
              sections,
            };
            try {
              const { body: created } = await api<{ eventId: string }>('POST', '/v1/admin/events', body);
              location.hash = `#/events/${created.eventId}`;
            } catch (err) {
              flash(error, errorText(err));
            }
          },
        },
        field('ev-name', 'Name', name),
        field('ev-venue', 'Venue', venue),
        field('ev-starts', 'Show starts', startsAt),
        field('ev-onsale', 'On sale from (empty: when opened)', onSaleAt),
        field('ev-description', 'Description', description),
        field('ev-hold', 'Hold window (seconds)', holdSeconds),
        field('ev-max', 'Seats per buyer', maxSeats),
        h('div', { class: 'field' }, h('label', {}, wrEnabled, ' Waiting room')),
        field('ev-rate', 'Admit per minute', admitPerMinute),
        field('ev-active', 'Checkouts at once', maxActive),
        field('ev-plan', 'Seat plan (CSV or JSON)', plan),
        h(
          'p',
          { id: 'plan-help', class: 'muted' },
          'CSV columns: id, name, rows, seatsPerRow, priceCents (or price in dollars). JSON: an array of sections, or an event with "sections".',
        ),
        field('ev-plan-file', 'Or upload a seat plan', file),
        summary,
        error,
        h('button', { type: 'submit', class: 'primary' }, 'Create event'),
      ),
      h('p', {}, h('a', { href: '#/' }, '← All events')),
    ),
  );
  reparse();
}

// ---------------------------------------------------------------- dashboard --

const TILES: { key: string; label: string; format?: (n: number) => string }[] = [
  { key: 'queueLength', label: 'In the queue' },
  { key: 'servingPosition', label: 'Serving position' },
  { key: 'admitted', label: 'Admitted' },
  { key: 'activeHolds', label: 'Active holds' },
  { key: 'sold', label: 'Seats sold' },
  { key: 'revenueCents', label: 'Revenue', format: money },
];

const SERIES = [
  { key: 'admitted', label: 'Admitted / min', colour: '#1f5fbf' },
  { key: 'queueLength', label: 'Joined / min', colour: '#7c3aed' },
  { key: 'sold', label: 'Seats sold / min', colour: '#0f7a55' },
  // Revenue per minute is on its tile: in dollars it would flatten the other lines.
];

async function dashboard(eventId: string): Promise<void> {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  let event: any;
  try {
    event = (await api('GET', `/v1/admin/events/${eventId}?recent=0`)).body;
  } catch (err) {
    show(h('section', { class: 'panel' }, h('h1', { tabindex: -1 }, 'Event'), h('p', { class: 'error' }, errorText(err))));
    return;
  }
  const badge = h('span', { class: `badge badge-${event.status}`, 'data-testid': 'event-status' }, event.status);
  const tiles = new Map<string, HTMLElement>();
  const rates = new Map<string, HTMLElement>();
  const chartBox = h('div', { class: 'chart', 'data-testid': 'rate-chart' });
  const samples: Sample[] = [];
  const act = (action: 'open' | 'pause' | 'resume' | 'close') =>
    h(
      'button',
      {
        type: 'button',
        class: action === 'close' ? 'secondary danger' : 'secondary',
        'data-action': action,
        onclick: async (e: Event) => {
          const btn = e.currentTarget as HTMLButtonElement;
          if (action === 'close' && !confirm('Close the sale? Nobody new is admitted; live holds run out or are bought.')) return;
          btn.disabled = true;
          try {
            await api('POST', `/v1/admin/events/${eventId}/${action}`);
            flash(error, `Sale ${action === 'open' ? 'opened' : action === 'close' ? 'closed' : `${action}d`}.`, 'ok');
            await poll();
          } catch (err) {
            flash(error, errorText(err));
          } finally {
            btn.disabled = false;
          }
        },
      },
      action[0]!.toUpperCase() + action.slice(1),
    );
  const tileList = h(
    'dl',
    { class: 'tiles' },
    ...TILES.map((t) => {
      const v = h('dd', { 'data-stat': t.key }, '—');
      const r = h('span', { class: 'rate muted', 'data-rate': t.key }, '');
      tiles.set(t.key, v);
      rates.set(t.key, r);
      return h('div', { class: 'tile' }, h('dt', {}, t.label), v, r);
    }),
  );
  const poll = async () => {
    try {
      const { body: s } = await api<any>('GET', `/v1/admin/events/${eventId}/stats`);
      badge.textContent = s.status;
      badge.className = `badge badge-${s.status}`;
      const now = Date.parse(s.at);
      samples.push({ at: now, values: { ...s, revenueDollars: s.revenueCents / 100 } });
      while (samples.length > 2 && now - samples[0]!.at > KEEP_MS) samples.shift();
      for (const t of TILES) tiles.get(t.key)!.textContent = (t.format ?? ((n: number) => n.toLocaleString('en-US')))(s[t.key]);
      const first = samples.find((x) => now - x.at <= 60_000) ?? samples[0]!;
      const dt = now - first.at;
      for (const t of TILES) {
        if (t.key === 'servingPosition' || t.key === 'activeHolds') continue;
        const d = (s[t.key] as number) - (first.values[t.key] ?? 0);
        rates.get(t.key)!.textContent =
          dt > 0 ? ` ${t.format ? t.format(Math.round((d * 60_000) / dt)) : Math.round((d * 60_000) / dt)}/min` : '';
      }
      chartBox.replaceChildren(
        rateChart(samples, SERIES),
        h('ul', { class: 'legend' }, ...SERIES.map((x) => h('li', { style: `--c:${x.colour}` }, x.label))),
      );
      document.body.dataset.samples = String(samples.length);
    } catch (err) {
      flash(error, errorText(err));
    }
  };
  show(
    h(
      'section',
      { class: 'panel' },
      h('p', {}, h('a', { href: '#/' }, '← All events')),
      h('div', { class: 'console-head' }, h('h1', { tabindex: -1 }, event.name), badge),
      h(
        'p',
        { class: 'muted' },
        [event.venue, event.startsAt ? `starts ${when(event.startsAt)}` : null, `on sale ${when(event.onSaleAt)}`]
          .filter(Boolean)
          .join(' · '),
        ' · ',
        h('code', {}, eventId),
      ),
      h('div', { class: 'row actions', role: 'group', 'aria-label': 'Sale' }, act('open'), act('pause'), act('resume'), act('close')),
      error,
      tileList,
      h('h2', {}, 'Rates per minute'),
      chartBox,
      h(
        'p',
        {},
        'Temporal UI: ',
        h(
          'a',
          { href: event.temporal.checkouts, target: '_blank', rel: 'noopener', 'data-testid': 'temporal-checkouts' },
          'every checkout',
        ),
        ' · ',
        h('a', { href: event.temporal.admission, target: '_blank', rel: 'noopener' }, 'the admission workflow'),
        ' · ',
        h('a', { href: `/events/${eventId}`, target: '_blank', rel: 'noopener' }, 'buyer page'),
      ),
    ),
    orders(eventId),
  );
  await poll();
  const timer = setInterval(() => void poll(), POLL_MS);
  stopPolling = () => clearInterval(timer);
}

// ------------------------------------------------------------------- orders --

function orders(eventId: string): HTMLElement {
  const email = h('input', { id: 'order-email', type: 'email', placeholder: 'buyer@example.com' });
  const buyerId = h('input', { id: 'order-buyer', placeholder: 'byr_…' });
  const status = h('select', { id: 'order-status' }, ...['', 'confirmed', 'refunded'].map((s) => h('option', { value: s }, s || 'any')));
  const tbody = h('tbody');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'More orders');
  let next: string | undefined;
  const row = (o: any): HTMLElement => {
    const refund = h(
      'button',
      { type: 'button', class: 'secondary', 'data-refund': o.orderId, disabled: o.status !== 'confirmed' },
      'Refund',
    );
    const resend = h('button', { type: 'button', class: 'link', disabled: o.status !== 'confirmed' }, 'Resend e-mail');
    const tr = h(
      'tr',
      { 'data-order-id': o.orderId },
      h('td', {}, h('code', {}, o.orderId)),
      h('td', {}, o.email ?? o.buyerId),
      h('td', {}, o.seatIds.join(', ')),
      h('td', { class: 'num' }, money(o.amountCents)),
      h('td', { 'data-testid': 'order-status' }, o.status),
      h('td', {}, h('a', { href: o.temporalUrl, target: '_blank', rel: 'noopener', 'data-testid': 'order-temporal' }, 'checkout')),
      h('td', {}, refund, ' ', resend),
    );
    refund.addEventListener('click', async () => {
      if (!confirm(`Refund ${money(o.amountCents)} and put ${o.seatIds.join(', ')} back on sale?`)) return;
      refund.disabled = true;
      try {
        const { body } = await api<any>('POST', `/v1/admin/orders/${o.orderId}/refund`);
        tr.replaceWith(row({ ...o, status: body.status }));
        flash(error, `Order ${o.orderId} ${body.status}; its seats are back on sale.`, 'ok');
      } catch (err) {
        refund.disabled = false;
        flash(error, errorText(err));
      }
    });
    resend.addEventListener('click', async () => {
      try {
        await api('POST', `/v1/admin/orders/${o.orderId}/resend-confirmation`);
        flash(error, `Confirmation for ${o.orderId} queued.`, 'ok');
      } catch (err) {
        flash(error, errorText(err));
      }
    });
    return tr;
  };
  const search = async (reset: boolean) => {
    if (reset) {
      tbody.replaceChildren();
      next = undefined;
    }
    const q = new URLSearchParams({ limit: '25' });
    if (email.value.trim()) q.set('email', email.value.trim());
    if (buyerId.value.trim()) q.set('buyerId', buyerId.value.trim());
    if (status.value) q.set('status', status.value);
    if (next) q.set('cursor', next);
    try {
      const { body } = await api<{ orders: any[]; nextCursor?: string }>('GET', `/v1/admin/events/${eventId}/orders?${q}`);
      tbody.append(...body.orders.map(row));
      if (reset && !body.orders.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No orders match.')));
      next = body.nextCursor;
      more.hidden = !next;
    } catch (err) {
      flash(error, errorText(err));
    }
  };
  more.addEventListener('click', () => void search(false));
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Orders'),
    h(
      'form',
      {
        class: 'row',
        'aria-label': 'Find orders',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void search(true);
        },
      },
      h('label', { for: 'order-email' }, 'E-mail'),
      email,
      h('label', { for: 'order-buyer' }, 'Buyer id'),
      buyerId,
      h('label', { for: 'order-status' }, 'Status'),
      status,
      h('button', { type: 'submit', class: 'primary' }, 'Find orders'),
    ),
    error,
    h(
      'table',
      { class: 'console-table', 'aria-label': 'Orders' },
      h(
        'thead',
        {},
        h('tr', {}, ...['Order', 'Buyer', 'Seats', 'Amount', 'Status', 'Temporal', ''].map((c) => h('th', { scope: 'col' }, c))),
      ),
      tbody,
    ),
    more,
  );
}

window.addEventListener('hashchange', route);
route();
