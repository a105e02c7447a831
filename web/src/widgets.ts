import { h, type Child, type Children } from './dom.js';

/** A titled section of the page. */
export function card(title: string, attrs: { id?: string; wide?: boolean } = {}, ...children: Children): HTMLElement {
  const headingId = `${attrs.id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-title`;
  return h('section', { class: attrs.wide ? 'card wide' : 'card', id: attrs.id, 'aria-labelledby': headingId },
    h('h2', { id: headingId }, title), ...children);
}

/** Label/value pairs as a description list (read as pairs by screen readers). */
export function facts(rows: Array<[string, Child | Child[]]>, cls = 'facts'): HTMLDListElement {
  return h('dl', { class: cls }, rows.map(([label, value]) => h('div', null, h('dt', null, label), h('dd', null, value))));
}

/** A big number with its label; `value` is a live element the caller updates. */
export function figure(label: string, value: HTMLElement, unit?: string): HTMLElement {
  return h('div', { class: 'figure' }, h('span', { class: 'figure-value' }, value, unit ? h('span', { class: 'unit' }, ` ${unit}`) : null), h('span', { class: 'figure-label' }, label));
}

export function span(text = '', cls?: string): HTMLSpanElement { return h('span', cls ? { class: cls } : null, text); }

/** Online/offline as a word and a shape, not colour alone. */
export function onlineBadge(online: boolean): HTMLSpanElement {
  return h('span', { class: online ? 'badge ok' : 'badge off' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), online ? 'Online' : 'Offline');
}

export function statusBadge(status: string): HTMLSpanElement {
  return h('span', { class: status === 'active' ? 'badge neutral' : 'badge warn' }, status === 'active' ? 'Active' : 'Disabled');
}

export function notice(kind: 'error' | 'info' | 'ok' | 'warn', ...children: Children): HTMLElement {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/** Copies text; falls back to selecting it where the clipboard API is not allowed. */
export function copyButton(label: string, text: () => string, select?: () => HTMLElement | null): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'small' }, label);
  button.addEventListener('click', () => {
    const done = (ok: boolean): void => {
      button.textContent = ok ? 'Copied' : 'Select and copy';
      window.setTimeout(() => { button.textContent = label; }, 1500);
    };
    const el = select?.();
    const fallback = (): void => {
      if (el) { const range = document.createRange(); range.selectNodeContents(el); const sel = window.getSelection(); sel?.removeAllRanges(); sel?.addRange(range); }
      done(false);
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text()).then(() => done(true), fallback);
    else fallback();
  });
  return button;
}

/**
 * A modal confirmation (<dialog>: focus moves into it, Escape cancels, focus returns after).
 * Resolves true only on the confirm button.
 */
export function confirmDialog(opts: { title: string; body: string; confirm: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
    const ok = h('button', { type: 'button', value: 'ok', class: opts.danger ? 'danger' : 'primary' }, opts.confirm);
    const dialog = h('dialog', { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' },
      h('h2', { id: 'confirm-title' }, opts.title),
      h('p', { id: 'confirm-body' }, opts.body),
      h('div', { class: 'actions' }, cancel, ok));
    const previous = document.activeElement as HTMLElement | null;
    let result = false;
    cancel.addEventListener('click', () => dialog.close());
    ok.addEventListener('click', () => { result = true; dialog.close(); });
    dialog.addEventListener('close', () => {
      dialog.remove();
      previous?.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A labelled form field; the label is tied to the control with for/id. */
export function field(label: string, control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, hint?: string): HTMLElement {
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}
