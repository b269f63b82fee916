import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Credentials the embedded endpoints accept (they check none). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Unmodified AWS SDK clients pointed at the embedded DynamoDB endpoint.
 *
 * @example
 * const { dynamodb, streams, documents } = localDynamoDbClients('http://127.0.0.1:4567', 'us-east-1');
 */
export function localDynamoDbClients(endpoint: string, region: string) {
  const common = { endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 };
  const dynamodb = new DynamoDBClient(common);
  return {
    dynamodb,
    streams: new DynamoDBStreamsClient(common),
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
  };
}

export type LocalDynamoDbClients = ReturnType<typeof localDynamoDbClients>;
