/** What one pass of a region's configuration syncer did. */
export interface ConfigSyncResult {
  /** The changes this pass applied for the first time (a change met again behind a hole is left out). */
  changes: Array<{ projectId: string | null; createdAt: string }>;
  /** The projects whose configuration the copy now holds as the main database does. */
  projects: string[];
  /** When the oldest change not yet applied was made; null when every change is applied. */
  pendingSince: string | null;
  /** When the copy last held every change there was; null when it never has. */
  caughtUpAt: string | null;
}

/** Keeps a region's copy of the configuration current from the main database's change log. */
export interface ConfigReplicator {
  /** One bounded pass: a batch from the front of the log and the newest changes past it. */
  syncOnce(now: Date): Promise<ConfigSyncResult>;
}

/** The main database's log of configuration changes. */
export interface ConfigChangeLog {
  /** Deletes changes made before `before` (ISO time); returns how many went. */
  pruneBefore(before: string): Promise<number>;
}

/** How far the regions' copies of the configuration got, as they report it to the main database. */
export interface ConfigCopies {
  /** The number of the newest change logged for a project; null when none is (any more). */
  lastChangeOf(projectId: string): Promise<number | null>;
  /** The copies that reported since `activeSince` (ISO time) and have not applied change `seq` yet. */
  behind(seq: number, activeSince: string): Promise<Array<{ region: string; lastSeq: number }>>;
}
