import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { ApiError, currentSession, onSessionChange, PACKAGE_TYPES, type PackageRow, type Session } from './api';
import { navigate } from './router';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` whenever `deps` change; an answer to an older run is dropped. */
export function useApi<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  useEffect(() => {
    const mine = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === run.current && setState({ data, loading: false }),
      (err: unknown) =>
        mine === run.current &&
        setState({ error: err instanceof ApiError ? err : new ApiError(0, String((err as Error)?.message ?? err)), loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function useSession(): Session {
  const seen = currentSession();
  const [, setTick] = useState(0);
  useEffect(() => {
    const off = onSessionChange(() => setTick((t) => t + 1));
    // Effects run after the render: a session that loaded in between (GET /-/session answering
    // before the page subscribed) would otherwise leave the page waiting for it for ever.
    if (currentSession() !== seen) setTick((t) => t + 1);
    return off;
  }, []);
  return seen;
}

export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Stowage` : 'Stowage';
  }, [title]);
}

export function NotFound() {
  useTitle('404 Not Found');
  return (
    <section class="not-found">
      <h1>404 Not Found</h1>
      <p>The page could not be found, or you do not have access to it.</p>
      <p>
        <a href="/">Go to the home page</a>
      </p>
    </section>
  );
}

export function ErrorMessage({ error }: { error: ApiError | string | undefined | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === 'string' ? error : error.message}
    </p>
  );
}

export function Loading() {
  return (
    <p class="loading" aria-live="polite">
      Loading…
    </p>
  );
}

/** Shows a load's error or a spinner; renders children once data arrived. 404 is the not-found page. */
export function LoadState<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (state.error?.status === 404) return <NotFound />;
  if (state.error) return <ErrorMessage error={state.error} />;
  if (state.data === undefined) return <Loading />;
  return <>{children(state.data)}</>;
}

export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return <span>{value}</span>;
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()}>
      {text}
    </time>
  );
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

export function PackageTable({ rows, showProject, caption }: { rows: PackageRow[]; showProject?: boolean; caption: string }) {
  if (!rows.length) return <p class="empty">No packages found.</p>;
  return (
    <div class="table-wrap">
      <table class="packages">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Version</th>
            <th scope="col">Type</th>
            {showProject && <th scope="col">Project</th>}
            <th scope="col">Status</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.id}>
              <td data-label="Name">
                <a href={p._links.web_path}>{p.name}</a>
                {p.tags.map((t) => (
                  <span class="tag" key={t.name}>
                    {t.name}
                  </span>
                ))}
              </td>
              <td data-label="Version">{p.version ?? '—'}</td>
              <td data-label="Type">{p.package_type}</td>
              {showProject && (
                <td data-label="Project">{p.project_path ? <a href={`/${p.project_path}/-/packages`}>{p.project_path}</a> : '—'}</td>
              )}
              <td data-label="Status">
                <StatusBadge status={p.status} />
              </td>
              <td data-label="Created">
                <DateTime value={p.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Prev / next and the page count; `href(n)` is the URL of page n (filters kept). */
export function Pagination({
  page,
  totalPages,
  total,
  href,
}: {
  page: number;
  totalPages: number;
  total: number;
  href: (n: number) => string;
}) {
  return (
    <nav class="pagination" aria-label="Pagination">
      {page > 1 ? (
        <>
          <a href={href(1)} aria-label="First page">
            « First
          </a>
          <a href={href(page - 1)} rel="prev">
            ‹ Prev
          </a>
        </>
      ) : (
        <>
          <span class="disabled" aria-hidden="true">
            « First
          </span>
          <span class="disabled" aria-hidden="true">
            ‹ Prev
          </span>
        </>
      )}
      <span class="page-count" aria-live="polite">
        Page {page} of {totalPages} · {total} {total === 1 ? 'package' : 'packages'}
      </span>
      {page < totalPages ? (
        <>
          <a href={href(page + 1)} rel="next">
            Next ›
          </a>
          <a href={href(totalPages)} aria-label="Last page">
            Last »
          </a>
        </>
      ) : (
        <>
          <span class="disabled" aria-hidden="true">
            Next ›
          </span>
          <span class="disabled" aria-hidden="true">
            Last »
          </span>
        </>
      )}
    </nav>
  );
}

/** The type select and name text a packages list filters by; submitting navigates to page 1. */
export function PackageFilters({ path, type, name, nameLabel = 'Name' }: { path: string; type: string; name: string; nameLabel?: string }) {
  const [t, setT] = useState(type);
  const [n, setN] = useState(name);
  useEffect(() => setT(type), [type]);
  useEffect(() => setN(name), [name]);
  const nameParam = path === '/-/search' ? 'q' : 'name';
  return (
    <form
      class="filters"
      role="search"
      method="get"
      action={path}
      onSubmit={(e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        if (n.trim()) q.set(nameParam, n.trim());
        if (t) q.set('type', t);
        const s = q.toString();
        navigate(s ? `${path}?${s}` : path);
      }}
    >
      <label>
        {nameLabel}
        <input type="text" name={nameParam} value={n} onInput={(e) => setN(e.currentTarget.value)} autocomplete="off" />
      </label>
      <label>
        Type
        <select name="type" value={t} onChange={(e) => setT(e.currentTarget.value)}>
          <option value="">All types</option>
          {PACKAGE_TYPES.map((ty) => (
            <option value={ty} key={ty}>
              {ty}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

export function pageParam(search: URLSearchParams): number {
  const n = Number(search.get('page') ?? '1');
  return Number.isInteger(n) && n > 0 ? n : 1;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      class="copy"
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => setState('copied'),
          () => setState('failed'),
        );
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}
    </button>
  );
}

/** A real <dialog>: `open` shows it modally; Confirm or Cancel (or Escape) closes it. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={onCancel} onClose={() => open && onCancel()}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
