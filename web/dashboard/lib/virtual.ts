import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';

interface VirtualWindow {
  /** First rendered row. */
  start: number;
  /** One past the last rendered row. */
  end: number;
  /** Space standing in for the rows above and below the rendered ones. */
  padTop: number;
  padBottom: number;
}

/**
 * Which rows of a fixed-row-height list inside the page's scroll are near the viewport. Thousands
 * of files then cost a few dozen DOM nodes, and the page keeps its native scrollbar.
 */
export function useWindowVirtual(container: RefObject<HTMLElement | null>, rowCount: number, rowHeight: number, overscanPx = 800): VirtualWindow {
  const [range, setRange] = useState({ start: 0, end: Math.min(rowCount, 20) });

  useLayoutEffect(() => {
    let frame = 0;
    const measure = () => {
      frame = 0;
      const element = container.current;
      if (!element || rowHeight <= 0) return;
      const top = element.getBoundingClientRect().top;
      const visibleTop = Math.max(0, -top - overscanPx);
      const visibleBottom = Math.max(0, -top + window.innerHeight + overscanPx);
      const start = Math.min(rowCount, Math.floor(visibleTop / rowHeight));
      const end = Math.min(rowCount, Math.ceil(visibleBottom / rowHeight));
      setRange((previous) => (previous.start === start && previous.end === end ? previous : { start, end }));
    };
    const schedule = () => {
      if (frame === 0) frame = window.requestAnimationFrame(measure);
    };
    measure();
    window.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', schedule);
    return () => {
      window.removeEventListener('scroll', schedule);
      window.removeEventListener('resize', schedule);
      if (frame !== 0) window.cancelAnimationFrame(frame);
    };
  }, [container, rowCount, rowHeight, overscanPx]);

  const start = Math.min(range.start, rowCount);
  const end = Math.min(Math.max(range.end, start), rowCount);
  return { start, end, padTop: start * rowHeight, padBottom: (rowCount - end) * rowHeight };
}

/** An element's content width, kept current with a ResizeObserver. */
export function useElementWidth(element: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const target = element.current;
    if (!target) return;
    setWidth(target.clientWidth);
    const observer = new ResizeObserver((entries) => {
      const entry = entries[0];
      if (entry) setWidth(Math.floor(entry.contentRect.width));
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [element]);
  return width;
}
