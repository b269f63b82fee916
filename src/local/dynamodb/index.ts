export { startEmbeddedDynamoDb } from './embedded-dynamodb.js';
export { AwsWireError, DataDirInUseError } from './errors.js';
export { formatSequenceNumber, parseSequenceNumber } from './stream-store.js';
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
