export { startEmbeddedDynamoDb } from './embedded-dynamodb.js';
export { AwsWireError, DataDirInUseError } from './errors.js';
export { formatSequenceNumber, parseSequenceNumber } from './stream-store.js';
export {
  DEFAULT_STREAM_RETENTION_SECONDS,
  STREAM_RETENTION_ENV,
  resolveStreamRetentionSeconds,
} from './stream-retention.js';
export type {
  EmbeddedDynamoDb,
  EmbeddedDynamoDbOptions,
  KeySchemaElement,
  RecoverySummary,
  StreamEventName,
  StreamRecord,
  StreamViewType,
  WireAttributeValue,
  WireItem,
} from './types.js';
