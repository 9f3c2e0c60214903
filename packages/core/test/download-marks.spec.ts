import { DownloadMarks } from '../src/packages/download-marks';

describe('DownloadMarks', () => {
  it('records a package at most once per interval', () => {
    let now = 0;
    const marks = new DownloadMarks(60_000, 100, () => now);
    expect(marks.take(1)).toBe(true);
    expect(marks.take(1)).toBe(false);
    expect(marks.take(2)).toBe(true);
    now = 59_999;
    expect(marks.take(1)).toBe(false);
    now = 60_000;
    expect(marks.take(1)).toBe(true);
    expect(marks.take(1)).toBe(false);
  });

  it('forgets everything rather than track more than maxTracked packages', () => {
    const marks = new DownloadMarks(60_000, 2, () => 0);
    expect(marks.take(1)).toBe(true);
    expect(marks.take(2)).toBe(true);
    expect(marks.take(3)).toBe(true); // the map was full: cleared, then 3 noted
    expect(marks.take(1)).toBe(true);
    expect(marks.take(3)).toBe(false);
  });
});
