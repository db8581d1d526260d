/** The few line icons the dashboard uses (24×24, stroked with currentColor). */
const PATHS = {
  library: 'M3 5h7v7H3zM14 5h7v7h-7zM3 15h7v5H3zM14 15h7v5h-7z',
  upload: 'M12 16V4M7 9l5-5 5 5M4 20h16',
  webhooks: 'M10 14a4 4 0 1 1 4-6M14 10a4 4 0 1 1-4 6M8 12l-3 5M16 12l3 5',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-1-3-2 .5-1.5-1.5.5-2-3-1-1 2h-2l-1-2-3 1 .5 2L5 7.5 3 7 2 10l2 2-2 1 1 3 2-.5L6.5 17 6 19l3 1 1-2h2l1 2 3-1-.5-2 1.5-1.5 2 .5 1-3z',
  usage: 'M4 20V10M10 20V4M16 20v-7M22 20H2',
  grid: 'M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h6v6h-6z',
  list: 'M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01',
  file: 'M14 3H6v18h12V7zM14 3v4h4',
  back: 'M15 18l-6-6 6-6',
  signout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h11',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon(props: { name: IconName; size?: number }) {
  const size = props.size ?? 18;
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
      <path d={PATHS[props.name]} />
    </svg>
  );
}
