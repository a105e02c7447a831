import 'uplot/dist/uPlot.min.css';
import '../styles.css';
import { h, byId, setText } from './dom.js';
import { Live, POLL_MS, type LiveStatus } from './live.js';
import { forgetKey, openSession, savedKey, saveKey, type Session } from './session.js';
import type { AppContext, View } from './context.js';
import type { ConnectionInfo } from './types.js';
import { signInView } from './views/signin.js';
import { overviewView } from './views/overview.js';
import { devicesView } from './views/devices.js';
import { deviceView } from './views/device.js';
import { registerView } from './views/register.js';

/**
 * The dashboard: sign-in, then a shell (header, navigation, live status) around hash-routed views:
 * #/ overview, #/devices, #/devices/new, #/devices/<id>. Hash routes need no server-side routing,
 * so the gateway serves exactly one page.
 */
const app = byId('app');
let current: { ctx: AppContext; cleanup: () => void; main: HTMLElement; gatewayName: string } | undefined;

function route(hash: string): { view: View; param?: string; nav: 'overview' | 'devices' } {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/devices') return { view: devicesView, nav: 'devices' };
  if (path === '/devices/new') return { view: registerView, nav: 'devices' };
  const m = /^\/devices\/([^/]+)$/.exec(path);
  if (m) return { view: deviceView, param: decodeURIComponent(m[1] as string), nav: 'devices' };
  return { view: overviewView, nav: 'overview' };
}

function render(focus: boolean): void {
  if (!current) return;
  current.cleanup();
  const { view, param, nav } = route(window.location.hash);
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav.main-nav a')) {
    if (link.dataset.nav === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const main = current.main;
  main.replaceChildren();
  current.cleanup = view(current.ctx, main, param);
  // Move focus to the new content so keyboard and screen-reader users start there, not in the header.
  // (Scrolled to the top by hand: letting focus scroll would tuck the heading under the sticky header.)
  if (focus) { main.focus({ preventScroll: true }); window.scrollTo(0, 0); }
}

function statusText(status: LiveStatus): [string, string] {
  switch (status) {
    case 'live': return ['live', 'Live'];
    case 'connecting': return ['connecting', 'Connecting…'];
    case 'polling': return ['polling', `Not live: updating every ${POLL_MS / 1000} s`];
    case 'stopped': return ['polling', 'Stopped'];
  }
}

function startSession(key: string, session: Session): void {
  saveKey(key);
  const live = new Live(session.api);
  let connection: Promise<ConnectionInfo> | undefined;
  const liveStatus = h('span', { id: 'live-status', class: 'live-status connecting', role: 'status' }, 'Connecting…');
  const announcer = h('div', { class: 'sr-only', 'aria-live': 'polite', id: 'announcer' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  const gatewayName = session.stats.gateway?.name ?? 'gateway';
  const signOutButton = h('button', { type: 'button', id: 'sign-out', class: 'small' }, 'Sign out');
  app.replaceChildren(
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('header', { class: 'top' },
      h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), h('span', null, 'ways-edge'), gatewayName !== 'ways-edge' ? h('span', { class: 'gw-name' }, gatewayName) : null),
      h('nav', { class: 'main-nav', 'aria-label': 'Main' }, h('a', { href: '#/', 'data-nav': 'overview' }, 'Overview'), h('a', { href: '#/devices', 'data-nav': 'devices' }, 'Devices')),
      h('div', { class: 'session' }, liveStatus,
        h('span', { class: `role ${session.admin ? 'admin' : 'read'}`, id: 'key-role', title: session.admin ? 'This key may change things' : 'This key may only look' }, session.admin ? 'admin' : 'read-only'),
        signOutButton)),
    main,
    announcer,
  );
  const ctx: AppContext = {
    api: session.api,
    live,
    admin: session.admin,
    connection: () => (connection ??= session.api.get<ConnectionInfo>('/credentials').catch((err: unknown) => { connection = undefined; throw err; })),
    navigate: (hash) => {
      if (window.location.hash === hash) render(true);
      else window.location.hash = hash;
    },
    announce: (message) => { setText(announcer, ''); window.setTimeout(() => setText(announcer, message), 50); },
    title: (text) => { document.title = `${text} · ${gatewayName} · ways-edge`; },
  };
  current = { ctx, cleanup: () => undefined, main, gatewayName };
  live.on('status', (status) => {
    const [cls, text] = statusText(status);
    liveStatus.className = `live-status ${cls}`;
    setText(liveStatus, text);
  });
  session.api.onUnauthorized = () => signOut('The API key stopped working (revoked?). Sign in again.');
  signOutButton.addEventListener('click', () => signOut('Signed out. The key was forgotten by this tab.'));
  live.start();
  render(false);
}

function signOut(message: string): void {
  if (current) {
    current.cleanup();
    current.ctx.live.stop();
    current.ctx.api.onUnauthorized = undefined;
    current = undefined;
  }
  forgetKey();
  document.title = 'Sign in · ways-edge';
  signInView(app, message, startSession);
}

window.addEventListener('hashchange', () => render(true));

const key = savedKey();
if (key) {
  // A reload of a signed-in tab: check the kept key again (it may have been revoked meanwhile).
  app.replaceChildren(h('main', { id: 'main', class: 'signin-page' }, h('p', { role: 'status' }, 'Signing in…')));
  openSession(key).then((session) => startSession(key, session), () => signOut('Sign in again: the kept key did not work.'));
} else {
  document.title = 'Sign in · ways-edge';
  signInView(app, undefined, startSession);
}
