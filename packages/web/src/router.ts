// Client-side routing over the History API. Links are plain <a href>; a click on one that stays
// in the UI becomes a pushState instead of a page load.
import { useEffect, useState } from 'preact/hooks';

export interface Location {
  path: string;
  search: URLSearchParams;
  /** path + search: changes on every navigation that changes what a page shows. */
  key: string;
}

const listeners = new Set<() => void>();

function read(): Location {
  return {
    path: window.location.pathname,
    search: new URLSearchParams(window.location.search),
    key: window.location.pathname + window.location.search,
  };
}

let current = read();

function changed(focusMain: boolean) {
  current = read();
  for (const l of listeners) l();
  if (focusMain) {
    // Move focus to the new content, so keyboard and screen-reader users start from it.
    queueMicrotask(() => document.getElementById('main')?.focus({ preventScroll: true }));
  }
}

export function navigate(url: string, opts: { replace?: boolean } = {}) {
  const target = new URL(url, window.location.href);
  // History holds this origin's pages only (pushState would throw); the app never navigates elsewhere.
  if (target.origin !== window.location.origin) return;
  const same = target.pathname + target.search === window.location.pathname + window.location.search;
  if (opts.replace || same) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  window.scrollTo(0, 0);
  changed(true);
}

export function useLocation(): Location {
  const seen = current;
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    // Effects run after the render: a change in between would otherwise never reach this component.
    if (current !== seen) l();
    return () => {
      listeners.delete(l);
    };
  }, []);
  return current;
}

/** Paths the browser must load itself: the API, downloads, the assets. */
function outsideUi(path: string): boolean {
  return /^\/(api|-\/ui\/assets|-\/session|-\/health)(\/|$)/.test(path) || path.includes('/-/package_files/');
}

export function startRouter() {
  window.addEventListener('popstate', () => changed(false));
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || !a.href || a.hasAttribute('download') || (a.target && a.target !== '_self')) return;
    const url = new URL(a.href);
    if (url.origin !== window.location.origin || outsideUi(url.pathname)) return;
    if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}
