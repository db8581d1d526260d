import type { CSSProperties } from 'preact';
import type { Placeholder } from '../lib/placeholder';

/**
 * The stand-in drawn under an image that is still loading: the ThumbHash picture when there is one
 * (fitted like the image, so its shape matches), else a block of the dominant colour. Nothing when
 * the image has no analysis yet.
 */
export function PlaceholderImage(props: { placeholder: Placeholder | null; class: string; style?: CSSProperties }) {
  const { placeholder } = props;
  if (!placeholder) return null;
  if (placeholder.src !== null) {
    return <img class={props.class} src={placeholder.src} alt="" aria-hidden="true" style={props.style} data-testid="placeholder" data-placeholder="thumbhash" />;
  }
  return <span class={props.class} aria-hidden="true" style={{ ...props.style, backgroundColor: placeholder.color ?? undefined }} data-testid="placeholder" data-placeholder="color" />;
}
