import { useEffect, useRef, useState } from 'preact/hooks';
import type { RestFile } from '../../../client/trove-client';
import { thumbnailUrl } from '../lib/cdn';
import { fileKind, typeLabel } from '../lib/format';
import { filePlaceholder } from '../lib/placeholder';
import { PlaceholderImage } from './PlaceholderImage';

/**
 * Pauses before asking again for a thumbnail the CDN refused. Scrolling fast through a big library
 * asks for many new thumbnails at once, more than the project's rate of new transformations (429)
 * or the transformation queue (503) takes; a moment later they go through.
 */
const RETRY_DELAYS_MS = [1500, 4000];

/**
 * A square thumbnail box: the CDN preview for live images, otherwise a type label (PDF, MP4…).
 * The box has a fixed aspect so the grid never reflows as images arrive. Until the preview has
 * loaded, the image's ThumbHash (or its dominant colour) holds its place when the file was listed
 * with its analysis.
 */
export function FileThumb(props: { file: Pick<RestFile, 'uuid' | 'mime_type' | 'is_image' | 'datetime_removed' | 'original_filename' | 'appdata'>; cdnBase: string }) {
  const { file } = props;
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const retry = useRef(0);
  useEffect(() => () => window.clearTimeout(retry.current), []);
  const kind = fileKind(file.mime_type, file.is_image);
  const showImage = file.is_image && file.datetime_removed === null && !failed;
  const onError = () => {
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay === undefined) {
      setFailed(true);
      return;
    }
    // Spread out, so the thumbnails refused together do not all come back at the same instant.
    retry.current = window.setTimeout(() => setAttempt(attempt + 1), delay + Math.random() * 500);
  };
  return (
    <div class={`thumb thumb-${kind}`}>
      {showImage ? (
        <>
          {!loaded && <PlaceholderImage placeholder={filePlaceholder(file)} class="thumb-placeholder" />}
          {/* A new element per attempt: the browser requests the image again rather than keep the failure. */}
          <img key={attempt} src={thumbnailUrl(props.cdnBase, file.uuid)} alt="" loading="lazy" decoding="async" onLoad={() => setLoaded(true)} onError={onError} />
        </>
      ) : (
        <span class="thumb-type" aria-hidden="true">
          <span class="thumb-doc">
            <span class="thumb-ext">{typeLabel(file.mime_type, file.original_filename)}</span>
          </span>
        </span>
      )}
    </div>
  );
}

export function FileStatus(props: { file: RestFile }) {
  const { file } = props;
  if (file.datetime_removed) return <span class="badge badge-removed">Removed</span>;
  if (file.datetime_stored) return <span class="badge badge-stored">Stored</span>;
  return <span class="badge badge-temp">Temporary</span>;
}
