import type { ComponentChildren } from 'preact';
import { onLinkClick } from '../router';

interface LinkProps {
  href: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
  'aria-label'?: string;
  'aria-current'?: 'page' | undefined;
  'data-testid'?: string;
}

/** An in-app link: a real <a href> (new tab, copy link work), navigated in place on a plain click. */
export function Link(props: LinkProps) {
  const { href, children, ...rest } = props;
  return (
    <a {...rest} href={href} onClick={(event) => onLinkClick(event, href)}>
      {children}
    </a>
  );
}
