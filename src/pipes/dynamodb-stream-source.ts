import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { toPipesEvent } from '../change-stream/pipes-event.js';
import type { StreamRecord } from '../change-stream/types.js';
import type { CheckpointReader, PipeSource, SourceBatch } from './types.js';

/** Options of {@link DynamoDbStreamSource}. */
export interface DynamoDbStreamSourceOptions {
  table: string;
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  /** Where to start in a shard with no checkpoint. Default `TRIM_HORIZON`. */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
}

/**
 * Reads a table's DynamoDB stream with the DynamoDB Streams API, as an EventBridge Pipe does, and
 * hands out records in the JSON shape Pipes delivers (epoch-second times, base64 binary).
 *
 * @example
 * const source = new DynamoDbStreamSource({ table: 'visits', dynamodb, streams });
 * for await (const batch of source.read(checkpoints, 100)) console.log(batch.records.length);
 */
export class DynamoDbStreamSource implements PipeSource {
  public readonly name: string;

  public constructor(private readonly options: DynamoDbStreamSourceOptions) {
    this.name = options.table;
  }

  public async *read(checkpoints: CheckpointReader, batchSize: number): AsyncIterable<SourceBatch> {
    const { dynamodb, streams, table } = this.options;
    const described = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    const streamArn = described.Table?.LatestStreamArn;
    if (!streamArn) throw new Error(`table ${table} has no stream: enable StreamSpecification`);
    const stream = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of stream.StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId!;
      const after = checkpoints.get(shardId);
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: this.options.startingPosition ?? 'TRIM_HORIZON' }),
        }),
      );
      let iterator = ShardIterator;
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
        const records = page.Records ?? [];
        if (records.length === 0) break; // caught up for now
        yield {
          shardId,
          records: records.map((record) => toPipesRecord(record, streamArn)),
          lastSequenceNumber: records[records.length - 1]!.dynamodb!.SequenceNumber!,
        };
        iterator = page.NextShardIterator;
      }
    }
  }
}

/**
 * Converts an SDK stream record to the JSON a pipe's filter, enrichment and target see: the shared
 * {@link toPipesEvent} conversion, plus what Pipes adds (the stream ARN) and its spelling of `userIdentity`.
 *
 * @example
 * toPipesRecord(sdkRecord, streamArn).dynamodb.ApproximateCreationDateTime // 1700076551 (epoch seconds)
 */
export function toPipesRecord(record: SdkStreamRecord, streamArn: string): StreamRecord {
  const { userIdentity, ...rest } = record;
  return {
    ...toPipesEvent(rest as StreamRecord),
    // The Streams API has no eventSourceARN per record; Pipes and Lambda add the stream ARN.
    eventSourceARN: streamArn,
    ...(userIdentity ? { userIdentity: { type: userIdentity.Type, principalId: userIdentity.PrincipalId } } : {}),
  };
}
