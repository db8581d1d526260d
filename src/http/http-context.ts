import type { FaceDetectionService } from '../services/face-detection.service.js';
import type { Config } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { AddonService } from '../services/addon.service.js';
import type { ApiAuthService } from '../services/api-auth.service.js';
import type { DashboardSessionService } from '../services/dashboard-session.service.js';
import type { DeliveryService } from '../services/delivery.service.js';
import type { DirectUploadService } from '../services/direct-upload.service.js';
import type { EagerTransformService } from '../services/eager-transform.service.js';
import type { FileInfoService } from '../services/file-info.service.js';
import type { FileManagementService } from '../services/file-management.service.js';
import type { FileSearchService } from '../services/file-search.service.js';
import type { FromUrlService } from '../services/from-url.service.js';
import type { GroupService } from '../services/group.service.js';
import type { ImageAnalysisService } from '../services/image-analysis.service.js';
import type { MultipartUploadService } from '../services/multipart-upload.service.js';
import type { ShardPlacementService } from '../services/shard-placement.service.js';
import type { ProjectService } from '../services/project.service.js';
import type { ProjectStorageService } from '../services/project-storage.service.js';
import type { RateLimitService } from '../services/rate-limit.service.js';
import type { VideoConversionService } from '../services/video-conversion.service.js';
import type { DocumentConversionService } from '../services/document-conversion.service.js';
import type { VideoStreamingService } from '../services/video-streaming.service.js';
import type { RemoteCopyService } from '../services/remote-copy.service.js';
import type { ReadinessProbe } from '../services/readiness.service.js';
import type { TransformNodeService } from '../services/transform/transform-node.service.js';
import type { TransformService } from '../services/transform/transform.service.js';
import type { GifVideoService } from '../services/transform/gif-video.service.js';
import type { UsageService } from '../services/usage.service.js';
import type { WebhookService } from '../services/webhook.service.js';

/** The services routes call. Routes see nothing else: no store, queue or connection. */
export interface HttpServices {
  // Upload API
  directUpload: DirectUploadService;
  multipart: MultipartUploadService;
  fromUrl: FromUrlService;
  groups: GroupService;
  fileInfo: FileInfoService;
  // REST API and dashboard
  apiAuth: ApiAuthService;
  rateLimits: RateLimitService;
  files: FileManagementService;
  search: FileSearchService;
  webhooks: WebhookService;
  eager: EagerTransformService;
  projects: ProjectService;
  /** The region of a project's shard (`GET /project/`, the dashboard). */
  regions: Pick<ShardPlacementService, 'regionOf'>;
  usage: UsageService;
  dashboardSessions: DashboardSessionService;
  addons: AddonService;
  storages: ProjectStorageService;
  remoteCopy: RemoteCopyService;
  /** `appdata.trove_image_analysis` and `GET /files/?similar_to=`. */
  analysis: ImageAnalysisService;
  videos: VideoConversionService;
  /** `POST /convert/document/` and its status and info. */
  documents: DocumentConversionService;
  // CDN
  /** `/:uuid/hls/`: videos as HLS ladders. */
  streams: VideoStreamingService;
  delivery: DeliveryService;
  transform: TransformService;
  gifVideo: GifVideoService;
  /** `/:uuid/detect_faces/`. */
  faces: FaceDetectionService;
}

/** What every process serves from: `/health`, `/ready`, `/metrics`, and the transform role's endpoint. */
export interface NodeHttpContext {
  config: Config;
  metrics: Metrics;
  /** Answers `/ready`. */
  readiness: ReadinessProbe;
  /** Takes signed transformation jobs (transform role); null without it. */
  transformNode: TransformNodeService | null;
}

/** What the HTTP layer is built from; a transform-only node has no services and builds from a `NodeHttpContext`. */
export interface HttpContext extends NodeHttpContext {
  services: HttpServices;
}
