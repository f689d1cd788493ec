import Table from "cli-table3";

const NO_BORDER = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
} as const;

/**
 * cli-table3 laid out like `kubectl get`: aligned columns, no box and no line between rows, so long
 * tables stay readable and a cell (a signed URL) can be selected and copied whole.
 */
export function plainTable(options: Table.TableConstructorOptions): Table.Table {
  return new Table({
    ...options,
    chars: { ...NO_BORDER, ...options.chars },
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, ...options.style },
  });
}

/** The table's text without the padding cli-table3 leaves at the end of each line. */
export function renderTable(table: Table.Table): string {
  return table
    .toString()
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}
