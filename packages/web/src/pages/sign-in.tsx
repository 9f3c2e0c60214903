import { useState } from 'preact/hooks';

import { ApiError, signIn } from '../api';
import { ErrorMessage, useSession, useTitle } from '../components';
import { navigate, useLocation } from '../router';

/** Where to go after signing in: a path on this site only. */
function redirectTarget(search: URLSearchParams): string {
  const to = search.get('redirect_to') ?? '/';
  if (!to.startsWith('/')) return '/';
  // Parsed as the browser would (it drops tabs and newlines: `/\t/evil.example` is `//evil.example`).
  const url = new URL(to, location.origin);
  // `/.//evil.example` is this origin with the path `//evil.example`, which as a link is another host.
  if (url.origin !== location.origin || url.pathname.startsWith('//')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

export function SignInPage() {
  useTitle('Sign in');
  const { search } = useLocation();
  const session = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section class="sign-in">
      <h1>Sign in</h1>
      {session.user && <p class="hint">You are signed in as {session.user.name}. Signing in again replaces that session.</p>}
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          signIn(token.trim()).then(
            () => {
              setToken('');
              navigate(redirectTarget(search));
            },
            (err: unknown) => {
              setBusy(false);
              setError(err instanceof ApiError ? (err.status === 401 ? 'Invalid token: 401 Unauthorized' : err.message) : String(err));
            },
          );
        }}
      >
        <label for="token">Personal access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="hint">
          A token with the <code>api</code> or <code>read_api</code> scope. It is sent once to start a session; the browser never stores it.
        </p>
        <ErrorMessage error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </section>
  );
}
