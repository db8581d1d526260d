import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as webhooks from './0002-webhooks.js';
import * as jobs from './0003-jobs.js';
import * as eventOutbox from './0004-event-outbox.js';
import * as dashboard from './0005-dashboard.js';
import * as search from './0006-search.js';
import * as appdataAddons from './0007-appdata-addons.js';
import * as projectStorages from './0008-project-storages.js';
import * as videoConversions from './0009-video-conversions.js';
import * as jobLanes from './0010-job-lanes.js';
import * as videoConversionLists from './0011-video-conversion-lists.js';
import * as imageAnalysis from './0012-image-analysis.js';
import * as faceDetections from './0013-face-detections.js';
import * as documentConversions from './0014-document-conversions.js';
import * as shards from './0015-shards.js';
import * as configChanges from './0016-config-changes.js';
import * as shardRegions from './0017-shard-regions.js';
import * as configCopies from './0018-config-copies.js';

/** Migrations are imported statically so they ship inside the build and run the same from src/ and dist/. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-webhooks': webhooks,
  '0003-jobs': jobs,
  '0004-event-outbox': eventOutbox,
  '0005-dashboard': dashboard,
  '0006-search': search,
  '0007-appdata-addons': appdataAddons,
  '0008-project-storages': projectStorages,
  '0009-video-conversions': videoConversions,
  '0010-job-lanes': jobLanes,
  '0011-video-conversion-lists': videoConversionLists,
  '0012-image-analysis': imageAnalysis,
  '0013-face-detections': faceDetections,
  '0014-document-conversions': documentConversions,
  '0015-shards': shards,
  '0016-config-changes': configChanges,
  '0017-shard-regions': shardRegions,
  '0018-config-copies': configCopies,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
