import { h, setText } from '../dom.js';
import { errorText, type Api } from '../api.js';
import type { View } from '../context.js';
import { DASH, fmtAgo, fmtBytes, fmtInt } from '../format.js';
import type { Device, DeviceDetail, DeviceList } from '../types.js';
import { field, notice, onlineBadge, statusBadge } from '../widgets.js';

const PAGE_SIZE = 25;
/** Counters come from GET /devices/{id} (the list has none); a fetched one is good for this long. */
const COUNTERS_TTL_MS = 30_000;
const COUNTER_FETCHES_AT_ONCE = 4;

type SortKey = 'name' | 'type' | 'status' | 'online' | 'last_seen' | 'messages' | 'bytes';
const COLUMNS: Array<{ key: SortKey; label: string }> = [
  { key: 'name', label: 'Name' }, { key: 'type', label: 'Type' }, { key: 'status', label: 'Status' }, { key: 'online', label: 'Connection' },
  { key: 'last_seen', label: 'Last seen' }, { key: 'messages', label: 'Messages (month)' }, { key: 'bytes', label: 'Bytes (month)' },
];

/** Every device, page by page (100 is the API's largest page): a building has hundreds, not millions. */
export async function loadAllDevices(api: Api): Promise<Device[]> {
  const out: Device[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api.get<DeviceList>(`/devices?limit=100&offset=${offset}`);
    out.push(...page.devices);
    if (page.devices.length === 0 || out.length >= page.total) return out;
  }
}

