/**
 * An invalid ViewDefinition, found when it is compiled. `path` is the element at fault (`select[0].column[2].path`);
 * the message reads `<file>: <path>: <reason>` (the CLI exits 2 with it).
 *
 * @example
 * new ViewDefinitionError('select[0].forEach', 'must be a string', 'views/obs.json').message
 * // 'views/obs.json: select[0].forEach: must be a string'
 */
export class ViewDefinitionError extends Error {
  public override readonly name = 'ViewDefinitionError';

  public constructor(
    public readonly path: string,
    public readonly reason: string,
    public readonly file?: string,
  ) {
    super([file, path, reason].filter((part) => part !== undefined && part !== '').join(': '));
  }
}

/**
 * One resource could not be turned into rows; the run goes on. Raised by `CompiledView.rows` and reported as a
 * {@link RowError} by `runView`.
 *
 * @example
 * throw new RowEvaluationError('family', '2 values for a column that is not a collection');
 */
export class RowEvaluationError extends Error {
  public override readonly name = 'RowEvaluationError';

  public constructor(
    public readonly column: string | undefined,
    public readonly reason: string,
  ) {
    super(column ? `column ${column}: ${reason}` : reason);
  }
}
