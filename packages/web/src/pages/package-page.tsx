import { useEffect, useState } from 'preact/hooks';

import {
  api,
  ApiError,
  enc,
  get,
  mayMaintain,
  type PackageFileRow,
  type PackageOverview,
  type PackageRow,
  type Project,
  query,
} from '../api';
import {
  ConfirmDialog,
  CopyButton,
  DateTime,
  ErrorMessage,
  formatSize,
  Loading,
  NotFound,
  StatusBadge,
  useApi,
  useSession,
  useTitle,
} from '../components';
import { renderMarkdown } from '../markdown';
import { navigate } from '../router';

interface PackageData {
  project: Project;
  pkg: PackageRow;
}

/** The format's overview; an answer without one (an older server, a 404 route) shows none. */
async function overviewOf(base: string): Promise<PackageOverview | null> {
  try {
    return await get<PackageOverview>(`${base}/overview`);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

function Readme({ markdown }: { markdown: string }) {
  // undefined while the worker parses; null when it could not (the text is shown as it is).
  const [html, setHtml] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let current = true;
    setHtml(undefined);
    void renderMarkdown(markdown).then((h) => current && setHtml(h));
    return () => {
      current = false;
    };
  }, [markdown]);
  if (html === undefined) return <Loading />;
  if (html === null) return <pre class="readme readme-text">{markdown}</pre>;
  return <div class="readme markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

type Pending = { kind: 'package' } | { kind: 'file'; file: PackageFileRow } | null;

export function PackagePage({ projectPath, packageId }: { projectPath: string; packageId: number }) {
  const session = useSession();
  const base = `/api/v4/projects/${enc(projectPath)}/packages/${packageId}`;
  const main = useApi<PackageData>(async () => {
    const [project, pkg] = await Promise.all([get<Project>(`/api/v4/projects/${enc(projectPath)}`), get<PackageRow>(base)]);
    return { project, pkg };
  }, [base]);
  const files = useApi(() => get<PackageFileRow[]>(`${base}/package_files?per_page=100`), [base]);
  const overview = useApi(() => overviewOf(base), [base]);
  const pkg = main.data?.pkg;
  const versions = useApi<PackageRow[] | null>(
    () =>
      pkg
        ? get<PackageRow[]>(
            `/api/v4/projects/${main.data!.project.id}/packages${query({
              package_name: pkg.name,
              package_type: pkg.package_type,
              order_by: 'created_at',
              sort: 'desc',
              per_page: 100,
            })}`,
          ).then((rows) => rows.filter((r) => r.name === pkg.name && r.id !== pkg.id))
        : Promise.resolve(null),
    [pkg?.id],
  );
  const [pending, setPending] = useState<Pending>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  useTitle(pkg ? `${pkg.name} ${pkg.version ?? ''}` : 'Package');

  if (main.error?.status === 404) return <NotFound />;
  if (main.error) return <ErrorMessage error={main.error} />;
  if (!main.data || !pkg) return <Loading />;
  const { project } = main.data;
  const canDelete = mayMaintain(project, session.user);
  const listPath = `/${project.path_with_namespace}/-/packages`;

  const confirm = async () => {
    const what = pending;
    setPending(null);
    setActionError(null);
    try {
      if (what?.kind === 'package') {
        await api('DELETE', base);
        navigate(listPath);
      } else if (what?.kind === 'file') {
        await api('DELETE', `${base}/package_files/${what.file.id}`);
        files.reload();
      }
    } catch (err) {
      setActionError(err instanceof ApiError ? err.message : String(err));
    }
  };

  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/">Home</a> / <a href={listPath}>{project.path_with_namespace}</a> / <span>{pkg.name}</span>
      </nav>
      <div class="title-row">
        <h1>
          {pkg.name} <span class="version">{pkg.version ?? ''}</span>
        </h1>
        {canDelete && (
          <button type="button" class="danger" onClick={() => setPending({ kind: 'package' })}>
            Delete package
          </button>
        )}
      </div>
      <ErrorMessage error={actionError} />
      <dl class="facts">
        <dt>Type</dt>
        <dd>{pkg.package_type}</dd>
        <dt>Version</dt>
        <dd>{pkg.version ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={pkg.status} />
        </dd>
        <dt>Created</dt>
        <dd>
          <DateTime value={pkg.created_at} />
        </dd>
        <dt>Tags</dt>
        <dd>
          {pkg.tags.length
            ? pkg.tags.map((t) => (
                <span class="tag" key={t.name}>
                  {t.name}
                </span>
              ))
            : '—'}
        </dd>
      </dl>

      <div class="package-grid">
        <div class="package-main">
          {overview.data && overview.data.instructions.length > 0 && (
            <section aria-labelledby="install-title">
              <h2 id="install-title">Installation</h2>
              {overview.data.instructions.map((ins, i) => (
                <div class="instruction" key={i}>
                  <div class="instruction-head">
                    <h3>{ins.title}</h3>
                    <CopyButton text={ins.code} label="Copy" />
                  </div>
                  <pre>
                    <code class={`language-${ins.language}`}>{ins.code}</code>
                  </pre>
                </div>
              ))}
            </section>
          )}

          <section aria-labelledby="files-title">
            <h2 id="files-title">Files</h2>
            <ErrorMessage error={files.error} />
            {files.data === undefined ? (
              !files.error && <Loading />
            ) : files.data.length === 0 ? (
              <p class="empty">No files.</p>
            ) : (
              <div class="table-wrap">
                <table class="files">
                  <thead>
                    <tr>
                      <th scope="col">File</th>
                      <th scope="col">Size</th>
                      <th scope="col">SHA-256</th>
                      <th scope="col">Created</th>
                      {canDelete && (
                        <th scope="col">
                          <span class="visually-hidden">Actions</span>
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {files.data.map((f) => (
                      <tr key={f.id}>
                        <td data-label="File">
                          <a href={`/${project.path_with_namespace}/-/package_files/${f.id}/download`} download={f.file_name}>
                            {f.file_name}
                          </a>
                        </td>
                        <td data-label="Size">
                          <span title={`${f.size} bytes`}>{formatSize(f.size)}</span>
                        </td>
                        <td data-label="SHA-256">
                          <code class="digest">{f.file_sha256 ?? '—'}</code>
                        </td>
                        <td data-label="Created">
                          <DateTime value={f.created_at} />
                        </td>
                        {canDelete && (
                          <td>
                            <button
                              type="button"
                              class="danger small"
                              aria-label={`Delete file ${f.file_name}`}
                              onClick={() => setPending({ kind: 'file', file: f })}
                            >
                              Delete
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          {overview.data?.readme && (
            <section aria-labelledby="readme-title">
              <h2 id="readme-title">README</h2>
              <Readme markdown={overview.data.readme} />
            </section>
          )}
        </div>

        <aside class="package-side">
          <section aria-labelledby="versions-title">
            <h2 id="versions-title">Other versions</h2>
            {versions.data === undefined || versions.data === null ? (
              versions.error ? (
                <ErrorMessage error={versions.error} />
              ) : (
                <Loading />
              )
            ) : versions.data.length === 0 ? (
              <p class="empty">No other versions.</p>
            ) : (
              <ul class="versions">
                {versions.data.map((v) => (
                  <li key={v.id}>
                    <a href={v._links.web_path}>{v.version ?? '(no version)'}</a> <DateTime value={v.created_at} />
                  </li>
                ))}
              </ul>
            )}
          </section>

          {overview.error && <ErrorMessage error={overview.error} />}
          {overview.data && overview.data.metadata.length > 0 && (
            <section aria-labelledby="metadata-title">
              <h2 id="metadata-title">Metadata</h2>
              <dl class="metadata">
                {overview.data.metadata.map((m, i) => (
                  <div key={i}>
                    <dt>{m.label}</dt>
                    <dd>{m.value}</dd>
                  </div>
                ))}
              </dl>
            </section>
          )}
          {overview.data && overview.data.dependencies.length > 0 && (
            <section aria-labelledby="deps-title">
              <h2 id="deps-title">Dependencies</h2>
              <ul class="dependencies">
                {overview.data.dependencies.map((d, i) => (
                  <li key={i}>
                    <code>{d.name}</code> <span class="requirement">{d.requirement}</span>
                    {d.kind && d.kind !== 'dependencies' && <span class="badge">{d.kind}</span>}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </aside>
      </div>

      <ConfirmDialog
        open={pending !== null}
        title={pending?.kind === 'file' ? 'Delete file?' : 'Delete package?'}
        confirmLabel={pending?.kind === 'file' ? 'Delete file' : 'Delete package'}
        onConfirm={() => void confirm()}
        onCancel={() => setPending(null)}
      >
        <p>
          {pending?.kind === 'file'
            ? `${pending.file.file_name} will be removed from ${pkg.name} ${pkg.version ?? ''}.`
            : `${pkg.name} ${pkg.version ?? ''} and all its files will be deleted.`}{' '}
          This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
