import { dependencyRows, isJsonObject, jsonString, jsonText, metadataRows, passes, unlessThrows } from '../src/packages/overview-fields';

const refuse = (): never => {
  throw new Error('refused');
};

describe('overview fields', () => {
  it('reads strings out of unknown JSON: as written, or trimmed, never empty', () => {
    expect([jsonString(' a '), jsonString(''), jsonString(1), jsonString(null)]).toEqual([' a ', undefined, undefined, undefined]);
    expect([jsonText(' a '), jsonText('  '), jsonText(['a']), jsonText(undefined)]).toEqual(['a', undefined, undefined, undefined]);
  });

  it('takes only a plain object as an object', () => {
    expect([{}, { a: 1 }].every(isJsonObject)).toBe(true);
    expect([null, [], 'x', 1, undefined].some(isJsonObject)).toBe(false);
  });

  it('keeps the facts with a non-empty string value, in order', () => {
    expect(
      metadataRows([
        ['A', 'x'],
        ['B', ''],
        ['C', undefined],
        ['D', null],
        ['E', 3],
        ['F', ' '],
      ]),
    ).toEqual([
      { label: 'A', value: 'x' },
      { label: 'F', value: ' ' },
    ]);
  });

  it('turns a name-to-requirement map into rows of one kind, skipping what is not a string', () => {
    expect(dependencyRows({ a: '^1', b: 2, c: '' }, 'peer')).toEqual([
      { name: 'a', requirement: '^1', kind: 'peer' },
      { name: 'c', requirement: '', kind: 'peer' },
    ]);
    expect([dependencyRows(['^1'], 'x'), dependencyRows('a', 'x'), dependencyRows(null, 'x')]).toEqual([[], [], []]);
  });

  it('turns a throwing rule into false or undefined', () => {
    expect([passes(() => 'ok'), passes(refuse)]).toEqual([true, false]);
    expect([unlessThrows(() => 'ok'), unlessThrows(refuse)]).toEqual(['ok', undefined]);
  });
});
