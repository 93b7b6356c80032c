const LWF_TIME = /^(?:(\d+):)?(\d+):(\d+):(\d+(?:\.\d*)?)$/;

/**
 * Seconds in an LWF time `[DD:]HH:MM:SS[.ss]`, rounded to the nearest whole
 * second; null when `value` is not such a time.
 */
export function parseLwfTime(value: string): number | null {
  const match = LWF_TIME.exec(value.trim());
  if (!match) return null;
  const [, days = '0', hours, minutes, seconds] = match;
  if (Number(minutes) >= 60 || Number(seconds) >= 60) return null;
  return Math.round(((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds));
}
