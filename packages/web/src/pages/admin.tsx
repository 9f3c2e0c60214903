import { get } from '../api';
import { formatSize, LoadState, useApi, useSession, useTitle } from '../components';

interface AdminPackages {
  formats: { name: string; enabled: boolean }[];
  stores: { kind: 'local' | 'object'; blobs: number; bytes: number }[];
  migration: { running: boolean; target: 'local' | 'object' | null; queued: number; failed: number };
}

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
                        <td data-label="Store">{s.kind === 'local' ? 'Local disk' : 'Object storage'}</td>
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
              {a.migration.running ? (
                <p>
                  Moving blobs to {a.migration.target === 'object' ? 'object storage' : 'local disk'}: {a.migration.queued} queued,{' '}
                  {a.migration.failed} failed.
                </p>
              ) : (
                <p>
                  No migration is running
                  {a.migration.failed > 0 ? ` (${a.migration.failed} failed in the last one)` : ''}. Start one with{' '}
                  <code>stowage packages migrate</code>.
                </p>
              )}
            </section>
          </div>
        )}
      </LoadState>
    </>
  );
}
