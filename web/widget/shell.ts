/** The fixed part of the widget's shadow DOM: drop zone, link form, messages, total bar, list, live region. */

import { h } from './dom.js';

export interface Shell {
  configError: HTMLParagraphElement;
  dropzone: HTMLDivElement;
  hint: HTMLParagraphElement;
  choose: HTMLButtonElement;
  camera: HTMLButtonElement;
  limits: HTMLParagraphElement;
  input: HTMLInputElement;
  captureInput: HTMLInputElement;
  urlForm: HTMLFormElement;
  urlLabel: HTMLSpanElement;
  urlInput: HTMLInputElement;
  urlButton: HTMLButtonElement;
  alerts: HTMLDivElement;
  total: HTMLDivElement;
  totalLabel: HTMLSpanElement;
  totalProgress: HTMLProgressElement;
  totalPercent: HTMLSpanElement;
  totalSummary: HTMLSpanElement;
  list: HTMLUListElement;
  status: HTMLDivElement;
}

/** Builds the elements once; texts and visibility are set by the element as settings change. */
export function buildShell(root: ShadowRoot): Shell {
  // Ids only need to be unique within this shadow root, but unique ones keep devtools readable.
  const id = `trove-${Math.random().toString(36).slice(2, 9)}`;
  const parts = {
    configError: h('p', { class: 'config-error', part: 'config-error', role: 'alert', hidden: true }),
    hint: h('p', { class: 'hint', part: 'hint', id: `${id}-hint` }),
    choose: h('button', { type: 'button', class: 'primary', part: 'button choose-button' }),
    camera: h('button', { type: 'button', part: 'button camera-button' }),
    limits: h('p', { class: 'limits', part: 'limits', id: `${id}-limits` }),
    // A real file input, driven by the button: the platform's picker, with its accessibility.
    input: h('input', { type: 'file', hidden: true, tabindex: '-1' }),
    captureInput: h('input', { type: 'file', accept: 'image/*', capture: 'environment', hidden: true, tabindex: '-1' }),
    urlLabel: h('span', {}),
    urlInput: h('input', { type: 'url', part: 'url-input', inputmode: 'url', autocomplete: 'off', spellcheck: 'false' }),
    urlButton: h('button', { type: 'submit', part: 'button url-button' }),
    // Always present and empty when quiet: an alert region that exists before its text is announced reliably.
    alerts: h('div', { class: 'alerts', role: 'alert' }),
    totalLabel: h('span', { class: 'total-label', part: 'total-label', id: `${id}-total` }),
    totalProgress: h('progress', { part: 'progress total-progress', max: '100', value: '0', 'aria-labelledby': `${id}-total` }),
    totalPercent: h('span', { class: 'percent', part: 'total-percent' }),
    totalSummary: h('span', { class: 'total-summary' }),
    list: h('ul', { class: 'list', part: 'list' }),
    status: h('div', { class: 'sr-only', part: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }),
  };
  const dropzone = h(
    'div',
    { class: 'dropzone', part: 'dropzone', role: 'group', 'aria-describedby': `${id}-hint ${id}-limits` },
    parts.hint,
    h('div', { class: 'sources' }, parts.choose, parts.camera),
    parts.limits,
    parts.input,
    parts.captureInput,
  );
  // Its own form inside the shadow root: Enter in the link field never submits the page's form.
  const urlForm = h('form', { class: 'url-form', part: 'url-form', novalidate: true }, h('label', { part: 'url-label' }, parts.urlLabel, parts.urlInput), parts.urlButton);
  const total = h('div', { class: 'total', part: 'total', hidden: true }, parts.totalLabel, parts.totalProgress, parts.totalPercent, parts.totalSummary);
  root.append(h('div', { class: 'root', part: 'root' }, parts.configError, dropzone, urlForm, parts.alerts, total, parts.list, parts.status));
  return { ...parts, dropzone, urlForm, total };
}

/** Replaces the messages box (client-side refusals, bad links, group failures); none empties it. */
export function showMessages(shell: Shell, messages: readonly string[], dismissLabel: string, onDismiss: () => void): void {
  if (messages.length === 0) {
    shell.alerts.replaceChildren();
    return;
  }
  const dismiss = h('button', { type: 'button', class: 'small dismiss', part: 'button dismiss-button' }, dismissLabel);
  dismiss.addEventListener('click', () => {
    shell.alerts.replaceChildren();
    onDismiss();
  });
  shell.alerts.replaceChildren(
    h('div', { class: 'messages', part: 'messages' }, h('ul', {}, ...messages.map((message) => h('li', { part: 'message' }, message))), dismiss),
  );
}
