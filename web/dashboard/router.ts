import { useEffect, useState } from 'preact/hooks';

/** A tiny router over the History API: the server answers every /dashboard/* path with this page. */

export const BASE = '/dashboard';

interface Location {
  path: string;
  search: URLSearchParams;
}

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

function current(): Location {
  // A trailing slash names the same view: /dashboard/files/ is /dashboard/files.
  const path = window.location.pathname.replace(/\/+$/, '') || '/';
  return { path, search: new URLSearchParams(window.location.search) };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const target = new URL(to, window.location.href);
  const same = target.pathname === window.location.pathname && target.search === window.location.search;
  if (options.replace || same) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  notify();
  // A new view starts at the top; a query change (filters) keeps the reader where they are.
  if (!options.replace && !same) window.scrollTo(0, 0);
}

/** Changes the query string of the current view without a history entry (filters, view mode). */
export function replaceSearch(params: URLSearchParams): void {
  const query = params.toString();
  const url = `${window.location.pathname}${query ? `?${query}` : ''}`;
  if (url !== `${window.location.pathname}${window.location.search}`) {
    history.replaceState(null, '', url);
    notify();
  }
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    // The URL may have changed between the first render and this effect.
    update();
    return () => {
      listeners.delete(update);
    };
  }, []);
  return location;
}

/** `/dashboard/files/:uuid` against a path → `{uuid: …}`, or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const patternParts = pattern.split('/').filter(Boolean);
  const pathParts = path.split('/').filter(Boolean);
  if (patternParts.length !== pathParts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < patternParts.length; i++) {
    const expected = patternParts[i]!;
    const actual = pathParts[i]!;
    if (expected.startsWith(':')) {
      try {
        params[expected.slice(1)] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

/** Click handler for in-app links: plain left clicks navigate in place, the rest (new tab…) stays native. */
export function onLinkClick(event: MouseEvent, href: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(href);
}
