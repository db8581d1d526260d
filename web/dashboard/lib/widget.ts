/**
 * Loads the `<trove-uploader>` custom element from its own bundle, once per page. A module script
 * element (not inline code, not eval) satisfies the page's `script-src 'self'`.
 */
let loading: Promise<void> | null = null;

const DEFINE_TIMEOUT_MS = 10_000;

export function loadUploaderWidget(url: string): Promise<void> {
  if (customElements.get('trove-uploader')) return Promise.resolve();
  if (!loading) {
    loading = new Promise<void>((resolve, reject) => {
      const script = document.createElement('script');
      script.type = 'module';
      script.src = url;
      script.onerror = () => reject(new Error(`${url} did not load.`));
      document.head.appendChild(script);
      const timer = window.setTimeout(() => reject(new Error(`${url} loaded but defines no <trove-uploader> element.`)), DEFINE_TIMEOUT_MS);
      customElements.whenDefined('trove-uploader').then(() => {
        window.clearTimeout(timer);
        resolve();
      }, reject);
    });
    // A failed load may be retried on the next visit to the page.
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}
