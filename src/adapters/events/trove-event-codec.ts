import type { TroveEvent } from '../../ports/event-bus.js';

/**
 * Events cross process boundaries as JSON. Anything on the channel that is not a well-formed
 * event (another version's event type, a stray PUBLISH) decodes to null and is ignored.
 */
export function encodeTroveEvent(event: TroveEvent): string {
  return JSON.stringify(event);
}

export function decodeTroveEvent(message: string): TroveEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const candidate = value as Record<string, unknown>;
  switch (candidate.type) {
    case 'file.evicted':
      return typeof candidate.uuid === 'string' ? { type: 'file.evicted', uuid: candidate.uuid } : null;
    case 'project.changed':
      return typeof candidate.projectId === 'string' ? { type: 'project.changed', projectId: candidate.projectId } : null;
    default:
      return null;
  }
}
