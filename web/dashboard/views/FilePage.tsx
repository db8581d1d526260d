import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { RestFile } from '../../../client/trove-client';
import { errorMessage } from '../api/errors';
import { CopyButton } from '../components/CopyButton';
import { FileStatus } from '../components/FileThumb';
import { Icon } from '../components/Icon';
import { Link } from '../components/Link';
import { MetadataEditor } from '../components/MetadataEditor';
import { EmptyState, ErrorBox, Spinner } from '../components/States';
import { PlaceholderImage } from '../components/PlaceholderImage';
import { TagEditor } from '../components/TagEditor';
import { useApp } from '../context';
import { cdnUrl, previewUrl } from '../lib/cdn';
import { describeAudioStream, describeVideoStream, formatBitrate, formatDuration, imageDimensions, videoFacts } from '../lib/content-info';
import { fileKind, formatBytes, formatCount, formatDateTime, typeLabel } from '../lib/format';
import { runBusy, useDocumentTitle, useResource } from '../lib/hooks';
import { filePlaceholder } from '../lib/placeholder';
import { BASE, navigate } from '../router';
import { Playground } from './Playground';
import { SimilarImages } from './SimilarImages';
import { VideoConversions } from './VideoConversions';

export function FilePage(props: { uuid: string }) {
  const { api } = useApp();
  const resource = useResource((signal) => api.trove.getFile({ path: { uuid: props.uuid }, query: { include: 'appdata' } }, { signal }), [api, props.uuid]);
  useDocumentTitle(resource.data?.original_filename ?? 'File');

  return (
    <section class="file-page" aria-labelledby="file-title">
      <p class="breadcrumb">
        <Link href={`${BASE}/files`} data-testid="back-to-library">
          <Icon name="back" size={16} />
          <span>Library</span>
        </Link>
      </p>
      {resource.loading && !resource.data ? (
        <Spinner label="Loading file…" />
      ) : resource.error && !resource.data ? (
        resource.errorStatus === 404 ? (
          <EmptyState title="File not found" testId="file-not-found">
            <p>
              No file <code>{props.uuid}</code> in this project. <Link href={`${BASE}/files`}>Back to the library</Link>.
            </p>
          </EmptyState>
        ) : (
          <ErrorBox message={resource.error} onRetry={resource.reload} />
        )
      ) : resource.data ? (
        <FileDetails file={resource.data} onChange={resource.setData} />
      ) : null}
    </section>
  );
}

