import { useState } from 'preact/hooks';

import { signOut } from './api';
import { NotFound, useSession } from './components';
import { AdminPage } from './pages/admin';
import { HomePage } from './pages/home';
import { GroupPackagesPage, ProjectPackagesPage } from './pages/package-list';
import { PackagePage } from './pages/package-page';
import { ProjectSettingsPage } from './pages/project-settings';
import { SearchPage } from './pages/search';
import { SignInPage } from './pages/sign-in';
import { TokensPage } from './pages/tokens';
import { navigate, useLocation } from './router';

/** GitLab's page paths; `<project>` and `<group>` are full paths with slashes. */
function page(path: string) {
  const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  let m: RegExpMatchArray | null;
  if (p === '/') return <HomePage />;
  if (p === '/-/search') return <SearchPage />;
  if (p === '/-/sign_in') return <SignInPage />;
  if (p === '/-/user_settings/personal_access_tokens') return <TokensPage />;
  if (p === '/admin') return <AdminPage />;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if ((m = p.match(/^\/groups\/(.+)\/-\/packages$/))) return <GroupPackagesPage key={m[1]} groupPath={decode(m[1])} />;
  if ((m = p.match(/^\/(.+?)\/-\/packages\/(\d+)$/))) return <PackagePage key={p} projectPath={decode(m[1])} packageId={Number(m[2])} />;
  if ((m = p.match(/^\/(.+?)\/-\/packages$/))) return <ProjectPackagesPage key={m[1]} projectPath={decode(m[1])} />;
  if ((m = p.match(/^\/(.+?)\/-\/settings\/packages$/))) return <ProjectSettingsPage key={m[1]} projectPath={decode(m[1])} />;
  return <NotFound />;
}

function Header() {
  const session = useSession();
  const loc = useLocation();
  const [busy, setBusy] = useState(false);
  const user = session.user;
  const here = loc.path + (loc.search.toString() ? `?${loc.search}` : '');
  return (
    <header class="site-header">
      <a class="brand" href="/">
        Stowage
      </a>
      <nav class="site-nav" aria-label="Main">
        <a href="/-/search">Search</a>
        {user && <a href="/-/user_settings/personal_access_tokens">Access tokens</a>}
        {user?.is_admin && <a href="/admin">Admin</a>}
      </nav>
      <div class="account">
        {!session.loaded ? null : user ? (
          <>
            <span class="user-name" title={`@${user.username}`}>
              {user.name}
            </span>
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                signOut()
                  .catch(() => undefined)
                  .finally(() => {
                    setBusy(false);
                    navigate('/');
                  });
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <a href={loc.path === '/-/sign_in' ? '/-/sign_in' : `/-/sign_in?redirect_to=${encodeURIComponent(here)}`}>Sign in</a>
        )}
      </div>
    </header>
  );
}

export function App() {
  const loc = useLocation();
  const session = useSession();
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        {/* Pages wait for the session: what they show depends on who is looking. */}
        {session.loaded ? <div key={`${loc.key}|${session.user?.id ?? 0}`}>{page(loc.path)}</div> : null}
      </main>
    </>
  );
}
