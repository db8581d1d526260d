/** Where the dashboard's browser code finds Trove's APIs, and the limits it shows; embedded in its page as JSON. */
interface DashboardBootConfig {
  /** REST API base, without trailing slash (empty string: the root of this origin). */
  restBase: string;
  uploadBase: string;
  cdnBase: string;
  /** Where the upload widget module is served. */
  widgetUrl: string;
  /** TROVE_MAX_OUTPUT_DIMENSION: the largest side a transformation URL may ask for. */
  maxOutputDimension: number;
}

const escapeJsonForHtml = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/** The single page every dashboard route answers with; the script renders the view for the path. */
export function dashboardShell(boot: DashboardBootConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Trove dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script type="application/json" id="trove-boot">${escapeJsonForHtml(boot)}</script>
<script type="module" src="/dashboard/assets/dashboard.js"></script>
</head>
<body>
<div id="app"><noscript>The Trove dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}
