/**
 * A tiny DOM builder instead of a framework: the page stays small enough for a Pi to serve and a
 * phone to parse at once. Text always goes in as text nodes, never as HTML, so a device name like
 * `<img onerror=…>` is shown, not run (and CSP forbids inline handlers anyway).
 */
export type Child = Node | string | number | null | undefined | false;
export type Children = Array<Child | Child[]>;
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);
export type Attrs = Record<string, AttrValue>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Children): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function setAttrs(el: HTMLElement, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === null || value === undefined || value === false) el.removeAttribute(name);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name === 'className' ? 'class' : name, String(value));
  }
}

export function append(el: Node, children: Children): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces all children of `el`. */
export function replace(el: Node, ...children: Children): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/** Sets text only when it changed, so live updates do not disturb selection or screen readers. */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** A visually hidden element for screen readers. */
export function srOnly(text: string): HTMLSpanElement {
  return h('span', { class: 'sr-only' }, text);
}
