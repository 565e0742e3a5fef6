/**
 * The ISO-8601 texts of the time descriptors, printed exactly as Java's
 * `toString()` prints them and parsed back strictly (a text is accepted
 * only in the form Java prints, so every value has one text):
 *
 * | Java type       | text                                                        |
 * |-----------------|-------------------------------------------------------------|
 * | `Instant`       | `2024-03-28T12:00:00.123456789Z`: seconds always, the fraction in groups of 3 digits only as needed, `Z` |
 * | `LocalDate`     | `2024-03-28`, `-0001-12-31`, `+999999999-12-31`             |
 * | `LocalTime`     | `00:00`, `12:34:56`, `12:34:56.789`: seconds only when not both seconds and nanos are 0 |
 * | `LocalDateTime` | the date, `T`, the time: `2024-03-28T12:00`                  |
 *
 * Years: 4 digits at least; a `-` before negative years, a `+` before years
 * above 9999. Calendar: proleptic Gregorian, as `java.time`. Only integer
 * arithmetic (exact: numbers for days, bigint for epoch seconds past
 * 2^53): no JS `Date`, whose range (±275760 years) is narrower than Java's.
 *
 * Parsing throws {@linkcode TypeValueError}: for a text that is not of the
 * form at all, for a field out of range (`2024-13-01`, `25:00`), and for a
 * valid moment written other than as Java prints it (the message then
 * shows Java's text).
 *
 * @module
 */

import { TypeValueError } from "./type_errors.ts";

/** An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds (0..999999999). */
export interface InstantParts {
  /** Epoch seconds. */
  readonly seconds: bigint;
  /** Nanoseconds of the second, 0..999999999. */
  readonly nanos: number;
}

/** A date of the proleptic Gregorian calendar. */
export interface LocalDateParts {
  /** The year (-999999999..999999999 for `LocalDate`). */
  readonly year: number;
  /** 1..12. */
  readonly month: number;
  /** 1..31, valid for the month. */
  readonly day: number;
}

/** A time of day. */
export interface LocalTimeParts {
  /** 0..23. */
  readonly hour: number;
  /** 0..59. */
  readonly minute: number;
  /** 0..59. */
  readonly second: number;
  /** 0..999999999. */
  readonly nano: number;
}

/** `LocalDate.MIN`'s and `MAX`'s year. */
export const LOCAL_DATE_MAX_YEAR: number = 999_999_999;
/** `Instant.MIN.getEpochSecond()`: -1000000000-01-01T00:00:00Z. */
export const INSTANT_MIN_SECONDS: bigint = -31557014167219200n;
/** `Instant.MAX.getEpochSecond()`: +1000000000-12-31T23:59:59.999999999Z. */
export const INSTANT_MAX_SECONDS: bigint = 31556889864403199n;

const SECONDS_PER_DAY = 86400n;
/** Days from 0000-03-01 to 1970-01-01. */
const DAYS_0000_03_01_TO_EPOCH = 719468;
const DAYS_PER_400_YEARS = 146097;
/** The largest epoch second whose day and time of day are computed with numbers (2^53 - 1). */
const MAX_SAFE_SECONDS = BigInt(Number.MAX_SAFE_INTEGER);
/** Fewer days than this from the epoch, `days * 86400 + secondOfDay` stays below 2^53. */
const MAX_SAFE_DAYS = 1e11;

/**
 * Integer division rounded towards negative infinity (Java's
 * `Math.floorDiv`).
 *
 * @example
 * ```ts
 * import { floorDiv } from "./iso_time_text.ts";
 *
 * floorDiv(-1n, 1000n); // => -1n
 * floorDiv(1999n, 1000n); // => 1n
 * ```
 *
 * @param a The dividend.
 * @param b The divisor (not 0).
 * @returns The floor of `a / b`.
 */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * The number of days in a month of the proleptic Gregorian calendar.
 *
 * @example
 * ```ts
 * import { daysInMonth } from "./iso_time_text.ts";
 *
 * daysInMonth(2024, 2); // => 29
 * daysInMonth(1900, 2); // => 28
 * ```
 *
 * @param year The year.
 * @param month 1..12.
 * @returns 28..31.
 */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a date (negative before).
 *
 * @example
 * ```ts
 * import { epochDayOf } from "./iso_time_text.ts";
 *
 * epochDayOf({ year: 1970, month: 1, day: 2 }); // => 1n
 * epochDayOf({ year: 1969, month: 12, day: 31 }); // => -1n
 * ```
 *
 * @param date The date (not validated).
 * @returns The epoch day.
 */
