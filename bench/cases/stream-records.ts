/**
 * Synthetic DynamoDB stream records as Pipes delivers them (JSON text), made one at a time so the
 * generator itself holds no memory. Record i is an INSERT, MODIFY or REMOVE of a SYSTEM.md §1 item.
 */
export function* streamRecordTexts(count: number): Generator<string> {
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < count; i += 1) {
    const kind = i % 10 === 9 ? 'REMOVE' : i % 3 === 2 ? 'MODIFY' : 'INSERT';
    const created = start + i * 1000;
    const image = (v: number) =>
      `{"id":{"S":"item-${i}"},"siteId":{"S":"${(i % 8) + 1}"},"name":{"S":"visit ${i}"},"valueOne":{"N":"${123 + v}"},` +
      `"valueTwo":{"N":"12345678901234567890123456789012345${String(i % 1000).padStart(3, '0')}"},"createdAtTime":{"N":"${created}"}}`;
    const newImage = kind === 'REMOVE' ? '' : `,"NewImage":${image(1)}`;
    const oldImage = kind === 'INSERT' ? '' : `,"OldImage":${image(0)}`;
    yield (
      `{"eventID":"ev-${i}","eventName":"${kind}","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
      `"eventSourceARN":"arn:aws:dynamodb:us-east-1:000000000000:table/visits/stream/2024-01-01T00:00:00.000",` +
      `"dynamodb":{"ApproximateCreationDateTime":${Math.floor(created / 1000)},"Keys":{"id":{"S":"item-${i}"}}${newImage}${oldImage},` +
      `"SequenceNumber":"${String(i + 1).padStart(21, '0')}","SizeBytes":200,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`
    );
  }
}
