import { get } from '../api';
import { formatSize, LoadState, useApi, useSession, useTitle } from '../components';

interface AdminPackages {
  formats: { name: string; enabled: boolean }[];
  stores: { kind: string; configured?: boolean; blobs: number; bytes: number }[];
  /** Background jobs (a `packages migrate` queues one move per blob): the server's answer. */
  jobs?: { waiting: number; active: number; failed: number };
  /** The shape the UI was first specified against; kept readable if a server sends it. */
  migration?: { running: boolean; target: string | null; queued: number; failed: number };
}

interface MigrationView {
  /** Known only when the server reports a migration itself; otherwise the job counts speak. */
  running: boolean | null;
  target: string | null;
  queued: number;
  active: number;
  failed: number;
}

function migrationState(a: AdminPackages): MigrationView {
  if (a.migration) return { ...a.migration, active: 0 };
  const j = a.jobs ?? { waiting: 0, active: 0, failed: 0 };
  return { running: null, target: null, queued: j.waiting, active: j.active, failed: j.failed };
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
              <h2 id="migration-title">Storage migration and background jobs</h2>
              <MigrationStatus state={migrationState(a)} />
            </section>
          </div>
        )}
      </LoadState>
    </>
  );
}

function MigrationStatus({ state: m }: { state: MigrationView }) {
  const counts = `${m.queued} queued, ${m.active} running, ${m.failed} failed`;
  return (
    <>
      <p class="migration-state">
        {m.running === null
          ? `Background jobs: ${counts}.`
          : m.running
            ? `Migration running${m.target ? ` to ${storeName(m.target).toLowerCase()}` : ''}: ${counts}.`
            : `No migration running${m.failed > 0 ? ` (${m.failed} failed)` : ''}.`}
      </p>
      <p class="hint">
        <code>stowage packages migrate</code> queues one move per blob; the counts per store above are its progress.
      </p>
    </>
  );
}
