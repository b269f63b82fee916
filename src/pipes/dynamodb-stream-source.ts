import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type DynamoDBStreamsClient,
  type GetShardIteratorInput,
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
      const position = checkpoints.get(shardId);
      let iterator: string | undefined;
      try {
        ({ ShardIterator: iterator } = await streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ...iteratorFor(position, this.options.startingPosition ?? 'TRIM_HORIZON'),
          }),
        ));
        while (iterator) {
          const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
          const records = page.Records ?? [];
          if (records.length === 0) break; // caught up for now
          const last = records[records.length - 1]!.dynamodb!;
          yield {
            shardId,
            records: records.map((record) => toPipesRecord(record, streamArn)),
            lastSequenceNumber: last.SequenceNumber!,
            ...(last.ApproximateCreationDateTime
              ? { lastRecordTimeMs: last.ApproximateCreationDateTime.getTime() }
              : {}),
          };
          iterator = page.NextShardIterator;
        }
      } catch (error) {
        // The stream trimmed records after the position before the pipe read them: never skip them silently.
        if (!isTrimmed(error)) throw error;
        yield { shardId, records: [], lastSequenceNumber: '', gap: { shardId, position } };
      }
    }
  }
}

/** Prefix of a position that means "at this sequence number" (the first record of a shard, itself unread). */
export const AT_SEQUENCE_PREFIX = 'at:';
/** A position that means "the oldest record the shard still holds" (after a repair). */
export const TRIM_HORIZON_POSITION = 'trim-horizon';

/**
 * The GetShardIterator parameters for a committed position: a sequence number (read after it), `at:<seq>` (read from
 * it, e.g. the start of a shard that was empty when a snapshot recorded it), `trim-horizon`, or none (the pipe's
 * starting position).
 *
 * @example
 * iteratorFor('at:100000000000000000007', 'TRIM_HORIZON') // { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: '100000000000000000007' }
 */
export function iteratorFor(
  position: string | undefined,
  startingPosition: 'TRIM_HORIZON' | 'LATEST',
): Pick<GetShardIteratorInput, 'ShardIteratorType' | 'SequenceNumber'> {
  if (position === undefined || position === '') return { ShardIteratorType: startingPosition };
  if (position === TRIM_HORIZON_POSITION) return { ShardIteratorType: 'TRIM_HORIZON' };
  if (position.startsWith(AT_SEQUENCE_PREFIX))
    return { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: position.slice(AT_SEQUENCE_PREFIX.length) };
  return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position };
}

/**
 * True for DynamoDB Streams' TrimmedDataAccessException: the position is behind the stream's trim horizon.
 *
 * @example
 * isTrimmed(new TrimmedDataAccessException({ message: 'trimmed', $metadata: {} })) // true
 */
export function isTrimmed(error: unknown): boolean {
  return (
    error instanceof TrimmedDataAccessException || (error as { name?: unknown })?.name === 'TrimmedDataAccessException'
  );
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