function FileDetails(props: { file: RestFile; onChange: (file: RestFile) => void }) {
  const { file, onChange } = props;
  const { api, boot, toast, confirm, libraryChanged } = useApp();
  const [busy, setBusy] = useState(false);
  const removed = file.datetime_removed !== null;
  const kind = fileKind(file.mime_type, file.is_image);
  const cdn = cdnUrl(boot.cdnBase, file.uuid);
  const image = imageDimensions(file);
  const video = videoFacts(file);

  const store = () =>
    runBusy(setBusy, (message) => toast.error(message), async () => {
      onChange(await api.trove.storeFile({ path: { uuid: file.uuid } }));
      libraryChanged();
      toast.success('File stored.');
    });

  const remove = async () => {
    const ok = await confirm({
      title: 'Delete this file?',
      message: (
        <p>
          <strong>{file.original_filename}</strong> is removed from storage and the CDN. This cannot be undone.
        </p>
      ),
      confirmLabel: 'Delete file',
      danger: true,
    });
    if (!ok) return;
    setBusy(true);
    try {
      await api.trove.deleteFile({ path: { uuid: file.uuid } });
      libraryChanged();
      toast.success(`Deleted ${file.original_filename}.`);
      navigate(`${BASE}/files`);
    } catch (failure) {
      toast.error(errorMessage(failure));
      setBusy(false);
    }
  };

  return (
    <>
      <div class="page-head">
        <div class="title-block">
          <h1 id="file-title" class="file-title" data-testid="file-title">
            {file.original_filename}
          </h1>
          <FileStatus file={file} />
        </div>
        <div class="actions">
          {!removed && !file.datetime_stored && (
            <button type="button" class="btn btn-primary" disabled={busy} onClick={store} data-testid="file-store">
              Store
            </button>
          )}
          {!removed && file.original_file_url && (
            <a class="btn" href={file.original_file_url} target="_blank" rel="noopener" data-testid="file-open">
              Open original
            </a>
          )}
          {!removed && (
            <button type="button" class="btn btn-danger" disabled={busy} onClick={remove} data-testid="file-delete">
              Delete
            </button>
          )}
        </div>
      </div>

      {!removed && !file.datetime_stored && (
        <p class="notice" data-testid="temporary-notice">
          This file is temporary: it is deleted automatically unless you store it.
        </p>
      )}

      <div class="file-layout">
        <div class="file-preview panel" data-testid="file-preview">
          <FilePreview key={file.uuid} file={file} kind={kind} cdnBase={boot.cdnBase} />
        </div>
        <div class="file-facts panel">
          <h2>Details</h2>
          <dl class="facts" data-testid="file-facts">
            <Fact label="Filename" testId="fact-filename">
              {file.original_filename}
            </Fact>
            <Fact label="Size" testId="fact-size">
              {formatBytes(file.size)} <span class="subtle">({formatCount(file.size)} bytes)</span>
            </Fact>
            <Fact label="MIME type" testId="fact-mime">
              {file.mime_type}
            </Fact>
            {image && (
              <Fact label="Dimensions" testId="fact-dimensions">
                {image.width} × {image.height} px{image.format !== null ? ` · ${image.format}` : ''}
              </Fact>
            )}
            {video && <VideoFacts video={video} />}
            <Fact label="Uploaded" testId="fact-uploaded">
              <time dateTime={file.datetime_uploaded}>{formatDateTime(file.datetime_uploaded)}</time>
            </Fact>
            <Fact label="Storage" testId="fact-storage">
              {removed ? `Removed ${formatDateTime(file.datetime_removed)}` : file.datetime_stored ? `Stored ${formatDateTime(file.datetime_stored)}` : 'Temporary'}
            </Fact>
            {(file.is_infected !== null || !file.is_ready) && (
              <Fact label="Virus scan" testId="fact-virus-scan">
                {file.is_infected === true ? (
                  <strong class="danger">Infected: not delivered</strong>
                ) : file.is_infected === false ? (
                  'Clean'
                ) : (
                  'Waiting for its scan: not delivered yet'
                )}
              </Fact>
            )}
            <Fact label="UUID" testId="fact-uuid">
              <code>{file.uuid}</code>
            </Fact>
          </dl>
          {!removed && (
            <div class="field">
              <label for="cdn-url">CDN URL</label>
              <div class="url-row">
                <input id="cdn-url" class="mono" readOnly value={cdn} onFocus={(event) => event.currentTarget.select()} data-testid="cdn-url" />
                <CopyButton text={cdn} testId="copy-cdn-url" />
              </div>
            </div>
          )}
        </div>
      </div>

      <div class="file-columns">
        <section class="panel" aria-labelledby="tags-title">
          <h2 id="tags-title">Tags</h2>
          <TagEditor uuid={file.uuid} tags={file.tags} readOnly={removed} onSaved={(tags) => onChange({ ...file, tags })} />
        </section>
        <section class="panel" aria-labelledby="metadata-title">
          <h2 id="metadata-title">Metadata</h2>
          <MetadataEditor uuid={file.uuid} metadata={file.metadata} readOnly={removed} onChange={(metadata) => onChange({ ...file, metadata })} />
        </section>
      </div>

      {kind === 'video' && !removed && <VideoConversions key={file.uuid} uuid={file.uuid} />}

      {kind === 'image' && !removed && <SimilarImages key={file.uuid} uuid={file.uuid} cdnBase={boot.cdnBase} />}

      {kind === 'image' && !removed && <Playground uuid={file.uuid} cdnBase={boot.cdnBase} maxOutputDimension={boot.maxOutputDimension} />}
    </>
  );
}

