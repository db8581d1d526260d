import { useState } from 'preact/hooks';
import type { FileInfo } from '../api/types';
import { thumbnailUrl } from '../lib/cdn';
import { fileKind, typeLabel } from '../lib/format';

/**
 * A square thumbnail box: the CDN preview for live images, otherwise a type label (PDF, MP4…).
 * The box has a fixed aspect so the grid never reflows as images arrive.
 */
export function FileThumb(props: { file: FileInfo; cdnBase: string }) {
  const { file } = props;
  const [failed, setFailed] = useState(false);
  const kind = fileKind(file.mime_type, file.is_image);
  const showImage = file.is_image && file.datetime_removed === null && !failed;
  return (
    <div class={`thumb thumb-${kind}`}>
      {showImage ? (
        <img src={thumbnailUrl(props.cdnBase, file.uuid)} alt="" loading="lazy" decoding="async" onError={() => setFailed(true)} />
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

export function FileStatus(props: { file: FileInfo }) {
  const { file } = props;
  if (file.datetime_removed) return <span class="badge badge-removed">Removed</span>;
  if (file.datetime_stored) return <span class="badge badge-stored">Stored</span>;
  return <span class="badge badge-temp">Temporary</span>;
}
