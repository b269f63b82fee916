/** Options of {@link startEmbeddedDynamoDb}. */
export interface EmbeddedDynamoDbOptions {
  /** Directory for dynalite's LevelDB files (persistent), e.g. `stateDirPaths(d).dynamodb`. */
  dataDir: string;
  /** SQLite file for stream metadata and records, e.g. `stateDirPaths(d).streams`. */
  streamsDbFile: string;
  /** Interface to bind; `127.0.0.1` by default. */
  host?: string;
  /** Public port; `0` (the default) picks an ephemeral port. */
  port?: number;
  /** Region used in ARNs and stream records; `us-east-1` by default. */
  region?: string;
  /** Account id used in ARNs; `000000000000` by default. */
  accountId?: string;
  /**
   * Buckets directory of the local S3 stand-in (`<bucketsDir>/<bucket>/<key>`, e.g. `stateDirPaths(d).buckets`),
   * where `ExportTableToPointInTime` writes; without it, exports are refused.
   */
  bucketsDir?: string;
  /**
   * Stream retention, seconds: older records are trimmed from the Streams API (`TrimmedDataAccessException`
   * for a reader behind them). Default: env `TRIBUTARY_STREAM_RETENTION_SECONDS`, else 86,400 (24 hours, as
   * in AWS). Records a point-in-time-recovery window still needs are kept for INCREMENTAL exports.
   */
  streamRetentionSeconds?: number;
}

/** A running embedded DynamoDB + DynamoDB Streams endpoint. */
export interface EmbeddedDynamoDb {
  /** Base URL for the SDK's `endpoint` option, e.g. `http://127.0.0.1:4567`. */
  endpoint: string;
  /** What the start did with writes a crash had interrupted (their missing stream records appended). */
  recovered: RecoverySummary;
  /**
   * Registers a listener called (synchronously, after the record is stored) with the table name
   * whenever a stream record is appended. Returns a function that removes the listener.
   */
  onRecords(listener: (tableName: string) => void): () => void;
  /** Stops both HTTP servers and closes LevelDB and SQLite. */
  close(): Promise<void>;
}

/** The four stream view types of DynamoDB Streams. */
export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

export const STREAM_VIEW_TYPES: readonly StreamViewType[] = [
  'KEYS_ONLY',
  'NEW_IMAGE',
  'OLD_IMAGE',
  'NEW_AND_OLD_IMAGES',
];

/** One attribute value in DynamoDB's wire JSON, e.g. `{ "S": "x" }` or `{ "N": "1" }`. */
export type WireAttributeValue = Record<string, unknown>;

/** An item (or key) in DynamoDB's wire JSON. */
export type WireItem = Record<string, WireAttributeValue>;

/** One element of a table's key schema. */
export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

/** Stored metadata of one stream (one per enablement of a table's stream). */
export interface StreamInfo {
  streamArn: string;
  tableName: string;
  /** dynalite's TableId: tells a re-created table from the deleted one of the same name. */
  tableId: string;
  label: string;
  viewType: StreamViewType;
  keySchema: KeySchemaElement[];
  /** Creation time, epoch milliseconds. */
  createdMs: number;
  shardId: string;
  /** First sequence number the shard can hold. */
  startSeq: bigint;
  /** Last sequence number of the shard once the stream is disabled. */
  endSeq?: bigint;
  enabled: boolean;
  /** Trim horizon: the newest trimmed record's position (records at or before it are past retention). */
  trimmedSeq?: bigint;
  /** When the stream was disabled, epoch milliseconds (unknown for streams disabled before it was kept). */
  disabledMs?: number;
}

/** The `eventName` of a stream record. */
export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** A stream record, exactly as DynamoDB Streams' `GetRecords` returns it. */
export interface StreamRecord {
  eventID: string;
  eventName: StreamEventName;
  eventVersion: '1.1';
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: WireItem;
    NewImage?: WireItem;
    OldImage?: WireItem;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: StreamViewType;
  };
  eventSourceARN: string;
}

/** A stream record before the store gives it a sequence number. */
export type UnsequencedStreamRecord = Omit<StreamRecord, 'dynamodb'> & {
  dynamodb: Omit<StreamRecord['dynamodb'], 'SequenceNumber'>;
};

/** A write-ahead intent to record: an item about to be written, on a table with a stream. */
export interface NewWriteIntent {
  streamArn: string;
  /** The item's key attributes. */
  key: WireItem;
  /** The item before the write; `undefined` when absent. */
  oldImage?: WireItem | undefined;
  /** When the write started, epoch milliseconds: the record's ApproximateCreationDateTime. */
  createdMs: number;
}

/** A stored write-ahead intent. */
export interface WriteIntent extends NewWriteIntent {
  id: bigint;
}

/** What a start did with the write-ahead intents a crash left behind. */
export interface RecoverySummary {
  /** Interrupted writes that had been applied: their stream record was appended. */
  appended: number;
  /** Interrupted writes that had not changed their item (not applied, refused, or a no-op): no record. */
  unchanged: number;
  /** Intents of a stream or table disabled or deleted since: no record. */
  dropped: number;
  /** Intents whose item could not be read: left pending for the next start. */
  kept: number;
}