/** What the probe read from a video: the container's facts, then one line per stream. */
function VideoFacts(props: { video: NonNullable<ReturnType<typeof videoFacts>> }) {
  const { video } = props;
  const bitrate = formatBitrate(video.bitrate);
  const numbered = (kind: string, index: number, count: number) => (count > 1 ? `${kind} stream ${index + 1}` : `${kind} stream`);
  return (
    <>
      <Fact label="Duration" testId="fact-duration">
        {formatDuration(video.duration)}
      </Fact>
      <Fact label="Container" testId="fact-container">
        {video.format}
      </Fact>
      {bitrate && (
        <Fact label="Bitrate" testId="fact-bitrate">
          {bitrate}
        </Fact>
      )}
      {video.video.map((stream, index) => (
        <Fact key={`v${index}`} label={numbered('Video', index, video.video.length)} testId="fact-video-stream">
          {describeVideoStream(stream)}
        </Fact>
      ))}
      {video.audio.map((stream, index) => (
        <Fact key={`a${index}`} label={numbered('Audio', index, video.audio.length)} testId="fact-audio-stream">
          {describeAudioStream(stream)}
        </Fact>
      ))}
    </>
  );
}

function Fact(props: { label: string; testId: string; children: ComponentChildren }) {
  return (
    <div class="fact" data-testid={props.testId}>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

/** The image's size as the CDN shows it: EXIF orientations 5 to 8 turn it a quarter, swapping the sides. */
function uprightSize(file: RestFile): { width: number; height: number } | null {
  const size = imageDimensions(file);
  if (!size) return null;
  const orientation = file.content_info?.image?.orientation ?? 1;
  return orientation >= 5 ? { width: size.height, height: size.width } : size;
}

/** The longest side of the file page's preview, in CSS pixels (the CDN's `preview` bound). */
const PREVIEW_SIZE = 1200;

/** The width of the preview the CDN sends: `preview` shrinks to fit the bound, never enlarges. */
function previewWidth(size: { width: number; height: number }): number {
  return Math.round(size.width * Math.min(1, PREVIEW_SIZE / Math.max(size.width, size.height)));
}

function FilePreview(props: { file: RestFile; kind: ReturnType<typeof fileKind>; cdnBase: string }) {
  const { file, kind } = props;
  const [imageFailed, setImageFailed] = useState(false);
  const [imageLoaded, setImageLoaded] = useState(false);
  if (file.datetime_removed !== null) {
    return <p class="subtle preview-none">This file was removed; there is nothing to preview.</p>;
  }
  const original = file.original_file_url ?? cdnUrl(props.cdnBase, file.uuid);
  if (kind === 'image' && !imageFailed) {
    const size = uprightSize(file);
    return (
      <div class="file-preview-frame">
        {!imageLoaded && (
          <PlaceholderImage
            placeholder={filePlaceholder(file)}
            class="file-preview-placeholder"
            // The preview's own box is empty until it loads: the placeholder takes the size it will have.
            style={size ? { width: `${previewWidth(size)}px`, aspectRatio: `${size.width} / ${size.height}` } : undefined}
          />
        )}
        <img
          class="file-preview-image"
          src={previewUrl(props.cdnBase, file.uuid, PREVIEW_SIZE)}
          alt={file.original_filename}
          onLoad={() => setImageLoaded(true)}
          onError={() => setImageFailed(true)}
          data-testid="file-preview-image"
        />
      </div>
    );
  }
  if (kind === 'video') {
    return <video class="file-preview-media" src={original} controls preload="metadata" data-testid="file-preview-video" />;
  }
  if (kind === 'audio') {
    return <audio class="file-preview-audio" src={original} controls preload="metadata" data-testid="file-preview-audio" />;
  }
  return (
    <div class="preview-none">
      <span class="thumb-doc thumb-doc-large" aria-hidden="true">
        <span class="thumb-ext">{typeLabel(file.mime_type, file.original_filename)}</span>
      </span>
      <a class="btn" href={original} download={file.original_filename} data-testid="file-download">
        Download {file.original_filename}
      </a>
    </div>
  );
}
