import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { DashboardSession } from '../../client/trove-client';
import type { ApiClient } from './api/client';
import type { BootConfig } from './boot';
import type { Confirm } from './components/Dialog';
import type { Toaster } from './components/Toasts';

/** What every signed-in view needs; provided once by the app. */
export interface AppServices {
  api: ApiClient;
  boot: BootConfig;
  session: DashboardSession;
  toast: Toaster;
  confirm: Confirm;
  /** Ends the session on the server and shows the sign-in view. */
  signOut(): void;
  /** The session as the server now describes it (after a project switch, a key revocation…). */
  refreshSession(): Promise<void>;
  /** Bumped whenever files change elsewhere (an upload): the library reloads on it. */
  libraryVersion: number;
  libraryChanged(): void;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('useApp() outside the signed-in app');
  return services;
}
