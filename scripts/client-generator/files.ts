import { fileURLToPath } from 'node:url';

/** Where the committed document and client live, and the command that writes them. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OPENAPI_FILE = 'client/openapi.json';
export const CLIENT_FILE = 'client/trove-client.ts';
export const GENERATE_COMMAND = 'npm run client:generate';
