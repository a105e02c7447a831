import { h } from '../dom.js';
import { ApiError, errorText } from '../api.js';
import { KEY_PATTERN, openSession, type Session } from '../session.js';
import { field, notice } from '../widgets.js';

/** The sign-in form: an API key, checked against the API before anything is kept. */
export function signInView(root: HTMLElement, message: string | undefined, onSession: (key: string, session: Session) => void): void {
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off', required: true, placeholder: 'wayscloud_iot_prod_…' });
  const status = h('div', { id: 'signin-status' }, message ? notice('info', message) : null);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'signin card', 'aria-labelledby': 'signin-title', novalidate: true },
    h('h1', { id: 'signin-title' }, 'ways-edge'),
    h('p', null, 'Sign in with an API key of this gateway. A key with the ', h('code', null, 'read'), ' scope sees everything; an ', h('code', null, 'admin'), ' key may also act.'),
    field('API key', input, 'Kept in this browser tab only (session storage), forgotten when you sign out or close the tab. The first admin key is in the data directory: admin.key.'),
    status,
    h('div', { class: 'actions' }, button));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!KEY_PATTERN.test(key)) {
      status.replaceChildren(notice('error', 'That is not an API key: keys look like wayscloud_iot_prod_ followed by at least 32 letters and digits.'));
      input.focus();
      return;
    }
    button.disabled = true;
    status.replaceChildren(notice('info', 'Checking the key…'));
    openSession(key).then((session) => onSession(key, session), (err: unknown) => {
      button.disabled = false;
      const text = err instanceof ApiError && err.status === 401 ? 'This key is not valid, or it was revoked.'
        : err instanceof ApiError && err.status === 403 ? 'This key cannot read the API (it lacks the read scope).'
        : errorText(err);
      status.replaceChildren(notice('error', text));
      input.focus();
    });
  });
  root.replaceChildren(h('main', { id: 'main', class: 'signin-page' }, form));
  input.focus();
}
