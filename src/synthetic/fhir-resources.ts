import { CODE_SYSTEMS, CONDITIONS, ENCOUNTER_KINDS, LABS, VITAL_SIGNS, type QuantityCode } from './catalog.js';
import { organizationReference, practitionerReference } from './directory.js';
import type { EncounterPlan, PatientPlan } from './patient-plan.js';
import type { FhirResource } from './types.js';

/**
 * Turns a resource's `Type/id` into the reference other resources use: a `urn:uuid:` inside a
 * transaction bundle, the literal `Type/id` in NDJSON.
 */
export type ReferenceResolver = (resourceType: string, id: string) => string;

/** Literal `Type/id` references, as in a bulk export. */
export const literalReferences: ReferenceResolver = (resourceType, id) => `${resourceType}/${id}`;

/** FHIR `dateTime` in UTC without milliseconds. */
export const fhirDateTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** FHIR `date` (`YYYY-MM-DD`). */
export const fhirDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Deterministic resource ids, documented so that downstream tests can predict them. */
export const resourceIds = {
  encounter: (patient: string, n: number): string => `enc-${patient}-${n}`,
  observation: (patient: string, n: number): string => `obs-${patient}-${n}`,
  condition: (patient: string, n: number): string => `cond-${patient}-${n}`,
  medicationRequest: (patient: string, n: number): string => `med-${patient}-${n}`,
};

const category = (code: 'vital-signs' | 'laboratory'): unknown[] => [
  {
    coding: [
      {
        system: CODE_SYSTEMS.observationCategory,
        code,
        display: code === 'vital-signs' ? 'Vital Signs' : 'Laboratory',
      },
    ],
  },
];

const loincCode = (code: QuantityCode): unknown => ({
  coding: [{ system: CODE_SYSTEMS.loinc, code: code.loinc, display: code.display }],
  text: code.display,
});

const quantity = (value: number, code: QuantityCode): unknown => ({
  value,
  unit: code.unit,
  system: CODE_SYSTEMS.ucum,
  code: code.unit,
});

/**
 * Renders a patient plan as FHIR R4 resources (Patient, Encounters with their Observations,
 * Conditions, MedicationRequests), each with its deterministic id, in a stable order.
 *
 * @example
 * const resources = renderPatientResources(plan, literalReferences);
 */
