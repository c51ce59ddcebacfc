/**
 * CSV for spreadsheets (RFC 4180): a header row, then one row per record. Fields with a comma, a quote or a
 * line break are quoted; a text field starting with = + - @ (or a tab or carriage return) is prefixed with
 * a quote so a spreadsheet shows it as text instead of running it as a formula (OWASP's CSV injection advice).
 * Numbers are written as numbers: a negative one is not a formula.
 */
export type Cell = string | number | boolean | null | undefined;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value !== "string") return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(columns: string[], rows: Array<Record<string, Cell>>): string {
  const line = (cells: Cell[]) => cells.map(csvCell).join(",");
  return [line(columns), ...rows.map((r) => line(columns.map((c) => r[c])))].join("\r\n") + "\r\n";
}
