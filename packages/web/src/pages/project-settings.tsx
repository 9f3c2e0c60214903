import { useEffect, useState } from 'preact/hooks';

import { api, ApiError, enc, get, getAll, type Project } from '../api';
import { ErrorMessage, Loading, NotFound, useApi, useTitle } from '../components';
import { NewToken, TokenForm, type TokenRow, TokenTable } from './tokens-shared';

const DEPLOY_SCOPES = ['read_package_registry', 'write_package_registry'] as const;
const SUFFIX = '_duplicates_allowed';

type Settings = Record<string, unknown>;

function DuplicateSettings({ apiBase }: { apiBase: string }) {
  const settings = useApi(() => get<Settings>(`${apiBase}/package_settings`), [apiBase]);
  const [form, setForm] = useState<Settings>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (settings.data) setForm(settings.data);
  }, [settings.data]);
  if (settings.error) return <ErrorMessage error={settings.error} />;
  if (!settings.data) return <Loading />;
  const formats = Object.keys(settings.data)
    .filter((k) => k.endsWith(SUFFIX))
    .map((k) => k.slice(0, -SUFFIX.length))
    .sort();
  return (
    <form
      class="settings"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setMessage(null);
        const body: Settings = {};
        for (const f of formats) {
          body[`${f}${SUFFIX}`] = !!form[`${f}${SUFFIX}`];
          body[`${f}_duplicate_exception_regex`] = String(form[`${f}_duplicate_exception_regex`] ?? '');
        }
        api<Settings>('PUT', `${apiBase}/package_settings`, body).then(
          ({ data }) => {
            setBusy(false);
            setForm(data);
            setMessage({ ok: true, text: 'Settings saved.' });
          },
          (err: unknown) => {
            setBusy(false);
            setMessage({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
          },
        );
      }}
    >
      {formats.length === 0 && <p class="empty">No format with duplicate settings is enabled.</p>}
      {formats.map((f) => (
        <fieldset key={f}>
          <legend>{f}</legend>
          <label class="checkbox">
            <input
              type="checkbox"
              name={`${f}${SUFFIX}`}
              checked={!!form[`${f}${SUFFIX}`]}
              onChange={(e) => setForm({ ...form, [`${f}${SUFFIX}`]: e.currentTarget.checked })}
            />
            Allow duplicates
          </label>
          <label>
            Exceptions (regular expression)
            <input
              type="text"
              name={`${f}_duplicate_exception_regex`}
              value={String(form[`${f}_duplicate_exception_regex`] ?? '')}
              onInput={(e) => setForm({ ...form, [`${f}_duplicate_exception_regex`]: e.currentTarget.value })}
            />
          </label>
        </fieldset>
      ))}
      {message && (
        <p class={message.ok ? 'success' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy || formats.length === 0}>
        Save changes
      </button>
    </form>
  );
}

function DeployTokens({ apiBase }: { apiBase: string }) {
  const tokens = useApi(() => getAll<TokenRow>(`${apiBase}/deploy_tokens?per_page=100`), [apiBase]);
  const [created, setCreated] = useState<{ token: string; username: string } | null>(null);
  return (
    <>
      {created && (
        <NewToken label={`Your new deploy token (username ${created.username})`} token={created.token} onDismiss={() => setCreated(null)} />
      )}
      <TokenForm
        scopes={DEPLOY_SCOPES}
        submitLabel="Create deploy token"
        onCreate={async (body) => {
          const { data } = await api<{ token: string; username: string }>('POST', `${apiBase}/deploy_tokens`, body);
          setCreated(data);
          tokens.reload();
        }}
      />
      <h3>Active and past deploy tokens</h3>
      <ErrorMessage error={tokens.error} />
      {tokens.data === undefined ? (
        !tokens.error && <Loading />
      ) : (
        <TokenTable
          caption="Deploy tokens"
          tokens={tokens.data}
          onRevoke={async (t) => {
            await api('DELETE', `${apiBase}/deploy_tokens/${t.id}`);
            tokens.reload();
          }}
        />
      )}
    </>
  );
}

export function ProjectSettingsPage({ projectPath }: { projectPath: string }) {
  useTitle(`Package settings · ${projectPath}`);
  const project = useApi(() => get<Project>(`/api/v4/projects/${enc(projectPath)}`), [projectPath]);
  if (project.error?.status === 404) return <NotFound />;
  if (project.error) return <ErrorMessage error={project.error} />;
  if (!project.data) return <Loading />;
  const p = project.data;
  const apiBase = `/api/v4/projects/${p.id}`;
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/">Home</a> / <a href={`/${p.path_with_namespace}/-/packages`}>{p.path_with_namespace}</a> / <span>Settings</span>
      </nav>
      <h1>Package settings</h1>
      <section aria-labelledby="dup-title">
        <h2 id="dup-title">Duplicate packages</h2>
        <p class="hint">
          Whether a version may be published again. The exception regex names the packages that are the exception to the checkbox.
        </p>
        <DuplicateSettings apiBase={apiBase} />
      </section>
      <section aria-labelledby="deploy-title">
        <h2 id="deploy-title">Deploy tokens</h2>
        <DeployTokens apiBase={apiBase} />
      </section>
    </>
  );
}
