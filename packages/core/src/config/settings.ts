import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, Max, Min } from 'class-validator';

// Config values from the environment arrive as strings; these decorators accept both the
// YAML type and its string spelling, and leave anything else for the validator to reject.

function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value;
}

function toNumber(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return value;
  return Number(value);
}

function toInteger(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*-?\d+\s*$/.test(value)) return value;
  return Number(value);
}

export function BooleanSetting(): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }) => toBoolean(value))(target, key);
    IsBoolean()(target, key);
  };
}

export function IntegerSetting(range: { min?: number; max?: number } = {}): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }) => toInteger(value))(target, key);
    IsInt()(target, key);
    if (range.min !== undefined) Min(range.min)(target, key);
    if (range.max !== undefined) Max(range.max)(target, key);
  };
}

/** A duration in seconds, fractions allowed (`0.5`); `0` where the key says it turns something off. */
export function SecondsSetting(range: { min?: number; max?: number } = {}): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }) => toNumber(value))(target, key);
    IsNumber({ allowNaN: false, allowInfinity: false })(target, key);
    Min(range.min ?? 0)(target, key);
    if (range.max !== undefined) Max(range.max)(target, key);
  };
}
