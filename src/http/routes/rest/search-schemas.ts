/**
 * `POST /files/search/`: Uploadcare's file search request and answer as TypeBox schemas. The schemas
 * check shapes and types (and describe them in the OpenAPI document); the rules between fields,
 * lengths and ranges are the service's (src/domain/file-search.ts), whose messages these share.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { SEARCH_LIMITS, SEARCH_MESSAGES, SEARCH_SORT_KEYS } from '../../../domain/file-search.js';
import { RestFileSchema } from '../../../domain/rest-file.js';
import { rejects } from '../../schema-errors.js';
import { ErrorDetailSchema, restErrorResponses } from './schemas.js';

const text = (description: string) => Type.String({ description, ...rejects(SEARCH_MESSAGES.string) });
const flag = (description: string) => Type.Boolean({ description, ...rejects(SEARCH_MESSAGES.boolean) });
const strings = (description: string, message: string) => Type.Array(Type.String(), { description, ...rejects(message) });

/** `{gt, gte, lt, lte}`: at least one. */
const range = (bound: TSchema, description: string) =>
  Type.Object(
    { gt: Type.Optional(bound), gte: Type.Optional(bound), lt: Type.Optional(bound), lte: Type.Optional(bound) },
    { additionalProperties: false, description, ...rejects({ type: SEARCH_MESSAGES.range, additionalProperties: SEARCH_MESSAGES.unknownField }) },
  );

const exactValues = (description: string) => strings(description, SEARCH_MESSAGES.exactValues);
const tagList = (description: string) => strings(description, SEARCH_MESSAGES.tagList);

export const FileSearchBodySchema = Type.Object(
  {
    query: Type.Optional(
      text(
        `Full-text across the original filename, metadata values and detected MIME type (and the file's uuid when the query is one), at least ${SEARCH_LIMITS.minTextLength} characters: every word of ${SEARCH_LIMITS.minTextLength} or more characters must occur in some field, anywhere inside a word.`,
      ),
    ),
    phrase: Type.Optional(
      Type.Object(
        {
          original_filename: Type.Optional(text('Words in this order in the original filename')),
          detected_mime_type: Type.Optional(text('Words in this order in the detected MIME type')),
          metadata: Type.Optional(text('Words in this order in one metadata value')),
        },
        { additionalProperties: false, description: 'Full-text per field; each at least 4 characters', ...rejects({ type: SEARCH_MESSAGES.phrase, additionalProperties: SEARCH_MESSAGES.unknownField }) },
      ),
    ),
    exact: Type.Optional(
      Type.Object(
        {
          uuid: Type.Optional(exactValues('Any of these uuids')),
          detected_mime_type: Type.Optional(exactValues('Any of these MIME types')),
          original_filename: Type.Optional(exactValues('Any of these original filenames, exactly')),
        },
        {
          patternProperties: { '^metadata\\[[A-Za-z0-9_.:-]{1,64}\\]$': exactValues('`metadata[<key>]`: the value of this key is any of these') },
          additionalProperties: false,
          description: 'Exact values per field (any of a field’s values; all fields)',
          ...rejects({ type: SEARCH_MESSAGES.exact, additionalProperties: SEARCH_MESSAGES.exactKey }),
        },
      ),
    ),
    datetime_uploaded: Type.Optional(range(Type.String({ description: 'ISO 8601', ...rejects(SEARCH_MESSAGES.date) }), 'Upload time range')),
    size: Type.Optional(range(Type.Integer({ description: 'Bytes', ...rejects(SEARCH_MESSAGES.integer) }), 'Size range in bytes')),
    is_image: Type.Optional(flag('true: images only; false: no images')),
    fuzziness: Type.Optional(flag('Typo tolerance for `query` and `phrase` (default false)')),
    tags: Type.Optional(
      Type.Object(
        {
          any: Type.Optional(tagList('At least one of these tags')),
          all: Type.Optional(tagList('All of these tags')),
          none: Type.Optional(tagList('None of these tags')),
        },
        { additionalProperties: false, description: 'Tag filters (tags are lowercased and trimmed)', ...rejects({ type: SEARCH_MESSAGES.tags, additionalProperties: SEARCH_MESSAGES.unknownField }) },
      ),
    ),
    sort: Type.Optional(
      Type.Array(Type.Enum([...SEARCH_SORT_KEYS], rejects(`{value} is not a valid choice; the choices are ${SEARCH_SORT_KEYS.join(', ')}.`)), {
        description: `1–${SEARCH_LIMITS.maxSortKeys} keys, applied in order; \`-\` in front for descending. Default: \`-score\` with a text condition, else \`-datetime_uploaded\``,
        ...rejects(SEARCH_MESSAGES.sort),
      }),
    ),
  },
  {
    additionalProperties: false,
    title: 'FileSearchRequest',
    description: `At least one condition: ${['query', 'phrase', 'exact', 'datetime_uploaded', 'size', 'is_image', 'tags'].join(', ')}. Conditions combine with AND.`,
    ...rejects({ type: SEARCH_MESSAGES.notObject, additionalProperties: SEARCH_MESSAGES.unknownField }),
  },
);

export const FileSearchQuerySchema = Type.Object({
  limit: Type.Optional(Type.String({ description: `1–${SEARCH_LIMITS.maxLimit}, default ${SEARCH_LIMITS.defaultLimit}` })),
  offset: Type.Optional(Type.String({ description: `0 or more; offset + limit < ${SEARCH_LIMITS.window}` })),
  include: Type.Optional(Type.String({ description: '`appdata` adds `appdata` to each file' })),
  stored: Type.Optional(Type.String({ description: 'Trove: `true` stored files only, `false` temporary ones only' })),
  mime_type: Type.Optional(Type.String({ description: `Trove: up to ${SEARCH_LIMITS.maxMimeTypes} comma-separated MIME types or \`type/*\` prefixes` })),
});

const SearchHighlightSchema = Type.Object(
  {
    original_filename: Type.Optional(Type.Array(Type.String())),
    detected_mime_type: Type.Optional(Type.Array(Type.String())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Per metadata key whose value matched' })),
  },
  { title: 'FileSearchHighlight', description: 'Matched words wrapped in `<em>…</em>`, the rest HTML-escaped, per field that matched a full-text condition' },
);

const FileSearchResultSchema = Type.Object({ ...RestFileSchema.properties, highlight: Type.Optional(SearchHighlightSchema) }, { title: 'FileSearchResult' });

export const FileSearchPageSchema = Type.Object(
  {
    next: Type.Union([Type.String(), Type.Null()], { description: 'URL of the next page (its `limit` and `offset`); null on the last one' }),
    previous: Type.Union([Type.String(), Type.Null()], { description: 'URL of the previous page; null on the first one' }),
    total: Type.Integer({ description: 'Files matching in all' }),
    per_page: Type.Integer(),
    results: Type.Array(FileSearchResultSchema),
  },
  { title: 'FileSearchPage' },
);
export type FileSearchPage = Static<typeof FileSearchPageSchema>;
export type FileSearchResult = Static<typeof FileSearchResultSchema>;

const FieldErrorsSchema = Type.Record(Type.String(), Type.Unknown(), {
  title: 'FieldErrors',
  description: 'Refusals keyed by field: a field maps to its messages or to its own fields; `non_field_errors` concerns the level it is on',
});

export const searchErrorResponses = { ...restErrorResponses, 400: Type.Union([FieldErrorsSchema, ErrorDetailSchema]), 413: ErrorDetailSchema };
