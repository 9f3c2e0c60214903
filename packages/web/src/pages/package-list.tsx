import { api, enc, get, type Group, mayMaintain, type PackageRow, pageCounts, type Project, query } from '../api';
import {
  ErrorMessage,
  Loading,
  NotFound,
  PackageFilters,
  PackageTable,
  pageParam,
  Pagination,
  useApi,
  useSession,
  useTitle,
} from '../components';
import { useLocation } from '../router';

const PER_PAGE = 20;

function PackagesList({ apiBase, pagePath, showProject }: { apiBase: string; pagePath: string; showProject: boolean }) {
  const { search } = useLocation();
  const type = search.get('type') ?? '';
  const name = search.get('name') ?? '';
  const page = pageParam(search);
  const list = useApi(
    () =>
      api<PackageRow[]>(
        'GET',
        `${apiBase}/packages${query({ package_type: type, package_name: name, order_by: 'created_at', sort: 'desc', page, per_page: PER_PAGE })}`,
      ),
    [apiBase, type, name, page],
  );
  if (list.error?.status === 404) return <NotFound />;
  const href = (n: number) => `${pagePath}${query({ type, name, page: n > 1 ? n : undefined })}`;
  return (
    <>
      <PackageFilters path={pagePath} type={type} name={name} />
      <ErrorMessage error={list.error} />
      {list.data === undefined ? (
        !list.error && <Loading />
      ) : (
        <>
          <PackageTable rows={list.data.data} showProject={showProject} caption="Packages" />
          <Pagination page={page} href={href} {...pageCounts(list.data.headers)} />
        </>
      )}
    </>
  );
}

export function ProjectPackagesPage({ projectPath }: { projectPath: string }) {
  useTitle(`Packages · ${projectPath}`);
  const session = useSession();
  const project = useApi(() => get<Project>(`/api/v4/projects/${enc(projectPath)}`), [projectPath]);
  if (project.error?.status === 404) return <NotFound />;
  if (project.error) return <ErrorMessage error={project.error} />;
  if (!project.data) return <Loading />;
  const p = project.data;
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/">Home</a> / <span>{p.path_with_namespace}</span>
      </nav>
      <div class="title-row">
        <h1>{p.name} packages</h1>
        {mayMaintain(p, session.user) && (
          <a class="button" href={`/${p.path_with_namespace}/-/settings/packages`}>
            Package settings
          </a>
        )}
      </div>
      {p.description && <p class="description">{p.description}</p>}
      <PackagesList apiBase={`/api/v4/projects/${p.id}`} pagePath={`/${p.path_with_namespace}/-/packages`} showProject={false} />
    </>
  );
}

export function GroupPackagesPage({ groupPath }: { groupPath: string }) {
  useTitle(`Packages · ${groupPath}`);
  const group = useApi(() => get<Group>(`/api/v4/groups/${enc(groupPath)}`), [groupPath]);
  if (group.error?.status === 404) return <NotFound />;
  if (group.error) return <ErrorMessage error={group.error} />;
  if (!group.data) return <Loading />;
  const g = group.data;
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/">Home</a> / <span>{g.full_path}</span>
      </nav>
      <h1>{g.name} packages</h1>
      {g.description && <p class="description">{g.description}</p>}
      <PackagesList apiBase={`/api/v4/groups/${g.id}`} pagePath={`/groups/${g.full_path}/-/packages`} showProject />
    </>
  );
}
