import { useEffect, useRef, useState } from 'preact/hooks';
import type { DashboardSession } from '../../../client/trove-client';
import type { ApiClient } from '../api/client';
import { errorMessage } from '../api/errors';
import { useDocumentTitle } from '../lib/hooks';

type Mode = 'keys' | 'admin';

const LAST_PUB_KEY = 'trove.dashboard.pubKey';

function rememberedPubKey(): string {
  try {
    return window.localStorage.getItem(LAST_PUB_KEY) ?? '';
  } catch {
    return '';
  }
}

function rememberPubKey(pubKey: string): void {
  try {
    window.localStorage.setItem(LAST_PUB_KEY, pubKey);
  } catch {
    // Storage off (private mode): the field just starts empty next time.
  }
}

export function SignIn(props: { api: ApiClient; notice: string | null; onSignedIn: (session: DashboardSession) => void }) {
  useDocumentTitle('Sign in');
  const [mode, setMode] = useState<Mode>('keys');
  const [pubKey, setPubKey] = useState(rememberedPubKey);
  const [secretKey, setSecretKey] = useState('');
  const [password, setPassword] = useState('');
  const [adminPubKey, setAdminPubKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const firstField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    firstField.current?.focus();
  }, [mode]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (mode === 'keys' && (pubKey.trim() === '' || secretKey.trim() === '')) {
      setError('Enter both the public key and the secret key.');
      return;
    }
    if (mode === 'admin' && password === '') {
      setError('Enter the admin password.');
      return;
    }
    setBusy(true);
    try {
      const session =
        mode === 'keys'
          ? await props.api.signIn({ pub_key: pubKey.trim(), secret_key: secretKey.trim() })
          : await props.api.signIn(adminPubKey.trim() ? { password, pub_key: adminPubKey.trim() } : { password });
      if (mode === 'keys') rememberPubKey(pubKey.trim());
      setSecretKey('');
      setPassword('');
      props.onSignedIn(session);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const tab = (value: Mode, label: string) => (
    <button
      type="button"
      role="tab"
      id={`signin-tab-${value}`}
      aria-selected={mode === value}
      aria-controls="signin-panel"
      tabIndex={mode === value ? 0 : -1}
      class={`tab ${mode === value ? 'tab-active' : ''}`}
      data-testid={`signin-tab-${value}`}
      onClick={() => {
        setMode(value);
        setError(null);
      }}
      onKeyDown={(event) => {
        if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
          const other: Mode = value === 'keys' ? 'admin' : 'keys';
          setMode(other);
          document.getElementById(`signin-tab-${other}`)?.focus();
        }
      }}
    >
      {label}
    </button>
  );

  return (
    <div class="signin-page">
      <main class="signin-card" id="main">
        <div class="brand brand-large">
          <span class="brand-mark" aria-hidden="true">T</span>
          <span>Trove</span>
        </div>
        <h1 class="signin-title">Sign in to the dashboard</h1>
        {props.notice && (
          <p class="notice" role="status" data-testid="signin-notice">
            {props.notice}
          </p>
        )}
        <div class="tabs" role="tablist" aria-label="Sign-in method">
          {tab('keys', 'Project keys')}
          {tab('admin', 'Admin password')}
        </div>
        <div id="signin-panel" role="tabpanel" aria-labelledby={`signin-tab-${mode}`}>
        <form class="form" onSubmit={submit} noValidate>
          {mode === 'keys' ? (
            <>
              <div class="field">
                <label for="signin-pub-key">Public key</label>
                <input
                  ref={firstField}
                  id="signin-pub-key"
                  name="pub_key"
                  autocomplete="username"
                  spellcheck={false}
                  value={pubKey}
                  onInput={(event) => setPubKey(event.currentTarget.value)}
                  data-testid="signin-pub-key"
                />
              </div>
              <div class="field">
                <label for="signin-secret-key">Secret key</label>
                <input
                  id="signin-secret-key"
                  name="secret_key"
                  type="password"
                  autocomplete="current-password"
                  spellcheck={false}
                  value={secretKey}
                  onInput={(event) => setSecretKey(event.currentTarget.value)}
                  data-testid="signin-secret-key"
                />
              </div>
            </>
          ) : (
            <>
              <div class="field">
                <label for="signin-password">Admin password</label>
                <input
                  ref={firstField}
                  id="signin-password"
                  name="password"
                  type="password"
                  autocomplete="current-password"
                  value={password}
                  onInput={(event) => setPassword(event.currentTarget.value)}
                  data-testid="signin-password"
                />
                <p class="hint">The value of TROVE_ADMIN_PASSWORD. An admin can open and switch between every project.</p>
              </div>
              <div class="field">
                <label for="signin-admin-pub-key">
                  Project public key <span class="optional">(optional)</span>
                </label>
                <input
                  id="signin-admin-pub-key"
                  name="pub_key"
                  spellcheck={false}
                  value={adminPubKey}
                  onInput={(event) => setAdminPubKey(event.currentTarget.value)}
                  data-testid="signin-admin-pub-key"
                />
                <p class="hint">Leave empty to open the first project.</p>
              </div>
            </>
          )}
          {error && (
            <p class="form-error" role="alert" data-testid="signin-error">
              {error}
            </p>
          )}
          <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="signin-submit">
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        </div>
        <div class="signin-help">
          <p>
            <strong>First time here?</strong> A fresh Trove install creates a project and prints its public and secret key in
            the server log when it first starts. Show them again with <code>npx trove projects list --show-secrets</code>.
          </p>
        </div>
      </main>
    </div>
  );
}
