/** A tiny element builder: the widget has no framework, and long createElement chains hide the layout. */

type Attributes = Record<string, string | boolean | null | undefined>;

/**
 * `h('button', {type: 'button', part: 'button'}, 'Choose')`. Boolean true sets an empty attribute,
 * false/null/undefined leaves it out; children may be strings (text) or nodes.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Array<Node | string | null | undefined>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) element.append(child);
  }
  return element;
}

/** Sets text only when it changed: progress events are frequent, and a live region re-reads on every write. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setAttr(node: Element, name: string, value: string | null): void {
  if (value === null) node.removeAttribute(name);
  else if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}
