import { h } from '../dom.js';
import { errorText } from '../api.js';
import type { View } from '../context.js';
import { credentialsPanel } from '../snippets.js';
import type { DeviceCreated } from '../types.js';
import { field, notice } from '../widgets.js';

/** Register a device (admin keys): the answer's password is shown once, with connection snippets. */
export const registerView: View = (ctx, root) => {
  ctx.title('Register a device');
  let dispose: (() => void) | undefined;
  if (!ctx.admin) {
    root.replaceChildren(h('h1', null, 'Register a device'), notice('info', 'Registering devices needs an API key with the admin scope.'));
    return () => undefined;
  }
  const name = h('input', { id: 'device-name-input', name: 'name', required: true, maxlength: '128', autocomplete: 'off' });
  const type = h('input', { id: 'device-type-input', name: 'type', required: true, maxlength: '64', value: 'sensor', pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*', autocomplete: 'off' });
  const description = h('input', { id: 'device-description-input', name: 'description', maxlength: '1024', autocomplete: 'off' });
  const metadata = h('textarea', { id: 'device-metadata-input', name: 'metadata', rows: '3', spellcheck: 'false', placeholder: '{"location": "boiler room"}' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Register');
  const form = h('form', { class: 'card', id: 'register-form', 'aria-labelledby': 'register-title' },
    h('h2', { id: 'register-title' }, 'New device'),
    field('Name', name, 'Unique on this gateway, e.g. "Boiler room temperature".'),
    field('Type', type, 'Letters, digits, _ . - (e.g. sensor, meter, actuator).'),
    field('Description (optional)', description),
    field('Metadata (JSON object, optional)', metadata),
    status,
    h('div', { class: 'actions' }, submit));
  const result = h('div');
  root.replaceChildren(h('p', { class: 'crumbs' }, h('a', { href: '#/devices' }, '← Devices')), h('h1', null, 'Register a device'), form, result);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = { name: name.value.trim(), type: type.value.trim() };
    if (!body.name) { status.replaceChildren(notice('error', 'Enter a name.')); name.focus(); return; }
    if (!body.type) { status.replaceChildren(notice('error', 'Enter a type.')); type.focus(); return; }
    if (description.value.trim()) body.description = description.value.trim();
    if (metadata.value.trim()) {
      let parsed: unknown;
      try { parsed = JSON.parse(metadata.value); } catch { parsed = undefined; }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        status.replaceChildren(notice('error', 'Metadata must be a JSON object, e.g. {"floor": 2}.'));
        metadata.focus();
        return;
      }
      body.metadata = parsed;
    }
    submit.disabled = true;
    status.replaceChildren();
    ctx.api.post<DeviceCreated>('/devices', body).then((created) => {
      form.hidden = true;
      const panel = credentialsPanel(ctx, created.device_id, created.mqtt_credentials, `Registered ${created.name}`);
      dispose = panel.dispose;
      result.replaceChildren(panel.el,
        h('p', { class: 'actions' }, h('a', { class: 'button primary', href: `#/devices/${created.device_id}`, id: 'open-device' }, 'Open the device page'),
          h('button', { type: 'button', id: 'register-another', onclick: () => ctx.navigate('#/devices/new') }, 'Register another')));
      panel.el.querySelector<HTMLElement>('h2')?.focus();
      ctx.announce(`Registered ${created.name}. The password is shown once.`);
    }, (err: unknown) => {
      submit.disabled = false;
      status.replaceChildren(notice('error', `Not registered: ${errorText(err)}`));
    });
  });
  name.focus();
  return () => dispose?.();
};