export function epochDayOf(date: LocalDateParts): bigint {
  return BigInt(epochDayNumber(date.year, date.month, date.day));
}

/**
 * `a mod b` for numbers, in `0..b-1` (exact for safe integers, as the
 * subtraction and division that {@linkcode floorDivNumber} does with it).
 */
function floorMod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** {@linkcode floorDiv} for safe integers, exact. */
function floorDivNumber(a: number, b: number): number {
  return (a - floorMod(a, b)) / b;
}

/**
 * {@linkcode epochDayOf} in numbers: exact for any valid date of
 * `Instant`'s years (every value stays far below 2^53).
 */
function epochDayNumber(year: number, month: number, day: number): number {
  // Count from March 1st so that the leap day ends the (shifted) year.
  const y = month <= 2 ? year - 1 : year;
  const era = floorDivNumber(y, 400);
  const yearOfEra = y - era * 400; // 0..399
  const dayOfYear = floorDivNumber(153 * (month > 2 ? month - 3 : month + 9) + 2, 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + floorDivNumber(yearOfEra, 4) -
    floorDivNumber(yearOfEra, 100) + dayOfYear;
  return era * DAYS_PER_400_YEARS + dayOfEra - DAYS_0000_03_01_TO_EPOCH;
}

/**
 * The date of a day since 1970-01-01.
 *
 * @example
 * ```ts
 * import { dateOfEpochDay } from "./iso_time_text.ts";
 *
 * dateOfEpochDay(19810n); // => { year: 2024, month: 3, day: 28 }
 * ```
 *
 * @param epochDay Days since 1970-01-01.
 * @returns The date.
 */
export function dateOfEpochDay(epochDay: bigint): LocalDateParts {
  return dateOfEpochDayNumber(Number(epochDay));
}

/**
 * {@linkcode dateOfEpochDay} in numbers: exact for the days of any epoch
 * second of a Java `long` (at most ~1.1e14 days, far below 2^53).
 */
function dateOfEpochDayNumber(epochDay: number): LocalDateParts {
  const z = epochDay + DAYS_0000_03_01_TO_EPOCH;
  const era = floorDivNumber(z, DAYS_PER_400_YEARS);
  const dayOfEra = z - era * DAYS_PER_400_YEARS; // 0..146096
  const yearOfEra = floorDivNumber(
    dayOfEra - floorDivNumber(dayOfEra, 1460) + floorDivNumber(dayOfEra, 36524) -
      floorDivNumber(dayOfEra, 146096),
    365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + floorDivNumber(yearOfEra, 4) - floorDivNumber(yearOfEra, 100));
  const mp = floorDivNumber(5 * dayOfYear + 2, 153); // 0 = March
  const day = dayOfYear - floorDivNumber(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

/** Zeros enough for the widest field padded (9: nanoseconds). */
const ZEROS = "000000000";

/** `String(n).padStart(width, "0")` for widths up to 9, without its generic padding. */
function pad(n: number, width: number): string {
  const text = String(n);
  return text.length >= width ? text : ZEROS.slice(0, width - text.length) + text;
}

function yearText(year: number): string {
  if (year < 0) return "-" + pad(-year, 4);
  return year > 9999 ? "+" + year : pad(year, 4);
}

/** `.123`, `.123456`, `.123456789` (groups of 3, as needed) or `""`. */
function fractionText(nano: number): string {
  if (nano === 0) return "";
  if (nano % 1_000_000 === 0) return "." + pad(nano / 1_000_000, 3);
  if (nano % 1000 === 0) return "." + pad(nano / 1000, 6);
  return "." + pad(nano, 9);
}

/**
 * Java's `LocalDate.toString()`.
 *
 * @example
 * ```ts
 * import { formatLocalDate } from "./iso_time_text.ts";
 *
 * formatLocalDate({ year: 2024, month: 3, day: 28 }); // => "2024-03-28"
 * formatLocalDate({ year: -1, month: 12, day: 31 }); // => "-0001-12-31"
 * formatLocalDate({ year: 999999999, month: 12, day: 31 }); // => "+999999999-12-31"
 * ```
 *
 * @param date The date.
 * @returns Its text.
 */
export function formatLocalDate(date: LocalDateParts): string {
  return `${yearText(date.year)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/**
 * Java's `LocalTime.toString()`.
 *
 * @example
 * ```ts
 * import { formatLocalTime } from "./iso_time_text.ts";
 *
 * formatLocalTime({ hour: 0, minute: 0, second: 0, nano: 0 }); // => "00:00"
 * formatLocalTime({ hour: 12, minute: 34, second: 56, nano: 789000000 }); // => "12:34:56.789"
 * formatLocalTime({ hour: 1, minute: 2, second: 0, nano: 1000 }); // => "01:02:00.000001"
 * ```
 *
 * @param time The time.
 * @returns Its text.
 */
export function formatLocalTime(time: LocalTimeParts): string {
  const hm = `${pad(time.hour, 2)}:${pad(time.minute, 2)}`;
  if (time.second === 0 && time.nano === 0) return hm;
  return `${hm}:${pad(time.second, 2)}${fractionText(time.nano)}`;
}

/**
 * Java's `LocalDateTime.toString()`.
 *
 * @example
 * ```ts
 * import { formatLocalDateTime } from "./iso_time_text.ts";
 *
 * formatLocalDateTime({ year: 1970, month: 1, day: 1 }, { hour: 0, minute: 0, second: 0, nano: 0 });
 * // => "1970-01-01T00:00"
 * ```
 *
 * @param date The date.
 * @param time The time.
 * @returns Its text.
 */
export function formatLocalDateTime(date: LocalDateParts, time: LocalTimeParts): string {
  return `${formatLocalDate(date)}T${formatLocalTime(time)}`;
}

/**
 * Java's `Instant.toString()` (`DateTimeFormatter.ISO_INSTANT`).
 *
 * @example
 * ```ts
 * import { formatInstant } from "./iso_time_text.ts";
 *
 * formatInstant(0n, 0); // => "1970-01-01T00:00:00Z"
 * formatInstant(-1n, 999999999); // => "1969-12-31T23:59:59.999999999Z"
 * formatInstant(1711627200n, 123000000); // => "2024-03-28T12:00:00.123Z"
 * ```
 *
 * @param seconds Epoch seconds.
 * @param nanos 0..999999999.
 * @returns Its text.
 */
export function formatInstant(seconds: bigint, nanos: number): string {
  let days: number;
  let sod: number;
  if (seconds >= -MAX_SAFE_SECONDS && seconds <= MAX_SAFE_SECONDS) {
    const s = Number(seconds);
    sod = floorMod(s, 86400);
    days = (s - sod) / 86400;
  } else {
    const d = floorDiv(seconds, SECONDS_PER_DAY);
    sod = Number(seconds - d * SECONDS_PER_DAY);
    days = Number(d);
  }
  const date = dateOfEpochDayNumber(days);
  const hour = Math.floor(sod / 3600);
  const minute = Math.floor(sod / 60) % 60;
  return `${formatLocalDate(date)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(sod % 60, 2)}${
    fractionText(nanos)
  }Z`;
}

// ---------------------------------------------------------------------------
// Parsing

const MAX_TEXT_LENGTH = 64;
const DATE_PATTERN = "([+-]?)(\\d{4,10})-(\\d{2})-(\\d{2})";
const TIME_PATTERN = "(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?";
const LOCAL_DATE_RE = new RegExp(`^${DATE_PATTERN}$`);
const LOCAL_TIME_RE = new RegExp(`^${TIME_PATTERN}$`);
const LOCAL_DATE_TIME_RE = new RegExp(`^${DATE_PATTERN}T${TIME_PATTERN}$`);
const INSTANT_RE = new RegExp(`^${DATE_PATTERN}T${TIME_PATTERN}Z$`);

function show(text: unknown): string {
  if (typeof text !== "string") {
    return text === null ? "null" : typeof text === "bigint" ? `${text}n` : typeof text;
  }
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text);
}

function article(word: string): string {
  return /^[AEIOU]/.test(word) ? "an" : "a";
}

function matchText(text: unknown, re: RegExp, javaType: string, example: string): RegExpExecArray {
  if (typeof text !== "string") {
    throw new TypeValueError(
      `expected a ${javaType} as a string like "${example}", got ${show(text)}`,
    );
  }
  const m = text.length <= MAX_TEXT_LENGTH ? re.exec(text) : null;
  if (m === null) {
    throw new TypeValueError(
      `${show(text)} is not ${article(javaType)} ${javaType} text like "${example}"`,
    );
  }
  return m;
}

function dateOfMatch(
  m: RegExpExecArray,
  at: number,
  text: string,
  javaType: string,
): LocalDateParts {
  const year = Number(m[at + 1]) * (m[at] === "-" ? -1 : 1);
  const month = Number(m[at + 2]);
  const day = Number(m[at + 3]);
  if (year < -LOCAL_DATE_MAX_YEAR || year > LOCAL_DATE_MAX_YEAR) {
    throw new TypeValueError(
      `${show(text)}: year ${year} is outside ${-LOCAL_DATE_MAX_YEAR}..${LOCAL_DATE_MAX_YEAR}`,
    );
  }
  if (month < 1 || month > 12) {
    throw new TypeValueError(`${show(text)}: month ${month} is not a ${javaType} month (1..12)`);
  }
  if (day < 1 || day > daysInMonth(year, month)) {
    throw new TypeValueError(
      `${show(text)}: day ${day} is not in ${yearText(year)}-${pad(month, 2)} (1..${
        daysInMonth(year, month)
      })`,
    );
  }
  return { year, month, day };
}

function timeOfMatch(m: RegExpExecArray, at: number, text: string): LocalTimeParts {
  const hour = Number(m[at]);
  const minute = Number(m[at + 1]);
  const second = m[at + 2] === undefined ? 0 : Number(m[at + 2]);
  const nano = m[at + 3] === undefined ? 0 : Number(m[at + 3].padEnd(9, "0"));
  if (hour > 23) throw new TypeValueError(`${show(text)}: hour ${hour} is not in 0..23`);
  if (minute > 59) throw new TypeValueError(`${show(text)}: minute ${minute} is not in 0..59`);
  if (second > 59) throw new TypeValueError(`${show(text)}: second ${second} is not in 0..59`);
  return { hour, minute, second, nano };
}

function requireCanonical(text: string, canonical: string, javaType: string): void {
  if (text !== canonical) {
    throw new TypeValueError(
      `${show(text)} is not written as Java's ${javaType}.toString() writes it: "${canonical}"`,
    );
  }
}

/**
 * Parses a `LocalDate` text (Java's `toString()` form only).
 *
 * @example
 * ```ts
 * import { parseLocalDate } from "./iso_time_text.ts";
 *
 * parseLocalDate("2024-03-28"); // => { year: 2024, month: 3, day: 28 }
 * try {
 *   parseLocalDate("2024-13-01");
 * } catch (e) {
 *   (e as Error).name; // => "TypeValueError"
 * }
 * ```
 *
 * @param text The text.
 * @returns The date.
 * @throws {TypeValueError} Not a valid date in Java's form.
 */
export function parseLocalDate(text: string): LocalDateParts {
  const m = matchText(text, LOCAL_DATE_RE, "LocalDate", "2024-03-28");
  const date = dateOfMatch(m, 1, text, "LocalDate");
  requireCanonical(text, formatLocalDate(date), "LocalDate");
  return date;
}

/**
 * Parses a `LocalTime` text (Java's `toString()` form only).
 *
 * @example
 * ```ts
 * import { parseLocalTime } from "./iso_time_text.ts";
 *
 * parseLocalTime("12:34:56.789"); // => { hour: 12, minute: 34, second: 56, nano: 789000000 }
 * ```
 *
 * @param text The text.
 * @returns The time.
 * @throws {TypeValueError} Not a valid time in Java's form.
 */
export function parseLocalTime(text: string): LocalTimeParts {
  const m = matchText(text, LOCAL_TIME_RE, "LocalTime", "12:34:56.789");
  const time = timeOfMatch(m, 1, text);
  requireCanonical(text, formatLocalTime(time), "LocalTime");
  return time;
}

/**
 * Parses a `LocalDateTime` text (Java's `toString()` form only).
 *
 * @example
 * ```ts
 * import { parseLocalDateTime } from "./iso_time_text.ts";
 *
 * parseLocalDateTime("1970-01-01T00:00").time; // => { hour: 0, minute: 0, second: 0, nano: 0 }
 * ```
 *
 * @param text The text.
 * @returns The date and the time.
 * @throws {TypeValueError} Not a valid date-time in Java's form.
 */
export function parseLocalDateTime(text: string): { date: LocalDateParts; time: LocalTimeParts } {
  const m = matchText(text, LOCAL_DATE_TIME_RE, "LocalDateTime", "2024-03-28T12:00:00.123");
  const date = dateOfMatch(m, 1, text, "LocalDateTime");
  const time = timeOfMatch(m, 5, text);
  requireCanonical(text, formatLocalDateTime(date, time), "LocalDateTime");
  return { date, time };
}

/**
 * Parses an `Instant` text (Java's `toString()` form only), within
 * `Instant.MIN..Instant.MAX`.
 *
 * @example
 * ```ts
 * import { parseInstant } from "./iso_time_text.ts";
 *
 * parseInstant("1969-12-31T23:59:59.999999999Z"); // => { seconds: -1n, nanos: 999999999 }
 * ```
 *
 * @param text The text.
 * @returns Epoch seconds and nanos.
 * @throws {TypeValueError} Not a valid instant in Java's form.
 */
export function parseInstant(text: string): InstantParts {
  const m = matchText(text, INSTANT_RE, "Instant", "2024-03-28T12:00:00.123Z");
  // Instant's years reach ±1000000000, one past LocalDate's.
  const year = Number(m[2]) * (m[1] === "-" ? -1 : 1);
  const date = Math.abs(year) === LOCAL_DATE_MAX_YEAR + 1
    ? { year, month: Number(m[3]), day: Number(m[4]) }
    : dateOfMatch(m, 1, text, "Instant");
  if (
    date.month < 1 || date.month > 12 || date.day < 1 || date.day > daysInMonth(year, date.month)
  ) {
    throw new TypeValueError(`${show(text)} is not a valid date`);
  }
  const time = timeOfMatch(m, 5, text);
  const days = epochDayNumber(date.year, date.month, date.day);
  const sod = time.hour * 3600 + time.minute * 60 + time.second;
  // In numbers while exact (years up to ~285,000,000 from 1970), else in bigint.
  const seconds = Math.abs(days) < MAX_SAFE_DAYS
    ? BigInt(days * 86400 + sod)
    : BigInt(days) * SECONDS_PER_DAY + BigInt(sod);
  if (seconds < INSTANT_MIN_SECONDS || seconds > INSTANT_MAX_SECONDS) {
    throw new TypeValueError(`${show(text)} is outside Instant.MIN..Instant.MAX`);
  }
  requireCanonical(text, formatInstant(seconds, time.nano), "Instant");
  return { seconds, nanos: time.nano };
}
