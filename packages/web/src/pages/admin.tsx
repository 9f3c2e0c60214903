import { get } from '../api';
import { formatSize, LoadState, useApi, useSession, useTitle } from '../components';

interface MigrationRun {
  to: string;
  running: boolean;
  total: number;
  done: number;
  moved: number;
  skipped: number;
  failed: number;
  bytes: number;
  interrupted: boolean;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

interface AdminPackages {
  packages_enabled: boolean;
  formats: { name: string; enabled: boolean }[];
  stores: { kind: string; configured: boolean; blobs: number; bytes: number }[];
  jobs: { waiting: number; active: number; failed: number };
  /** The latest `stowage packages migrate` run, as its process recorded it; null when none ran. */
  migration: MigrationRun | null;
}

const storeName = (kind: string) => (kind === 'local' ? 'Local disk' : kind === 'object' ? 'Object storage' : kind);

export function AdminPage() {
  useTitle('Admin');
  const session = useSession();
  const state = useApi(() => get<AdminPackages>('/api/v4/application/packages'), [session.user?.id]);
  return (
    <>
      <h1>Admin</h1>
      <LoadState state={state}>
        {(a) => (
          <div class="admin">
            <section aria-labelledby="formats-title">
              <h2 id="formats-title">Formats</h2>
              {!a.packages_enabled && <p class="hint">Package endpoints are off for the instance (packages.enabled: false).</p>}
              <ul class="formats">
                {a.formats.map((f) => (
                  <li key={f.name}>
                    {f.name} <span class={`badge ${f.enabled ? 'enabled' : 'disabled'}`}>{f.enabled ? 'enabled' : 'disabled'}</span>
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="storage-title">
              <h2 id="storage-title">Storage</h2>
              <div class="table-wrap">
                <table>
                  <caption class="visually-hidden">Storage per store</caption>
                  <thead>
                    <tr>
                      <th scope="col">Store</th>
                      <th scope="col">Blobs</th>
                      <th scope="col">Bytes</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.stores.map((s) => (
                      <tr key={s.kind}>
                        <td data-label="Store">
                          {storeName(s.kind)}
                          {s.configured === false && <span class="badge disabled">not configured</span>}
                        </td>
                        <td data-label="Blobs">{s.blobs.toLocaleString('en')}</td>
                        <td data-label="Bytes">
                          {formatSize(s.bytes)} <span class="muted">({s.bytes.toLocaleString('en')} bytes)</span>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
            <section aria-labelledby="migration-title">
              <h2 id="migration-title">Storage migration</h2>
              <MigrationStatus run={a.migration} />
              <p class="jobs-state">
                Background jobs: {a.jobs.waiting} queued, {a.jobs.active} running, {a.jobs.failed} failed.
              </p>
            </section>
          </div>
        )}
      </LoadState>
    </>
  );
}

const when = (iso: string) => new Date(iso).toISOString().slice(0, 16).replace('T', ' ');

function MigrationStatus({ run }: { run: MigrationRun | null }) {
  if (!run) {
    return (
      <p class="migration-state">
        No migration has run. <code>stowage packages migrate --to object</code> moves every blob to object storage.
      </p>
    );
  }
  const target = storeName(run.to).toLowerCase();
  const counts = `${run.done.toLocaleString('en')} of ${run.total.toLocaleString('en')} blobs dealt with: ${run.moved.toLocaleString('en')} moved (${formatSize(run.bytes)}), ${run.failed.toLocaleString('en')} failed`;
  return (
    <>
      <p class="migration-state">
        {run.running
          ? `Migration to ${target} running since ${when(run.started_at)}: ${counts}.`
          : `Last migration to ${target} ${run.interrupted ? 'was interrupted' : 'finished'} at ${when(run.finished_at ?? run.updated_at)}: ${counts}.`}
      </p>
      {run.running && <progress max={Math.max(run.total, 1)} value={run.done} aria-label="Migration progress" />}
      {run.running && <p class="hint">Last progress at {when(run.updated_at)}.</p>}
    </>
  );
}
