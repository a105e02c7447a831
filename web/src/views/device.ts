import { h, setText } from '../dom.js';
import { ApiError, errorText } from '../api.js';
import { Chart, RollingSeries } from '../charts.js';
import type { View } from '../context.js';
import { DASH, fmtAgo, fmtBytes, fmtDateTime, fmtInt, fmtRate } from '../format.js';
import { credentialsPanel } from '../snippets.js';
import type { CommandResult, DeviceDetail, MqttCredentials, PresenceEvent, Usage } from '../types.js';
import { card, confirmDialog, facts, field, figure, notice, onlineBadge, span, statusBadge } from '../widgets.js';

const RATE_WINDOW_SECONDS = 10 * 60;
const USAGE_DAYS = 30;
const REFRESH_MS = 30_000;

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** One device: live message rate, usage by day, configuration, and (admin keys) its actions. */
export const deviceView: View = (ctx, root, param) => {
  const id = param ?? '';
  let device: DeviceDetail | undefined;
  let disposeCredentials: (() => void) | undefined;
  let closed = false;
  // Connection state from the event stream, and when it came: an API answer to a request sent
  // before that must not overwrite it (a PATCH that disables answers "online" while the broker is
  // still disconnecting the device; the offline event may arrive before the answer).
  let presence: { online: boolean; last_seen: string | null; at: number } | undefined;

  const heading = h('h1', { id: 'device-name', tabindex: '-1' }, 'Device');
  const badges = h('div', { class: 'badges', id: 'device-badges', 'aria-live': 'polite' });
  const message = h('div', { id: 'device-message' });
  const v = {
    inRate: span(DASH), outRate: span(DASH), todayIn: span(DASH), todayOut: span(DASH),
    details: h('div'), counters: h('div'), config: h('div', null, h('p', { class: 'muted' }, 'Loading…')),
    usageTable: h('div'),
  };
  v.inRate.id = 'device-rate-in';
  const rateChart = new Chart({ label: 'This device\'s messages per second over the last 10 minutes', height: 160, series: [{ label: 'received/s', color: 'var(--c-in)' }, { label: 'sent/s', color: 'var(--c-out)', dash: [6, 4] }], valueFormat: fmtRate });
  const usageChart = new Chart({ label: `Messages per day over the last ${USAGE_DAYS} days`, height: 180, days: true, integer: true, series: [{ label: 'received', color: 'var(--c-in)', bars: -1 }, { label: 'sent', color: 'var(--c-out)', bars: 1 }], valueFormat: fmtInt });
  const rates = new RollingSeries(RATE_WINDOW_SECONDS, 2);
  const credentialsSlot = h('div');
  const actions = ctx.admin ? h('div', { id: 'device-actions' }) : null;

  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/devices' }, '← Devices')),
    h('div', { class: 'title-row' }, heading, badges),
    message,
    credentialsSlot,
    h('div', { class: 'grid' },
      card('Live message rate', { id: 'rate-card' },
        h('div', { class: 'figures' }, figure('received per second', v.inRate), figure('sent per second', v.outRate)),
        facts([['Received today', v.todayIn], ['Sent today', v.todayOut]]),
        rateChart.el),
      card('Details', { id: 'details-card' }, v.details),
      card('This month', { id: 'counters-card' }, v.counters),
      card(`Messages per day, last ${USAGE_DAYS} days`, { id: 'usage-card', wide: true }, usageChart.el, v.usageTable),
      card('Configuration', { id: 'config-card' }, v.config),
      actions ? card('Actions', { id: 'actions-card' }, actions) : null,
    ),
  );
  rateChart.mount();
  usageChart.mount();
  ctx.live.watch(id);

  const renderDevice = (d: DeviceDetail): void => {
    device = d;
    ctx.title(d.name);
    setText(heading, d.name);
    badges.replaceChildren(statusBadge(d.status), onlineBadge(d.online));
    badges.dataset.online = String(d.online);
    badges.dataset.status = d.status;
    v.details.replaceChildren(facts([
      ['Device ID', h('code', null, d.device_id)],
      ['Type', d.type],
      ['Description', d.description || DASH],
      ['Last seen', d.last_seen ? `${fmtAgo(d.last_seen)} (${fmtDateTime(d.last_seen)})` : 'never'],
      ['Registered', fmtDateTime(d.created_at)],
      ['Updated', fmtDateTime(d.updated_at)],
      ['Metadata', Object.keys(d.metadata).length ? h('pre', { tabindex: '0' }, JSON.stringify(d.metadata, null, 2)) : DASH],
    ]));
    v.counters.replaceChildren(facts([
      ['Messages received', fmtInt(d.messages_in)], ['Messages sent', fmtInt(d.messages_out)],
      ['Bytes received', fmtBytes(d.bytes_in)], ['Bytes sent', fmtBytes(d.bytes_out)],
      ['Throttled', fmtInt(d.throttled)], ['Rejected', fmtInt(d.rejected)],
    ]));
    renderActions();
  };

  const fresh = (d: DeviceDetail, requestedAt: number): DeviceDetail => (presence && presence.at >= requestedAt ? { ...d, online: presence.online, last_seen: presence.last_seen } : d);

  const load = (): void => {
    const at = performance.now();
    ctx.api.get<DeviceDetail>(`/devices/${encodeURIComponent(id)}`).then((d) => renderDevice(fresh(d, at)), (err: unknown) => {
      message.replaceChildren(notice('error', err instanceof ApiError && err.status === 404 ? 'There is no such device (it may have been deleted).' : `The device could not be loaded: ${errorText(err)}`));
    });
  };

  const loadUsage = (): void => {
    const end = new Date();
    const start = new Date(end.getTime() - (USAGE_DAYS - 1) * 86_400_000);
    ctx.api.get<Usage>(`/usage?device_id=${encodeURIComponent(id)}&start_date=${isoDay(start)}&end_date=${isoDay(end)}`).then((u) => {
      const byDay = new Map(u.days.map((d) => [d.date, d]));
      const x: number[] = [];
      const inY: number[] = [];
      const outY: number[] = [];
      for (let t = Date.parse(`${u.start_date}T12:00:00`); isoDay(new Date(t)) <= u.end_date; t += 86_400_000) {
        const row = byDay.get(isoDay(new Date(t)));
        x.push(Math.floor(t / 1000));
        inY.push(row?.messages_in ?? 0);
        outY.push(row?.messages_out ?? 0);
      }
      usageChart.setData(x, [inY, outY]);
      // The same numbers as a table, for screen readers and for reading exact values.
      v.usageTable.replaceChildren(h('details', null, h('summary', null, 'Show as a table'),
        u.days.length === 0 ? h('p', null, 'No usage in this period.') : h('div', { class: 'table-wrap' }, h('table', null,
          h('thead', null, h('tr', null, ['Day', 'Received', 'Sent', 'Bytes in', 'Bytes out', 'Throttled', 'Rejected'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, u.days.map((d) => h('tr', null, h('th', { scope: 'row' }, d.date), h('td', { class: 'num' }, fmtInt(d.messages_in)), h('td', { class: 'num' }, fmtInt(d.messages_out)),
            h('td', { class: 'num' }, fmtBytes(d.bytes_in)), h('td', { class: 'num' }, fmtBytes(d.bytes_out)), h('td', { class: 'num' }, fmtInt(d.throttled)), h('td', { class: 'num' }, fmtInt(d.rejected)))))))));
    }, (err: unknown) => v.usageTable.replaceChildren(notice('error', `Usage is unavailable: ${errorText(err)}`)));
  };

  const loadConfig = (): void => {
    ctx.api.get<unknown>(`/devices/${encodeURIComponent(id)}/config`).then(
      (config) => v.config.replaceChildren(h('pre', { id: 'device-config', tabindex: '0' }, JSON.stringify(config, null, 2))),
      (err: unknown) => v.config.replaceChildren(err instanceof ApiError && err.status === 404
        ? h('p', { class: 'muted' }, 'No configuration has been set for this device.')
        : notice('error', `The configuration could not be loaded: ${errorText(err)}`)),
    );
  };

  // Admin actions. Built once; renderActions() only updates labels as the device changes.
  const toggle = h('button', { type: 'button', id: 'toggle-status' }, 'Disable');
  const rotate = h('button', { type: 'button', id: 'rotate-credentials' }, 'Rotate credentials');
  const remove = h('button', { type: 'button', id: 'delete-device', class: 'danger' }, 'Delete device');
  const commandName = h('input', { id: 'command-name', name: 'command', required: true, maxlength: '128', autocomplete: 'off', placeholder: 'reboot' });
  const commandParams = h('textarea', { id: 'command-params', name: 'params', rows: '3', spellcheck: 'false', placeholder: '{"delay": 5}' });
  const commandResult = h('div', { id: 'command-result', 'aria-live': 'polite' });
  const actionResult = h('div', { id: 'action-result', 'aria-live': 'polite' });
  if (actions) {
    const form = h('form', { id: 'command-form', 'aria-labelledby': 'command-title' },
      h('h3', { id: 'command-title' }, 'Send a command'),
      field('Command', commandName),
      field('Parameters (JSON object, optional)', commandParams),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Send command')),
      commandResult);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const command = commandName.value.trim();
      if (!command) { commandResult.replaceChildren(notice('error', 'Enter a command.')); commandName.focus(); return; }
      let params: unknown;
      if (commandParams.value.trim()) {
        try { params = JSON.parse(commandParams.value); } catch { params = undefined; }
        if (typeof params !== 'object' || params === null || Array.isArray(params)) {
          commandResult.replaceChildren(notice('error', 'Parameters must be a JSON object, e.g. {"delay": 5}.'));
          commandParams.focus();
          return;
        }
      }
      ctx.api.post<CommandResult>(`/devices/${encodeURIComponent(id)}/commands`, params === undefined ? { command } : { command, params }).then((r) => {
        commandResult.replaceChildren(notice('ok', `Command ${command} `, h('strong', { 'data-status': r.status }, r.status === 'delivered' ? 'delivered' : 'queued'),
          r.status === 'delivered' ? ' to the device.' : ': the device is offline and gets it when it reconnects.', h('br'), h('span', { class: 'muted small' }, `id ${r.command_id}`)));
      }, (err: unknown) => commandResult.replaceChildren(notice('error', `The command was not sent: ${errorText(err)}`)));
    });
    toggle.addEventListener('click', () => {
      if (!device) return;
      const status = device.status === 'active' ? 'disabled' : 'active';
      toggle.disabled = true;
      const at = performance.now();
      ctx.api.patch<DeviceDetail>(`/devices/${encodeURIComponent(id)}`, { status }).then((d) => {
        renderDevice(fresh(d, at));
        actionResult.replaceChildren(notice('ok', status === 'disabled' ? 'Disabled: the device was disconnected and cannot connect until enabled.' : 'Enabled: the device may connect again.'));
      }, (err: unknown) => actionResult.replaceChildren(notice('error', errorText(err)))).finally(() => { toggle.disabled = false; });
    });
    rotate.addEventListener('click', () => {
      void confirmDialog({ title: 'Rotate credentials?', body: 'The device gets a new password; the old one stops working at once and the device is disconnected until it uses the new one.', confirm: 'Rotate' }).then((yes) => {
        if (!yes) return;
        ctx.api.post<{ device_id: string; mqtt_credentials: MqttCredentials }>(`/devices/${encodeURIComponent(id)}/credentials/rotate`).then((r) => {
          disposeCredentials?.();
          const panel = credentialsPanel(ctx, id, r.mqtt_credentials, 'New credentials');
          disposeCredentials = panel.dispose;
          credentialsSlot.replaceChildren(panel.el);
          panel.el.querySelector<HTMLElement>('h2')?.focus();
        }, (err: unknown) => actionResult.replaceChildren(notice('error', errorText(err))));
      });
    });
    remove.addEventListener('click', () => {
      const name = device?.name ?? id;
      void confirmDialog({ title: `Delete ${name}?`, body: 'The device is disconnected and its credentials and queued messages are removed. Its usage history stays. This cannot be undone.', confirm: 'Delete', danger: true }).then((yes) => {
        if (!yes) return;
        ctx.api.delete(`/devices/${encodeURIComponent(id)}`).then(() => {
          ctx.announce(`${name} was deleted.`);
          ctx.navigate('#/devices');
        }, (err: unknown) => actionResult.replaceChildren(notice('error', errorText(err))));
      });
    });
    actions.replaceChildren(
      h('div', { class: 'actions' }, toggle, rotate, remove),
      actionResult,
      form,
    );
  }
  const renderActions = (): void => {
    if (!device) return;
    setText(toggle, device.status === 'active' ? 'Disable' : 'Enable');
    toggle.className = device.status === 'active' ? '' : 'primary';
  };

  let lastRefresh = Date.now();
  const refresh = (): void => { lastRefresh = Date.now(); load(); loadUsage(); };
  load();
  loadUsage();
  loadConfig();
  const timer = window.setInterval(refresh, REFRESH_MS);
  let polls = 0;
  const onPresence = (e: PresenceEvent): void => {
    if (e.device_id !== id) return;
    presence = { online: e.online, last_seen: e.last_seen, at: performance.now() };
    if (device) renderDevice({ ...device, online: e.online, last_seen: e.last_seen });
  };
  const offs = [
    ctx.live.on('device.rate', (r) => {
      if (r.device_id !== id) return;
      setText(v.inRate, fmtRate(r.in_per_sec));
      setText(v.outRate, fmtRate(r.out_per_sec));
      setText(v.todayIn, fmtInt(r.today.messages_in));
      setText(v.todayOut, fmtInt(r.today.messages_out));
      rates.push(Date.now(), [r.in_per_sec, r.out_per_sec]);
      rateChart.setData(rates.x, rates.ys);
      // The month's counters include today's: when today's are ahead of them, the month counters and
      // the usage chart are stale; refresh them, at most every 5 s.
      const behind = device !== undefined && (device.messages_in < r.today.messages_in || device.messages_out < r.today.messages_out);
      if (behind && Date.now() - lastRefresh > 5_000) refresh();
    }),
    ctx.live.on('device.online', onPresence),
    ctx.live.on('device.offline', onPresence),
    ctx.live.on('device.updated', (d) => { if (d.device_id === id && device) renderDevice({ ...device, ...d }); }),
    ctx.live.on('device.deleted', (e) => {
      if (e.device_id !== id || closed) return;
      message.replaceChildren(notice('warn', 'This device has been deleted.'));
      if (actions) actions.replaceChildren();
    }),
    ctx.live.on('poll', () => { polls += 1; if (polls % 3 === 0) load(); }),
  ];
  return () => {
    closed = true;
    window.clearInterval(timer);
    for (const off of offs) off();
    ctx.live.watch(undefined);
    rateChart.destroy();
    usageChart.destroy();
    disposeCredentials?.();
  };
};
