import type { Target } from './common.js';
import { formTarget } from './form.js';
import { rangeTarget } from './range.js';
import { restTarget } from './rest.js';
import { urlTarget } from './url.js';

export const TARGETS: Record<string, Target> = { url: urlTarget, form: formTarget, rest: restTarget, range: rangeTarget };
