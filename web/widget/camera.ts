/**
 * Taking a photo: a live preview through getUserMedia where the browser allows it, else the
 * platform's own camera picker (`<input capture>`, mostly phones). Neither → the source is hidden.
 */

import { h } from './dom.js';
import type { WidgetStrings } from './strings.js';

type CameraMode = 'stream' | 'capture' | 'none';

export function cameraMode(): CameraMode {
  if (typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getUserMedia === 'function') return 'stream';
  // Browsers that honour `capture` expose it as a property; desktop ones would just open a file picker.
  if ('capture' in document.createElement('input')) return 'capture';
  return 'none';
}

type CameraResult = { kind: 'photo'; file: File } | { kind: 'fallback' } | { kind: 'closed' };

function stamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

function reasonOf(error: unknown): string {
  if (error instanceof DOMException) {
    if (error.name === 'NotAllowedError') return 'permission was denied.';
    if (error.name === 'NotFoundError' || error.name === 'OverconstrainedError') return 'no camera was found.';
    if (error.name === 'NotReadableError') return 'the camera is in use by another application.';
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens the capture dialog in `root` and resolves with the JPEG taken, `fallback` when the user
 * chose the system picker after the camera failed, or `closed`. The stream stops in every case.
 */
export function openCamera(root: ShadowRoot, text: WidgetStrings): Promise<CameraResult> {
  const titleId = `trove-camera-title-${Math.random().toString(36).slice(2)}`;
  const video = h('video', { part: 'camera-video', autoplay: true, playsinline: true, muted: true });
  video.muted = true;
  const status = h('p', { class: 'camera-status', role: 'status' }, text.cameraStarting);
  const capture = h('button', { type: 'button', class: 'primary', part: 'button camera-capture', disabled: true }, text.cameraCapture);
  const fallback = h('button', { type: 'button', part: 'button camera-fallback', hidden: true }, text.cameraFallback);
  const close = h('button', { type: 'button', part: 'button camera-close' }, text.cameraClose);
  const dialog = h(
    'dialog',
    { class: 'camera', part: 'camera-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, text.cameraTitle),
    video,
    status,
    h('div', { class: 'camera-actions' }, fallback, close, capture),
  );
  root.append(dialog);
  dialog.showModal();

  let stream: MediaStream | null = null;
  return new Promise<CameraResult>((resolve) => {
    let settled = false;
    const finish = (result: CameraResult): void => {
      if (settled) return;
      settled = true;
      stream?.getTracks().forEach((track) => track.stop());
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(result);
    };
    dialog.addEventListener('close', () => finish({ kind: 'closed' }));
    close.addEventListener('click', () => finish({ kind: 'closed' }));
    fallback.addEventListener('click', () => finish({ kind: 'fallback' }));
    capture.addEventListener('click', () => {
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext('2d');
      if (!context || canvas.width === 0) return;
      context.drawImage(video, 0, 0);
      capture.disabled = true;
      canvas.toBlob(
        (blob) => {
          if (!blob) {
            capture.disabled = false;
            return;
          }
          finish({ kind: 'photo', file: new File([blob], `photo-${stamp(new Date())}.jpg`, { type: 'image/jpeg', lastModified: Date.now() }) });
        },
        'image/jpeg',
        0.9,
      );
    });

    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(async (opened) => {
        if (settled) {
          opened.getTracks().forEach((track) => track.stop());
          return;
        }
        stream = opened;
        video.srcObject = opened;
        await video.play().catch(() => undefined);
        status.hidden = true;
        capture.disabled = false;
        capture.focus();
      })
      .catch((error: unknown) => {
        status.textContent = text.cameraUnavailable(reasonOf(error));
        // The picker needs a fresh click (user activation) to open, so offer it as a button; on
        // phones it opens the system camera, elsewhere a picker limited to images.
        fallback.hidden = false;
        fallback.focus();
      });
  });
}
