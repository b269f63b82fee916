import type { BusEvent } from '../ports/event-bus.js';
import type { PatientChange } from './types.js';

/** EventBridge detail-type of patient change events. */
export const PATIENT_CHANGE_DETAIL_TYPE = 'PatientChange';

/**
 * Wraps patient changes as bus events: detail-type `PatientChange`, the envelope as `detail`,
 * and the change's `occurredAt` as the event time.
 *
 * @example
 * await bus.publish(toPatientBusEvents(events));
 */
export function toPatientBusEvents(changes: readonly PatientChange[]): BusEvent<PatientChange>[] {
  return changes.map((change) => ({
    source: change.source,
    detailType: PATIENT_CHANGE_DETAIL_TYPE,
    detail: change,
    time: new Date(change.occurredAt),
  }));
}
