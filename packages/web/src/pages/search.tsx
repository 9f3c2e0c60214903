import { api, type PackageRow, pageCounts, query } from '../api';
import { LoadState, PackageFilters, PackageTable, pageParam, Pagination, useApi, useTitle } from '../components';
import { useLocation } from '../router';

export function SearchPage() {
  const { search } = useLocation();
  const q = search.get('q') ?? '';
  const type = search.get('type') ?? '';
  const page = pageParam(search);
  useTitle(q ? `Search: ${q}` : 'Search');
  const result = useApi(
    () =>
      api<PackageRow[]>(
        'GET',
        `/api/v4/packages${query({ package_name: q, package_type: type, order_by: 'created_at', sort: 'desc', page, per_page: 20 })}`,
      ),
    [q, type, page],
  );
  const href = (n: number) => `/-/search${query({ q, type, page: n > 1 ? n : undefined })}`;
  return (
    <>
      <h1>Search packages</h1>
      <PackageFilters path="/-/search" type={type} name={q} nameLabel="Package name" />
      <LoadState state={result}>
        {(r) => {
          const { total, totalPages } = pageCounts(r.headers);
          return (
            <>
              <PackageTable rows={r.data} showProject caption="Search results" />
              <Pagination page={page} total={total} totalPages={totalPages} href={href} />
            </>
          );
        }}
      </LoadState>
    </>
  );
}
