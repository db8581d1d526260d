import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorMessage } from '../api/errors';
import { useApp } from '../context';
import { BASE, navigate } from '../router';
import { Icon, type IconName } from './Icon';
import { Link } from './Link';

const NAV: ReadonlyArray<{ href: string; label: string; icon: IconName; id: string }> = [
  { href: `${BASE}/files`, label: 'Library', icon: 'library', id: 'library' },
  { href: `${BASE}/upload`, label: 'Upload', icon: 'upload', id: 'upload' },
  { href: `${BASE}/webhooks`, label: 'Webhooks', icon: 'webhooks', id: 'webhooks' },
  { href: `${BASE}/settings`, label: 'Settings', icon: 'settings', id: 'settings' },
  { href: `${BASE}/usage`, label: 'Usage', icon: 'usage', id: 'usage' },
];

/** Which nav entry a path belongs to: the library owns `/dashboard` and every file page. */
function activeSection(path: string): string {
  if (path === BASE || path.startsWith(`${BASE}/files`)) return 'library';
  const section = path.slice(BASE.length + 1).split('/')[0] ?? '';
  return section;
}

export function Layout(props: { path: string; children: ComponentChildren }) {
  const active = activeSection(props.path);
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <aside class="sidebar">
        <Link href={`${BASE}/files`} class="brand" aria-label="Trove dashboard home">
          <span class="brand-mark" aria-hidden="true">
            T
          </span>
          <span class="brand-name">Trove</span>
        </Link>
        <nav aria-label="Dashboard">
          <ul class="nav-list">
            {NAV.map((item) => (
              <li key={item.id}>
                <Link
                  href={item.href}
                  class={`nav-link ${active === item.id ? 'nav-link-active' : ''}`}
                  aria-current={active === item.id ? 'page' : undefined}
                  data-testid={`nav-${item.id}`}
                >
                  <Icon name={item.icon} />
                  <span>{item.label}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <div class="main-col">
        <Header />
        <main id="main" class="content" tabIndex={-1}>
          {props.children}
        </main>
      </div>
    </div>
  );
}

function Header() {
  const { session, api, toast, signOut, refreshSession } = useApp();
  const [switching, setSwitching] = useState(false);

  const switchProject = async (pubKey: string) => {
    if (pubKey === session.project.pub_key) return;
    setSwitching(true);
    try {
      await api.switchProject(pubKey);
      await refreshSession();
      // The file, webhook or key on screen belonged to the other project.
      navigate(`${BASE}/files`);
      toast.success('Switched project.');
    } catch (failure) {
      toast.error(errorMessage(failure));
    } finally {
      setSwitching(false);
    }
  };

  return (
    <header class="topbar">
      <div class="topbar-project">
        {session.admin && session.projects.length > 1 ? (
          <>
            <label for="project-switcher" class="visually-hidden">
              Project
            </label>
            <select
              id="project-switcher"
              class="project-switcher"
              value={session.project.pub_key}
              disabled={switching}
              onChange={(event) => void switchProject(event.currentTarget.value)}
              data-testid="project-switcher"
            >
              {session.projects.map((project) => (
                <option key={project.pub_key} value={project.pub_key}>
                  {project.name}
                </option>
              ))}
            </select>
          </>
        ) : (
          <span class="project-name" data-testid="project-name">
            {session.project.name}
          </span>
        )}
        {session.admin && session.projects.length > 1 && (
          <span class="visually-hidden" data-testid="project-name">
            {session.project.name}
          </span>
        )}
        <span class="pubkey" title="Public key">
          {session.project.pub_key}
        </span>
      </div>
      <div class="topbar-actions">
        {session.admin && <span class="badge badge-admin">Admin</span>}
        <button type="button" class="btn btn-ghost" onClick={signOut} data-testid="sign-out">
          <Icon name="signout" />
          <span>Sign out</span>
        </button>
      </div>
    </header>
  );
}
