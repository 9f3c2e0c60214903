import { ApiParams } from '../src/http/api-params';

// Dates as GitLab's API takes them (ISO 8601), checked field by field: JavaScript's Date would
// roll 2027-02-30 into March and read `Feb 30 2027` or `2030` in the server's own way.
describe('ApiParams dates', () => {
  const date = (value: string) => new ApiParams({ d: value }, {}).date('d')?.toISOString();
  const refused = (value: string) => expect(() => date(value)).toThrow(expect.objectContaining({ status: 400 }));

  it('takes a day (midnight UTC) or a date-time with its zone', () => {
    expect(date('2027-01-31')).toBe('2027-01-31T00:00:00.000Z');
    expect(date('2028-02-29')).toBe('2028-02-29T00:00:00.000Z');
    expect(date('2027-06-01T10:20Z')).toBe('2027-06-01T10:20:00.000Z');
    expect(date('2027-06-01T10:20:30.5+02:00')).toBe('2027-06-01T08:20:30.500Z');
    expect(date('2027-06-01T23:00:00-01:30')).toBe('2027-06-02T00:30:00.000Z');
    expect(date('9999-12-31')).toBe('9999-12-31T00:00:00.000Z');
  });

  it('refuses days that do not exist, other spellings, and years Postgres cannot hold', () => {
    for (const v of [
      '2027-02-29',
      '2027-02-30T00:00:00Z',
      '2027-06-31T00:00:00.000Z',
      '2027-13-01',
      '2027-01-01T24:00:00Z',
      '2027-01-01T10:00:00',
      '2027-01-01T10:00:00+99:99',
      'Feb 30 2027',
      'Tue, 31 Jun 2027 10:00:00 GMT',
      '2030',
      '2027-02-31 12:00',
      '0000-01-01',
      '9999-12-31T23:59:59-01:00',
      'tomorrow',
    ]) {
      refused(v);
    }
  });

  it('an expiry must be still to come: today (midnight) and earlier are refused', () => {
    const expiry = (value: string) => new ApiParams({ e: value }, {}).expiry('e');
    const today = new Date().toISOString().slice(0, 10);
    expect(() => expiry(today)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => expiry(new Date(Date.now() - 1000).toISOString())).toThrow(expect.objectContaining({ status: 400 }));
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(expiry(tomorrow)?.toISOString()).toBe(`${tomorrow}T00:00:00.000Z`);
  });
});
