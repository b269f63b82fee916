import type { StreamRecord } from '../../../src/change-stream/types.js';
import type { CheckpointReader, PipeSource, SourceBatch } from '../../../src/pipes/types.js';

/** A minimal stream record `e<n>` with sequence number `n` (21 digits) and optional new image. */
export const record = (n: number, newImage?: Record<string, unknown>): StreamRecord => ({
  eventID: `e${n}`,
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: String(n).padStart(21, '0'),
    ApproximateCreationDateTime: 1700000000,
    Keys: { id: { S: `k${n}` } },
    NewImage: { id: { S: `k${n}` }, ...(newImage ?? {}) } as never,
  },
});

/** A one-shard source over a fixed list, honouring checkpoints like AFTER_SEQUENCE_NUMBER. */
export class ListSource implements PipeSource {
  public readonly name = 'list';
  public constructor(public records: StreamRecord[]) {}
  public async *read(checkpoints: CheckpointReader, batchSize: number): AsyncIterable<SourceBatch> {
    const after = checkpoints.get('shard-1');
    const pending = this.records.filter((r) => after === undefined || r.dynamodb!.SequenceNumber! > after);
    for (let i = 0; i < pending.length; i += batchSize) {
      const records = pending.slice(i, i + batchSize);
      yield { shardId: 'shard-1', records, lastSequenceNumber: records[records.length - 1]!.dynamodb!.SequenceNumber! };
    }
  }
}
