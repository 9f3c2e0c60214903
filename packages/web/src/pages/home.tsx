import { get, type PackageRow, type Project, query } from '../api';
import { DateTime, ErrorMessage, Loading, PackageTable, useApi, useSession, useTitle } from '../components';

export function HomePage() {
  useTitle('');
  const session = useSession();
  const projects = useApi(
    () =>
      get<Project[]>(
        `/api/v4/projects${query({ membership: false, packages_enabled: true, order_by: 'last_activity_at', per_page: 100 })}`,
      ),
    [],
  );
  const recent = useApi(() => get<PackageRow[]>(`/api/v4/packages${query({ order_by: 'created_at', sort: 'desc', per_page: 10 })}`), []);
  return (
    <>
      <h1>Packages</h1>
      <div class="home">
        <section aria-labelledby="projects-title">
          <h2 id="projects-title">Projects</h2>
          {!session.user && (
            <p class="hint">
              Showing public projects. <a href="/-/sign_in">Sign in</a> to see yours.
            </p>
          )}
          <ErrorMessage error={projects.error} />
          {projects.data === undefined ? (
            !projects.error && <Loading />
          ) : projects.data.length === 0 ? (
            <p class="empty">No projects to show.</p>
          ) : (
            <ul class="project-list">
              {projects.data.map((p) => (
                <li key={p.id}>
                  <a href={`/${p.path_with_namespace}/-/packages`}>{p.path_with_namespace}</a>
                  <span class={`badge visibility-${p.visibility}`}>{p.visibility}</span>
                  {p.description && <p class="description">{p.description}</p>}
                  <p class="meta">
                    Last activity <DateTime value={p.last_activity_at} />
                  </p>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="recent-title">
          <h2 id="recent-title">Recent packages</h2>
          <ErrorMessage error={recent.error} />
          {recent.data === undefined ? (
            !recent.error && <Loading />
          ) : (
            <PackageTable rows={recent.data} showProject caption="The 10 most recent packages" />
          )}
        </section>
      </div>
    </>
  );
}
