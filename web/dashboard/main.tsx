import './dashboard.css';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { DashboardSession } from '../../client/trove-client';
import { ApiClient } from './api/client';
import { errorMessage } from './api/errors';
import { readBootConfig, type BootConfig } from './boot';
import { useConfirmDialog } from './components/Dialog';
import { Layout } from './components/Layout';
import { EmptyState, Spinner } from './components/States';
import { ToastArea, useToasts } from './components/Toasts';
import { Link } from './components/Link';
import { AppContext, type AppServices } from './context';
import { BASE, matchPath, useLocation } from './router';
import { FilePage } from './views/FilePage';
import { Library } from './views/Library';
import { Settings } from './views/Settings';
import { SignIn } from './views/SignIn';
import { Upload } from './views/Upload';
import { Usage } from './views/Usage';
import { Webhooks } from './views/Webhooks';

function Routes(props: { path: string; search: URLSearchParams }) {
  const { path, search } = props;
  if (path === BASE || path === `${BASE}/files`) return <Library search={search} />;
  const file = matchPath(`${BASE}/files/:uuid`, path);
  if (file) return <FilePage key={file.uuid} uuid={file.uuid ?? ''} />;
  if (path === `${BASE}/upload`) return <Upload />;
  if (path === `${BASE}/webhooks`) return <Webhooks />;
  if (path === `${BASE}/settings`) return <Settings />;
  if (path === `${BASE}/usage`) return <Usage />;
  return (
    <EmptyState title="Page not found" testId="not-found">
      <p>
        There is no dashboard page at <code>{path}</code>. <Link href={`${BASE}/files`}>Go to the library</Link>.
      </p>
    </EmptyState>
  );
}

function App(props: { api: ApiClient; boot: BootConfig }) {
  const { api, boot } = props;
  // undefined: still asking the server whether this browser is signed in.
  const [session, setSession] = useState<DashboardSession | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [libraryVersion, setLibraryVersion] = useState(0);
  const { toasts, toaster, dismiss } = useToasts();
  const { confirm, element: confirmDialog } = useConfirmDialog();
  const location = useLocation();

  useEffect(() => {
    api.onUnauthorized((message) => {
      setSession(null);
      setNotice(message ? `Your session has ended: ${message}` : 'Your session has ended. Please sign in again.');
    });
    api.currentSession().then(
      (current) => setSession(current),
      (failure: unknown) => {
        setSession(null);
        setNotice(`Could not check your session: ${errorMessage(failure)}`);
      },
    );
  }, [api]);

  const signOut = useCallback(() => {
    api.signOut().then(
      () => toaster.success('Signed out.'),
      () => undefined,
    );
    setNotice(null);
    setSession(null);
  }, [api, toaster]);

  const refreshSession = useCallback(async () => {
    const current = await api.currentSession();
    if (current === null) {
      setNotice('Your session has ended. Please sign in again.');
    }
    setSession(current);
  }, [api]);

  const libraryChanged = useCallback(() => setLibraryVersion((n) => n + 1), []);

  const services = useMemo<AppServices | null>(
    () =>
      session
        ? { api, boot, session, toast: toaster, confirm, signOut, refreshSession, libraryVersion, libraryChanged }
        : null,
    [api, boot, session, toaster, confirm, signOut, refreshSession, libraryVersion, libraryChanged],
  );

  let body;
  if (session === undefined) {
    body = (
      <div class="boot">
        <Spinner label="Opening the dashboard…" />
      </div>
    );
  } else if (session === null || services === null) {
    body = (
      <SignIn
        api={api}
        notice={notice}
        onSignedIn={(signedIn) => {
          setNotice(null);
          setSession(signedIn);
        }}
      />
    );
  } else {
    body = (
      <AppContext.Provider value={services}>
        <Layout path={location.path}>
          {/* Keyed by project: switching projects starts every view afresh. */}
          <Routes key={session.project.pub_key} path={location.path} search={location.search} />
        </Layout>
      </AppContext.Provider>
    );
  }

  return (
    <>
      {body}
      {confirmDialog}
      <ToastArea toasts={toasts} onDismiss={dismiss} />
    </>
  );
}

/** The shell has no icon link; without one the browser asks for /favicon.ico, which is not there. */
function addFavicon(): void {
  if (document.querySelector('link[rel~="icon"]')) return;
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#5b4ef0"/><path d="M9 10h14M16 10v13" stroke="#fff" stroke-width="3.5" stroke-linecap="round"/></svg>';
  const link = document.createElement('link');
  link.rel = 'icon';
  link.href = `data:image/svg+xml,${encodeURIComponent(svg)}`;
  document.head.appendChild(link);
}

const root = document.getElementById('app');
if (root) {
  addFavicon();
  root.textContent = '';
  const boot = readBootConfig();
  render(<App api={new ApiClient(boot)} boot={boot} />, root);
}
