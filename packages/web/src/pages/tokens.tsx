import { useState } from 'preact/hooks';

import { api, getAll } from '../api';
import { ErrorMessage, Loading, useApi, useSession, useTitle } from '../components';
import { NewToken, TokenForm, type TokenRow, TokenTable } from './tokens-shared';

const SCOPES = [
  'api',
  'read_api',
  'read_user',
  'read_registry',
  'write_registry',
  'read_package_registry',
  'write_package_registry',
] as const;

export function TokensPage() {
  useTitle('Personal access tokens');
  const session = useSession();
  const tokens = useApi(
    // `user_id`: for an administrator the API lists every user's tokens, as GitLab's does.
    () =>
      session.user
        ? getAll<TokenRow>(`/api/v4/personal_access_tokens?user_id=${session.user.id}&per_page=100`)
        : Promise.resolve([] as TokenRow[]),
    [session.user?.id],
  );
  const [created, setCreated] = useState<string | null>(null);
  if (!session.user) {
    return (
      <>
        <h1>Personal access tokens</h1>
        <p>
          <a href="/-/sign_in?redirect_to=%2F-%2Fuser_settings%2Fpersonal_access_tokens">Sign in</a> to manage your tokens.
        </p>
      </>
    );
  }
  return (
    <>
      <h1>Personal access tokens</h1>
      <section aria-labelledby="new-token-title">
        <h2 id="new-token-title">Add a token</h2>
        {created && <NewToken label="Your new personal access token" token={created} onDismiss={() => setCreated(null)} />}
        <TokenForm
          scopes={SCOPES}
          submitLabel="Create personal access token"
          onCreate={async (body) => {
            const { data } = await api<{ token: string }>('POST', '/api/v4/user/personal_access_tokens', body);
            setCreated(data.token);
            tokens.reload();
          }}
        />
      </section>
      <section aria-labelledby="tokens-title">
        <h2 id="tokens-title">Your tokens</h2>
        <ErrorMessage error={tokens.error} />
        {tokens.data === undefined ? (
          !tokens.error && <Loading />
        ) : (
          <TokenTable
            caption="Your personal access tokens"
            tokens={tokens.data}
            onRevoke={async (t) => {
              await api('DELETE', `/api/v4/personal_access_tokens/${t.id}`);
              tokens.reload();
            }}
          />
        )}
      </section>
    </>
  );
}
