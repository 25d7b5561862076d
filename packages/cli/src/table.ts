/** A cell as commands hand it over: text, a number, a time, or nothing. */
export type Cell = string | number | boolean | Date | null | undefined;

const GAP = '  ';

/**
 * Lays rows out under a header in aligned columns for a terminal: numbers to the right, the
 * rest to the left, an empty cell as `-`.
 */
export function formatTable(columns: readonly string[], rows: readonly Cell[][]): string[] {
  const texts = rows.map((row) => columns.map((_, index) => cellText(row[index])));
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...texts.map((row) => row[index]?.length ?? 0)),
  );
  const numeric = columns.map((_, index) =>
    rows.every((row) => row[index] == null || typeof row[index] === 'number'),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => {
        const width = widths[index] ?? 0;

        return numeric[index] === true ? cell.padStart(width) : cell.padEnd(width);
      })
      .join(GAP)
      .trimEnd();

  return [line([...columns]), ...texts.map(line)];
}

/** Rows of objects as a table of their keys, in the order the first row has them. */
export function formatRecords(records: readonly Record<string, unknown>[]): string[] {
  const first = records[0];

  if (first === undefined) {
    return [];
  }

  const columns = Object.keys(first);

  return formatTable(
    columns,
    records.map((record) => columns.map((column) => asCell(record[column]))),
  );
}

function asCell(value: unknown): Cell {
  if (value === null || value === undefined || value instanceof Date) return value;

  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }

  return JSON.stringify(value);
}

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined || cell === '') return '-';
  if (cell instanceof Date) return cell.toISOString();

  return String(cell);
}