/** The devices table: search, filters, sorting, paging; connection state follows the event stream. */
export const devicesView: View = (ctx, root) => {
  ctx.title('Devices');
  const devices = new Map<string, Device>();
  /** null: the fetch failed; shown as "—" and retried after the TTL. */
  const counters = new Map<string, { at: number; detail: DeviceDetail | null }>();
  const pending = new Set<string>();
  let sort: { key: SortKey; dir: 1 | -1 } = { key: 'name', dir: 1 };
  let page = 0;
  let closed = false;
  let frame = 0;

  const search = h('input', { id: 'device-search', type: 'search', autocomplete: 'off', placeholder: 'name, id, type' });
  const statusFilter = h('select', { id: 'status-filter' }, h('option', { value: '' }, 'Any'), h('option', { value: 'active' }, 'Active'), h('option', { value: 'disabled' }, 'Disabled'));
  const onlineFilter = h('select', { id: 'online-filter' }, h('option', { value: '' }, 'Any'), h('option', { value: 'online' }, 'Online'), h('option', { value: 'offline' }, 'Offline'));
  const summary = h('p', { id: 'devices-summary', 'aria-live': 'polite' }, 'Loading devices…');
  const head = h('tr');
  const body = h('tbody');
  const prev = h('button', { type: 'button' }, '← Previous');
  const next = h('button', { type: 'button' }, 'Next →');
  const pageLabel = h('span', { class: 'page-label' });
  const message = h('div');

  root.replaceChildren(
    h('div', { class: 'title-row' }, h('h1', null, 'Devices'), ctx.admin ? h('a', { class: 'button primary', href: '#/devices/new', id: 'register-link' }, 'Register a device') : null),
    h('div', { class: 'toolbar', role: 'search' }, field('Search', search), field('Status', statusFilter), field('Connection', onlineFilter)),
    message,
    summary,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'devices', id: 'devices-table' }, h('caption', { class: 'sr-only' }, 'Devices; column headers sort the table'), h('thead', null, head), body)),
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, pageLabel, next),
  );

  const schedule = (): void => {
    if (frame) return;
    frame = requestAnimationFrame(() => { frame = 0; render(); });
  };

  const messagesOf = (id: string): number | undefined => { const c = counters.get(id)?.detail; return c ? c.messages_in + c.messages_out : undefined; };
  const bytesOf = (id: string): number | undefined => { const c = counters.get(id)?.detail; return c ? c.bytes_in + c.bytes_out : undefined; };

  const compare = (a: Device, b: Device): number => {
    const k = sort.key;
    let d = 0;
    if (k === 'online') d = Number(b.online) - Number(a.online);
    else if (k === 'last_seen') d = (Date.parse(b.last_seen ?? '') || 0) - (Date.parse(a.last_seen ?? '') || 0);
    else if (k === 'messages') d = (messagesOf(a.device_id) ?? -1) - (messagesOf(b.device_id) ?? -1);
    else if (k === 'bytes') d = (bytesOf(a.device_id) ?? -1) - (bytesOf(b.device_id) ?? -1);
    else d = a[k].localeCompare(b[k], undefined, { sensitivity: 'base', numeric: true });
    return d * sort.dir || a.name.localeCompare(b.name);
  };

  const visible = (): Device[] => {
    const q = search.value.trim().toLowerCase();
    return [...devices.values()].filter((d) =>
      (!q || d.name.toLowerCase().includes(q) || d.device_id.includes(q) || d.type.toLowerCase().includes(q) || d.description.toLowerCase().includes(q))
      && (!statusFilter.value || d.status === statusFilter.value)
      && (!onlineFilter.value || d.online === (onlineFilter.value === 'online')),
    ).sort(compare);
  };

  // Header buttons are built once and updated, so keyboard focus stays on the one just pressed.
  const heads = COLUMNS.map((c) => {
    const arrow = h('span', { 'aria-hidden': 'true' });
    const button = h('button', { type: 'button', class: 'sort' }, c.label, arrow);
    const th = h('th', { scope: 'col' }, button);
    button.addEventListener('click', () => {
      sort = sort.key === c.key ? { key: c.key, dir: sort.dir === 1 ? -1 : 1 } : { key: c.key, dir: c.key === 'name' || c.key === 'type' || c.key === 'status' ? 1 : -1 };
      page = 0;
      if (sort.key === 'messages' || sort.key === 'bytes') void fetchCounters([...devices.keys()]);
      render();
    });
    return { key: c.key, th, arrow };
  });
  head.replaceChildren(...heads.map((x) => x.th));
  const renderHead = (): void => {
    for (const x of heads) {
      const active = sort.key === x.key;
      x.th.setAttribute('aria-sort', active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none');
      setText(x.arrow, active ? (sort.dir === 1 ? ' ▲' : ' ▼') : '');
    }
  };

  const render = (): void => {
    if (closed) return;
    const rows = visible();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    renderHead();
    // A live redraw must not throw keyboard focus out of the table.
    const focused = body.contains(document.activeElement) ? (document.activeElement as HTMLElement).getAttribute('href') : null;
    body.replaceChildren(...shown.map((d) => {
      const entry = counters.get(d.device_id);
      const c = entry?.detail;
      const missing = entry ? DASH : '…';
      return h('tr', { 'data-device-id': d.device_id },
        h('td', { 'data-label': 'Name' }, h('a', { href: `#/devices/${d.device_id}` }, d.name), h('br'), h('code', { class: 'muted small' }, d.device_id)),
        h('td', { 'data-label': 'Type' }, d.type),
        h('td', { 'data-label': 'Status' }, statusBadge(d.status)),
        h('td', { 'data-label': 'Connection' }, onlineBadge(d.online)),
        h('td', { 'data-label': 'Last seen' }, d.last_seen ? h('time', { datetime: d.last_seen, title: new Date(d.last_seen).toLocaleString() }, fmtAgo(d.last_seen)) : 'never'),
        h('td', { 'data-label': 'Messages', class: 'num' }, c ? `${fmtInt(c.messages_in)} in / ${fmtInt(c.messages_out)} out` : missing),
        h('td', { 'data-label': 'Bytes', class: 'num' }, c ? fmtBytes(c.bytes_in + c.bytes_out) : missing));
    }));
    if (devices.size === 0) body.replaceChildren(h('tr', null, h('td', { colspan: String(COLUMNS.length) }, ctx.admin ? 'No devices yet. Register one to get its MQTT credentials.' : 'No devices yet.')));
    setText(summary, rows.length === 0 ? (devices.size === 0 ? 'No devices.' : 'No device matches.')
      : `Showing ${page * PAGE_SIZE + 1}–${page * PAGE_SIZE + shown.length} of ${rows.length} devices${rows.length !== devices.size ? ` (${devices.size} in all)` : ''}, ${[...devices.values()].filter((d) => d.online).length} online.`);
    if (focused) body.querySelector<HTMLElement>(`a[href="${CSS.escape(focused)}"]`)?.focus();
    setText(pageLabel, `Page ${page + 1} of ${pages}`);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    void fetchCounters(shown.map((d) => d.device_id));
  };

  /** Loads counters of the given devices, a few requests at a time, then redraws once. */
  const fetchCounters = async (ids: string[]): Promise<void> => {
    const now = Date.now();
    const todo = ids.filter((id) => !pending.has(id) && now - (counters.get(id)?.at ?? 0) > COUNTERS_TTL_MS);
    if (todo.length === 0) return;
    for (const id of todo) pending.add(id);
    const queue = [...todo];
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined && !closed; id = queue.shift()) {
        try {
          const detail = await ctx.api.get<DeviceDetail>(`/devices/${id}`);
          counters.set(id, { at: Date.now(), detail });
        } catch {
          counters.set(id, { at: Date.now(), detail: null });
        } finally {
          pending.delete(id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(COUNTER_FETCHES_AT_ONCE, todo.length) }, worker));
    schedule();
  };

  // Connection changes seen on the stream while a (multi-page) load was under way win over its answers.
  const presenceSeen = new Map<string, { online: boolean; last_seen: string | null; at: number }>();
  const load = (): void => {
    const startedAt = performance.now();
    loadAllDevices(ctx.api).then((list) => {
      devices.clear();
      for (const d of list) {
        const p = presenceSeen.get(d.device_id);
        devices.set(d.device_id, p && p.at >= startedAt ? { ...d, online: p.online, last_seen: p.last_seen } : d);
      }
      message.replaceChildren();
      render();
    }, (err: unknown) => message.replaceChildren(notice('error', `Devices could not be loaded: ${errorText(err)}`)));
  };

  search.addEventListener('input', () => { page = 0; render(); });
  statusFilter.addEventListener('change', () => { page = 0; render(); });
  onlineFilter.addEventListener('change', () => { page = 0; render(); });
  prev.addEventListener('click', () => { page -= 1; render(); });
  next.addEventListener('click', () => { page += 1; render(); });
  load();

  let polls = 0;
  const presence = (e: { device_id: string; online: boolean; last_seen: string | null }): void => {
    presenceSeen.set(e.device_id, { online: e.online, last_seen: e.last_seen, at: performance.now() });
    const d = devices.get(e.device_id);
    if (d) { devices.set(d.device_id, { ...d, online: e.online, last_seen: e.last_seen }); schedule(); }
  };
  const offs = [
    ctx.live.on('device.online', presence),
    ctx.live.on('device.offline', presence),
    ctx.live.on('device.created', (d) => { devices.set(d.device_id, d); schedule(); }),
    ctx.live.on('device.updated', (d) => { devices.set(d.device_id, d); schedule(); }),
    ctx.live.on('device.deleted', (e) => { devices.delete(e.device_id); counters.delete(e.device_id); schedule(); }),
    // Not live: reload the list every third poll (15 s) so connection states do not go stale.
    ctx.live.on('poll', () => { polls += 1; if (polls % 3 === 0) load(); }),
    // Back live after a gap: events may have been missed meanwhile.
    ctx.live.on('hello', () => { if (polls > 0) { polls = 0; load(); } }),
  ];
  // "Last seen 12 s ago" ages even when nothing happens.
  const ager = window.setInterval(schedule, 10_000);
  return () => {
    closed = true;
    cancelAnimationFrame(frame);
    window.clearInterval(ager);
    for (const off of offs) off();
  };
};