export function renderPatientResources(plan: PatientPlan, reference: ReferenceResolver): FhirResource[] {
  const patientRef = { reference: reference('Patient', plan.id) };
  const resources: FhirResource[] = [
    {
      resourceType: 'Patient',
      id: plan.id,
      identifier: [{ use: 'usual', system: CODE_SYSTEMS.patientId, value: plan.id }],
      active: true,
      name: [{ use: 'official', family: plan.family, given: plan.middle ? [plan.given, plan.middle] : [plan.given] }],
      telecom: [
        { system: 'phone', value: plan.phone, use: 'home' },
        { system: 'email', value: plan.email, use: 'home' },
      ],
      gender: plan.sex,
      birthDate: fhirDate(plan.birth),
      address: [
        {
          use: 'home',
          type: 'physical',
          line: plan.address.line2 ? [plan.address.line1, plan.address.line2] : [plan.address.line1],
          city: plan.address.city,
          state: plan.address.state,
          postalCode: plan.address.postalCode,
          country: 'US',
        },
      ],
    },
  ];

  let observationN = 0;
  const observation = (
    encounter: EncounterPlan,
    kind: 'vital-signs' | 'laboratory',
    at: number,
    body: Record<string, unknown>,
  ): FhirResource => ({
    resourceType: 'Observation',
    id: resourceIds.observation(plan.id, ++observationN),
    status: 'final',
    category: category(kind),
    ...body,
    subject: patientRef,
    encounter: { reference: reference('Encounter', resourceIds.encounter(plan.id, encounter.n)) },
    effectiveDateTime: fhirDateTime(at),
    issued: fhirDateTime(at),
  });

  for (const encounter of plan.encounters) {
    const kind = ENCOUNTER_KINDS[encounter.kind];
    const diagnosis = encounter.diagnosis ? CONDITIONS[encounter.diagnosis] : undefined;
    resources.push({
      resourceType: 'Encounter',
      id: resourceIds.encounter(plan.id, encounter.n),
      status: 'finished',
      class: { system: CODE_SYSTEMS.actCode, code: kind.classCode, display: kind.classDisplay },
      type: [
        {
          coding: [{ system: CODE_SYSTEMS.snomed, code: kind.typeCode, display: kind.typeDisplay }],
          text: kind.typeDisplay,
        },
      ],
      subject: patientRef,
      participant: [{ individual: { reference: practitionerReference(encounter.practitioner) } }],
      period: { start: fhirDateTime(encounter.start), end: fhirDateTime(encounter.end) },
      reasonCode: [
        diagnosis
          ? {
              coding: [{ system: CODE_SYSTEMS.snomed, code: diagnosis.snomed, display: diagnosis.display }],
              text: encounter.reason,
            }
          : { text: encounter.reason },
      ],
      serviceProvider: { reference: organizationReference(encounter.organization) },
    });
    const v = encounter.vitals;
    resources.push(
      observation(encounter, 'vital-signs', v.at, {
        code: loincCode(VITAL_SIGNS.heartRate),
        valueQuantity: quantity(v.heartRate, VITAL_SIGNS.heartRate),
      }),
    );
    resources.push(
      observation(encounter, 'vital-signs', v.at, {
        code: loincCode(VITAL_SIGNS.bloodPressurePanel),
        component: [
          { code: loincCode(VITAL_SIGNS.systolic), valueQuantity: quantity(v.systolic, VITAL_SIGNS.systolic) },
          { code: loincCode(VITAL_SIGNS.diastolic), valueQuantity: quantity(v.diastolic, VITAL_SIGNS.diastolic) },
        ],
      }),
    );
    resources.push(
      observation(encounter, 'vital-signs', v.at, {
        code: loincCode(VITAL_SIGNS.bodyWeight),
        valueQuantity: quantity(v.weightKg, VITAL_SIGNS.bodyWeight),
      }),
    );
    resources.push(
      observation(encounter, 'vital-signs', v.at, {
        code: loincCode(VITAL_SIGNS.bodyHeight),
        valueQuantity: quantity(v.heightCm, VITAL_SIGNS.bodyHeight),
      }),
    );
    resources.push(
      observation(encounter, 'vital-signs', v.at, {
        code: loincCode(VITAL_SIGNS.bmi),
        valueQuantity: quantity(v.bmi, VITAL_SIGNS.bmi),
      }),
    );
    resources.push(
      observation(encounter, 'vital-signs', v.at, {
        code: loincCode(VITAL_SIGNS.bodyTemperature),
        valueQuantity: quantity(v.temperatureC, VITAL_SIGNS.bodyTemperature),
      }),
    );
    for (const lab of encounter.labs) {
      resources.push(
        observation(encounter, 'laboratory', lab.at, {
          code: loincCode(LABS[lab.key]),
          valueQuantity: quantity(lab.value, LABS[lab.key]),
        }),
      );
    }
  }

  for (const condition of plan.conditions) {
    const definition = CONDITIONS[condition.key];
    const resolved = condition.abatement !== undefined;
    resources.push({
      resourceType: 'Condition',
      id: resourceIds.condition(plan.id, condition.n),
      clinicalStatus: { coding: [{ system: CODE_SYSTEMS.conditionClinical, code: resolved ? 'resolved' : 'active' }] },
      verificationStatus: { coding: [{ system: CODE_SYSTEMS.conditionVerification, code: 'confirmed' }] },
      category: [
        {
          coding: [
            { system: CODE_SYSTEMS.conditionCategory, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' },
          ],
        },
      ],
      code: {
        coding: [{ system: CODE_SYSTEMS.snomed, code: definition.snomed, display: definition.display }],
        text: definition.display,
      },
      subject: patientRef,
      encounter: { reference: reference('Encounter', resourceIds.encounter(plan.id, condition.encounter)) },
      onsetDateTime: fhirDateTime(condition.onset),
      ...(resolved ? { abatementDateTime: fhirDateTime(condition.abatement as number) } : {}),
      recordedDate: fhirDateTime(condition.onset),
    });
  }

  for (const medication of plan.medications) {
    const definition = CONDITIONS[medication.key].medication;
    resources.push({
      resourceType: 'MedicationRequest',
      id: resourceIds.medicationRequest(plan.id, medication.n),
      status: medication.status,
      intent: 'order',
      medicationCodeableConcept: {
        coding: [{ system: CODE_SYSTEMS.rxnorm, code: definition.rxnorm, display: definition.display }],
        text: definition.display,
      },
      subject: patientRef,
      encounter: { reference: reference('Encounter', resourceIds.encounter(plan.id, medication.encounter)) },
      authoredOn: fhirDateTime(medication.authoredOn),
      requester: { reference: practitionerReference(medication.practitioner) },
      reasonReference: [{ reference: reference('Condition', resourceIds.condition(plan.id, medication.condition)) }],
      dosageInstruction: [{ sequence: 1, text: definition.dosage }],
    });
  }
  return resources;
}
