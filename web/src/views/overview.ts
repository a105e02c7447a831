import { h, setText } from '../dom.js';
import { errorText } from '../api.js';
import { Chart, RollingSeries } from '../charts.js';
import type { View } from '../context.js';
import { DASH, fmtBytes, fmtCelsius, fmtDateTime, fmtDuration, fmtInt, fmtPercent, fmtRate, num, pick, str } from '../format.js';
import type { HelloEvent, LiveStats, Quota, Stats, Warning } from '../types.js';
import { card, facts, figure, notice, span } from '../widgets.js';

const WINDOW_SECONDS = 15 * 60;
/** Host health is sampled every 30 s by the gateway; quota and month totals move slowly. */
const REFRESH_MS = 30_000;

/** The overview: is everything well? Devices, message rates, data, uplink, host health, quota. */
export const overviewView: View = (ctx, root) => {
  ctx.title('Overview');
  const v = {
    warnings: h('div', { id: 'warnings' }),
    online: span(DASH), total: span(DASH), active: span(DASH), disabled: span(DASH),
    inRate: span(DASH), outRate: span(DASH), in1m: span(DASH), in15m: span(DASH),
    monthMessages: span(DASH), monthBytes: span(DASH), bytesIn: span(DASH), bytesOut: span(DASH), month: span(DASH),
    uplinkState: span(DASH), backlogCount: span(DASH), backlogBytes: span(DASH), backlogAge: span(DASH), dropped: span(DASH), absorb: span(DASH),
    cpu: span(DASH), load: span(DASH), temp: span(DASH), memory: span(DASH), disk: span(DASH), power: span(DASH), clock: span(DASH), rss: span(DASH),
    quota: h('div', { class: 'quota' }),
    name: span(DASH), version: span(DASH), uptime: span(DASH), cert: span(DASH), accepting: span(DASH),
    error: h('div'),
  };
  const chart = new Chart({
    label: 'Messages per second over the last 15 minutes, received and sent',
    height: 200,
    series: [{ label: 'received/s', color: 'var(--c-in)' }, { label: 'sent/s', color: 'var(--c-out)', dash: [6, 4] }],
    valueFormat: fmtRate,
  });
  const series = new RollingSeries(WINDOW_SECONDS, 2);

  root.replaceChildren(
    h('h1', null, 'Overview'),
    v.error,
    v.warnings,
    h('div', { class: 'grid' },
      card('Devices', { id: 'devices-card' },
        h('div', { class: 'figures' }, figure('online', v.online), figure('registered', v.total)),
        facts([['Active', v.active], ['Disabled', v.disabled]]),
        h('p', null, h('a', { href: '#/devices' }, 'All devices →'))),
      card('Messages', { id: 'messages-card' },
        h('div', { class: 'figures' }, figure('received per second', v.inRate), figure('sent per second', v.outRate)),
        facts([['Received, 1-minute average', v.in1m], ['Received, 15-minute average', v.in15m]])),
      card('Data', { id: 'data-card' },
        facts([['Month', v.month], ['Messages this month', v.monthMessages], ['Bytes this month', v.monthBytes], ['Bytes received per second', v.bytesIn], ['Bytes sent per second', v.bytesOut]])),
      card('Messages per second, last 15 minutes', { id: 'rate-chart-card', wide: true }, chart.el),
      card('Uplink to the cloud', { id: 'uplink-card' },
        facts([['State', v.uplinkState], ['Backlog', v.backlogCount], ['Backlog size', v.backlogBytes], ['Oldest waiting', v.backlogAge], ['Dropped (outbox full)', v.dropped], ['Offline capacity left', v.absorb]])),
      card('Host', { id: 'host-card' },
        facts([['CPU', v.cpu], ['Load (1 min)', v.load], ['Temperature', v.temp], ['Memory', v.memory], ['Disk (data)', v.disk], ['Power', v.power], ['Clock', v.clock], ['Gateway memory', v.rss]])),
      card('Quota this month', { id: 'quota-card' }, v.quota),
      card('Gateway', { id: 'gateway-card' },
        facts([['Name', v.name], ['Version', v.version], ['Up for', v.uptime], ['Certificate', v.cert], ['Telemetry', v.accepting]])),
    ),
  );
  chart.mount();

  const showWarnings = (warnings: Array<Warning | string> | undefined, accepting: { accepting: boolean; reason: string | null } | null | undefined): void => {
    const list = (warnings ?? []).map((w) => (typeof w === 'string' ? { code: w, message: w } : w));
    if (accepting && !accepting.accepting) list.unshift({ code: 'not_accepting', message: `New telemetry is refused${accepting.reason ? `: ${accepting.reason}` : ''}.` });
    const key = JSON.stringify(list);
    if (v.warnings.dataset.key === key) return;
    v.warnings.dataset.key = key;
    v.warnings.replaceChildren(list.length === 0
      ? notice('ok', h('strong', null, 'All well. '), 'No warnings from the gateway.')
      : notice('error', h('strong', null, list.length === 1 ? '1 warning' : `${list.length} warnings`), h('ul', null, list.map((w) => h('li', { 'data-code': w.code }, w.message)))));
  };

  const showUplink = (u: Record<string, unknown> | undefined): void => {
    const state = str(u, 'state');
    const connected = pick(u, 'connected');
    setText(v.uplinkState, state === undefined ? DASH : uplinkWords(state, connected));
    v.uplinkState.className = state === 'connected' || connected === true ? 'good' : state === 'disabled' || state === undefined ? '' : 'bad';
    setText(v.backlogCount, pick(u, 'backlog') === undefined ? DASH : `${fmtInt(num(u, 'backlog', 'count'))} messages`);
    setText(v.backlogBytes, fmtBytes(num(u, 'backlog', 'bytes')));
    setText(v.backlogAge, fmtDuration(num(u, 'backlog', 'oldest_age_seconds')));
    setText(v.dropped, fmtInt(num(u, 'dropped')));
    setText(v.absorb, fmtDuration(num(u, 'absorb_seconds_estimate')));
  };

  const showLive = (live: LiveStats): void => {
    setText(v.online, fmtInt(live.devices.online));
    setText(v.total, fmtInt(live.devices.total));
    if (live.messages) {
      setText(v.inRate, fmtRate(live.messages.in_per_sec));
      setText(v.outRate, fmtRate(live.messages.out_per_sec));
      setText(v.bytesIn, `${fmtBytes(live.messages.bytes_in_per_sec)}/s`);
      setText(v.bytesOut, `${fmtBytes(live.messages.bytes_out_per_sec)}/s`);
      series.push(Date.parse(live.at), [live.messages.in_per_sec, live.messages.out_per_sec]);
      chart.setData(series.x, series.ys);
    }
    if (live.rates) {
      setText(v.in1m, `${fmtRate(live.rates.in_per_sec_1m)}/s`);
      setText(v.in15m, `${fmtRate(live.rates.in_per_sec_15m)}/s`);
    }
    showUplink(live.uplink);
    showWarnings(live.warnings, live.admission);
  };

  const showStats = (s: Stats, fromPoll: boolean): void => {
    setText(v.online, fmtInt(s.devices.online));
    setText(v.total, fmtInt(s.devices.total));
    setText(v.active, fmtInt(s.devices.active));
    setText(v.disabled, fmtInt(s.devices.disabled));
    const m = s.messages;
    setText(v.month, str(m, 'month') ?? DASH);
    setText(v.monthMessages, fmtInt(num(m, 'messages')));
    setText(v.monthBytes, fmtBytes(num(m, 'bytes')));
    const r = pick(m, 'rates');
    setText(v.in1m, num(r, 'in_per_sec_1m') === undefined ? DASH : `${fmtRate(num(r, 'in_per_sec_1m'))}/s`);
    setText(v.in15m, num(r, 'in_per_sec_15m') === undefined ? DASH : `${fmtRate(num(r, 'in_per_sec_15m'))}/s`);
    if (fromPoll && r !== undefined && r !== null) {
      // Not live: plot the 1-minute averages the poll brings, so the chart does not stop.
      const inRate = num(r, 'in_per_sec_1m') ?? 0;
      const outRate = num(r, 'out_per_sec_1m') ?? 0;
      setText(v.inRate, fmtRate(inRate));
      setText(v.outRate, fmtRate(outRate));
      series.push(Date.now(), [inRate, outRate]);
      chart.setData(series.x, series.ys);
    }
    showUplink(s.uplink);
    showHost(s.host);
    setText(v.name, s.gateway?.name ?? DASH);
    setText(v.version, s.gateway?.version ?? DASH);
    setText(v.uptime, fmtDuration(s.gateway?.uptime_seconds));
    const cert = s.certificate;
    setText(v.cert, cert ? `${str(cert, 'state') === 'ok' ? 'valid' : str(cert, 'state') ?? DASH} until ${fmtDateTime(str(cert, 'not_after'))}` : DASH);
    setText(v.accepting, s.admission ? (s.admission.accepting ? 'accepted' : `refused${s.admission.reason ? ` (${s.admission.reason})` : ''}`) : DASH);
    showWarnings(s.warnings, s.admission);
  };

  const showHost = (host: Record<string, unknown> | null | undefined): void => {
    const usage = num(host, 'cpu', 'usage_percent');
    setText(v.cpu, usage === undefined ? DASH : `${fmtPercent(usage)} of ${fmtInt(num(host, 'cpu', 'cores'))} cores`);
    setText(v.load, num(host, 'cpu', 'load_1m')?.toFixed(2) ?? DASH);
    setText(v.temp, fmtCelsius(num(host, 'temperature_celsius')));
    const mem = num(host, 'memory', 'used_percent');
    setText(v.memory, mem === undefined ? DASH : `${fmtPercent(mem)} used, ${fmtBytes(num(host, 'memory', 'available_bytes'))} available`);
    const disk = num(host, 'disk', 'used_percent');
    setText(v.disk, disk === undefined ? DASH : `${fmtPercent(disk)} used, ${fmtBytes(num(host, 'disk', 'free_bytes'))} free`);
    const t = pick(host, 'throttling');
    const flags = t && typeof t === 'object' ? t as Record<string, unknown> : undefined;
    const power = !flags ? DASH
      : flags.under_voltage ? 'Under-voltage now'
      : flags.throttled || flags.arm_freq_capped || flags.soft_temp_limit ? 'CPU throttled now'
      : flags.under_voltage_occurred ? 'OK now (under-voltage since boot)'
      : 'OK';
    setText(v.power, power);
    v.power.className = power === 'OK' || power === DASH ? '' : 'bad';
    const clock = pick(host, 'clock_synchronized');
    setText(v.clock, clock === true ? 'synchronised' : clock === false ? 'not synchronised' : DASH);
    setText(v.rss, fmtBytes(num(host, 'process', 'rss_bytes')));
  };

  const showQuota = (q: Quota): void => {
    const row = (label: string, id: string, used: number, max: number, fmt: (n: number) => string): HTMLElement => {
      const pct = max > 0 ? Math.min(100, (used / max) * 100) : 0;
      return h('div', { class: 'quota-row' },
        h('label', { for: id }, label, h('span', { class: 'quota-numbers' }, `${fmt(used)} of ${fmt(max)} (${fmtPercent(pct)})`)),
        h('meter', { id, min: '0', max: String(max || 1), value: String(used), low: String(max * 0.8), high: String(max * 0.95), optimum: '0' }));
    };
    v.quota.replaceChildren(
      row('Devices', 'quota-devices', q.current_devices, q.max_devices, fmtInt),
      row('Messages', 'quota-messages', q.current_messages, q.max_messages_per_month, fmtInt),
      row('Bandwidth', 'quota-bandwidth', q.current_bandwidth_gb, q.max_bandwidth_gb, (n) => `${n.toFixed(3)} GB`),
    );
  };

  const refresh = (): void => {
    ctx.api.get<Stats>('/stats').then((s) => { v.error.replaceChildren(); showStats(s, false); }, (err: unknown) => v.error.replaceChildren(notice('error', `Statistics are unavailable: ${errorText(err)}`)));
    ctx.api.get<Quota>('/quota').then(showQuota, () => v.quota.replaceChildren(h('p', null, DASH)));
  };
  refresh();
  const timer = window.setInterval(refresh, REFRESH_MS);
  const onHello = (hello: HelloEvent): void => {
    hello.history.at.forEach((at, i) => series.push(at, [hello.history.in_per_sec[i] ?? 0, hello.history.out_per_sec[i] ?? 0]));
    chart.setData(series.x, series.ys);
    showLive(hello.live);
  };
  // The stream may have said hello before this view opened: start from its history.
  if (ctx.live.lastHello) onHello(ctx.live.lastHello);
  const offs = [
    ctx.live.on('hello', onHello),
    ctx.live.on('stats', showLive),
    ctx.live.on('poll', (s) => showStats(s, true)),
  ];
  return () => {
    window.clearInterval(timer);
    for (const off of offs) off();
    chart.destroy();
  };
};

function uplinkWords(state: string, connected: unknown): string {
  switch (state) {
    case 'disabled': return 'Off (no cloud configured)';
    case 'not_running': return 'Not running';
    case 'connected': return 'Connected';
    case 'connecting': return 'Connecting…';
    case 'disconnected': return 'Disconnected: keeping messages';
    default: return connected === true ? `Connected (${state})` : state.replace(/_/g, ' ');
  }
}
