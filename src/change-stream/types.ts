import type { LosslessNumber } from 'lossless-json';

/**
 * A DynamoDB AttributeValue as found in stream records: JSON from Pipes/Lambda (B as base64 text)
 * or the AWS SDK's shape (B as bytes).
 */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string | Uint8Array;
  SS?: string[];
  NS?: string[];
  BS?: Array<string | Uint8Array>;
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
}

/** An item image: attribute name to AttributeValue. */
export type AttributeMap = Record<string, AttributeValue>;

/**
 * Plain JSON with exact numbers: every DynamoDB N becomes a {@link LosslessNumber} holding its digits,
 * binary becomes base64 text.
 */
export type PlainValue = string | LosslessNumber | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/** A plain (unmarshalled) item. */
export type PlainItem = { [key: string]: PlainValue };

/** A DynamoDB stream record as Pipes, Lambda or the DynamoDB Streams API delivers it. */
export interface StreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  eventSource?: string;
  eventVersion?: string;
  awsRegion?: string;
  eventSourceARN?: string;
  /** Present for deletes made by TTL: `{type: 'Service', principalId: 'dynamodb.amazonaws.com'}`. */
  userIdentity?: { type?: string; principalId?: string } | null;
  dynamodb?: {
    Keys?: AttributeMap;
    NewImage?: AttributeMap;
    OldImage?: AttributeMap;
    SequenceNumber?: string;
    SizeBytes?: number;
    StreamViewType?: string;
    /** Epoch seconds in JSON; a Date from the AWS SDK. */
    ApproximateCreationDateTime?: number | string | Date;
  };
}

/** Change operation, Debezium style: create, update, delete, and `r` for a snapshot read of an existing item. */
export type ChangeOp = 'c' | 'u' | 'd' | 'r';

/**
 * Where a change record came from. `time` is when the change happened at its source (the stream's
 * ApproximateCreationDateTime, the snapshot's export time, the write time an incremental export reports), ISO-8601
 * UTC with milliseconds; the current state orders records by it (see `changeOrderKey`), not by `ts`, which a
 * table's `eventTime` attribute may set.
 */
export type ChangeSource =
  | { kind: 'stream'; seq: string; time: string }
  | { kind: 'snapshot'; exportId: string; time: string }
  | { kind: 'incremental-export'; exportId: string; time: string };

/** One change as landed in the lake: one NDJSON line. */
export interface ChangeRecord {
  op: ChangeOp;
  table: string;
  keys: PlainItem;
  /** Old image, or null when the stream view type does not carry it. */
  before: PlainItem | null;
  /** New image, or null (deletes, or view types without it). */
  after: PlainItem | null;
  eventId: string;
  /** The stream sequence number; null for records read from a snapshot or an export. */
  seq: string | null;
  /** Event time, ISO-8601 UTC with milliseconds. */
  ts: string;
  /** Set on deletes made by DynamoDB TTL. */
  ttl?: true;
  /** Where the record came from: a stream sequence, or a snapshot's or export's id. */
  source: ChangeSource;
}

/** Where the event time comes from (same shape as the config's `pipe.eventTime`). */
export interface EventTimeSource {
  /** Item attribute holding the time, read from the new image (old image for deletes). */
  attribute: string;
  /** `ms`/`s`: epoch number; `iso`: ISO-8601 string. */
  unit: 'ms' | 's' | 'iso';
}

/** Options of {@link toChangeRecord}. */
export interface ChangeRecordOptions {
  /** Table name written to `table`. */
  table: string;
  /** Event-time attribute; default is the stream's ApproximateCreationDateTime. */
  eventTime?: EventTimeSource | undefined;
  /** The table's TTL attribute (informational: TTL deletes are recognised by `userIdentity`). */
  ttlAttribute?: string | undefined;
}
