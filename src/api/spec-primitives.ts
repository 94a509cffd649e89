// Field types shared by the spec schemas.
import { z } from 'zod';
import { DURATION_PATTERN } from '../core/duration.js';

export const durationString = z
  .string({ error: 'must be a duration string such as "30s", "2m" or "1m30s"' })
  .regex(new RegExp(DURATION_PATTERN), 'must be a duration such as "30s", "2m" or "1m30s" (units ms, s, m, h)');
