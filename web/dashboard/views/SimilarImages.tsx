import { useEffect, useRef, useState } from 'preact/hooks';
import type { RestFile } from '../../../client/trove-client';
import { errorMessage, failureStatus, isAbort } from '../api/errors';
import { FileThumb } from '../components/FileThumb';
import { Link } from '../components/Link';
import { ErrorBox, Spinner } from '../components/States';
import { useApp } from '../context';
import { BASE } from '../router';

/** How many look-alikes the panel shows: nearest first, the rest are rarely what someone wants. */
const SHOWN = 24;
/**
 * While the image waits for its analysis (a background job after upload, usually seconds), the panel
 * asks again at this pace, so it fills in without a reload.
 */
const PENDING_RETRY_MS = 2000;
/**
 * Asks stop after this many pending answers (a minute): an image over the server's analysis limits,
 * or one uploaded before analysis existed and not backfilled, stays without one for good.
 */
const PENDING_RETRIES = 30;

type Similar =
  | { state: 'loading' }
  | { state: 'pending'; waiting: boolean }
  | { state: 'error'; message: string }
  | { state: 'done'; files: RestFile[]; total: number };

/**
 * "Similar images": the project's images whose perceptual hash is near this one's
 * (`GET /files/?similar_to=`, the same REST call any client makes with the session).
 */
export function SimilarImages(props: { uuid: string; cdnBase: string }) {
  const { api } = useApp();
  const [similar, setSimilar] = useState<Similar>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const pendingAnswers = useRef(0);

  useEffect(() => {
    const controller = new AbortController();
    let retry = 0;
    api.trove.listFiles({ query: { similar_to: props.uuid, limit: String(SHOWN), include: 'appdata' } }, { signal: controller.signal }).then(
      (page) => {
        if (!controller.signal.aborted) setSimilar({ state: 'done', files: page.results, total: page.total });
      },
      (failure: unknown) => {
        if (controller.signal.aborted || isAbort(failure)) return;
        // 409 IMAGE_ANALYSIS_PENDING: the only conflict this call has.
        if (failureStatus(failure) === 409) {
          pendingAnswers.current += 1;
          const waiting = pendingAnswers.current < PENDING_RETRIES;
          setSimilar({ state: 'pending', waiting });
          if (waiting) retry = window.setTimeout(() => setGeneration((n) => n + 1), PENDING_RETRY_MS);
        } else {
          setSimilar({ state: 'error', message: errorMessage(failure) });
        }
      },
    );
    return () => {
      controller.abort();
      window.clearTimeout(retry);
    };
  }, [api, props.uuid, generation]);

  const tryAgain = () => {
    pendingAnswers.current = 0;
    setSimilar({ state: 'loading' });
    setGeneration((n) => n + 1);
  };

  return (
    <section class="panel similar" aria-labelledby="similar-title" aria-busy={similar.state === 'loading'} data-testid="similar-images" data-state={similar.state}>
      <h2 id="similar-title">Similar images</h2>
      {similar.state === 'loading' ? (
        <Spinner label="Looking for similar images…" />
      ) : similar.state === 'pending' ? (
        similar.waiting ? (
          <p class="subtle" role="status" data-testid="similar-pending">
            Image analysis in progress: similar images show up here once it is done.
          </p>
        ) : (
          <div class="subtle" data-testid="similar-pending">
            <p>
              This image has no analysis yet. Images over the server's size limits are not analysed, and those uploaded before analysis existed get one from{' '}
              <code>trove analysis backfill</code>.
            </p>
            <button type="button" class="btn btn-small" onClick={tryAgain}>
              Check again
            </button>
          </div>
        )
      ) : similar.state === 'error' ? (
        <ErrorBox message={similar.message} onRetry={tryAgain} />
      ) : similar.files.length === 0 ? (
        <p class="subtle" data-testid="similar-none">
          No similar images in this project.
        </p>
      ) : (
        <>
          <ul class="similar-grid">
            {similar.files.map((file) => (
              <li key={file.uuid} data-testid="similar-file" data-uuid={file.uuid}>
                <Link href={`${BASE}/files/${file.uuid}`} class="similar-link" title={file.original_filename}>
                  <FileThumb file={file} cdnBase={props.cdnBase} />
                  <span class="similar-name">{file.original_filename}</span>
                </Link>
              </li>
            ))}
          </ul>
          {similar.total > similar.files.length && (
            <p class="subtle" data-testid="similar-more">
              The {similar.files.length} nearest of {similar.total} similar images.
            </p>
          )}
        </>
      )}
    </section>
  );
}
