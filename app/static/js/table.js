// A table of rows that sorts by any column (header buttons, so the keyboard works too)
// and filters by text. Rows are built once per answer; sorting reorders them and
// filtering only toggles `hidden`, so both stay quick with hundreds of models.
//
// A column: { key, label, value(row) for sorting, cell(row) -> Node or text, num }.

import { element } from "./format.js";

const empty = (v) => v === null || v === undefined || Number.isNaN(v);

function compare(a, b) {
  if (typeof a === "string" || typeof b === "string") return String(a).localeCompare(String(b));
  return a - b;
}

export class SortableTable {
  constructor(table, { sortKey }) {
    this.table = table;
    this.sort = { key: sortKey, direction: "ascending" };
    this.columns = [];
    this.rows = [];
    this.query = "";
  }

  setColumns(columns) {
    const same = columns.map((c) => c.key).join() === this.columns.map((c) => c.key).join();
    this.columns = columns;
    if (!columns.some((c) => c.key === this.sort.key)) this.sort = { key: columns[0].key, direction: "ascending" };
    if (!same) this.renderHead();
    this.markSorted();
  }

  renderHead() {
    const cells = this.columns.map((column) => {
      const th = element("th", { scope: "col", "data-key": column.key, class: column.num ? "num" : "" });
      const button = element("button", { type: "button", class: "sort" }, column.label);
      button.addEventListener("click", () => this.sortBy(column.key));
      th.append(button);
      return th;
    });
    this.table.tHead.rows[0].replaceChildren(...cells);
  }

  markSorted() {
    for (const th of this.table.tHead.rows[0].cells) {
      if (th.dataset.key === this.sort.key) th.setAttribute("aria-sort", this.sort.direction);
      else th.removeAttribute("aria-sort");
    }
  }

  sortBy(key) {
    const again = this.sort.key === key && this.sort.direction === "ascending";
    this.sort = { key, direction: again ? "descending" : "ascending" };
    this.markSorted();
    this.order();
  }

  // New rows: one <tr> each, keyed by `id(row)`, with the text filtering matches.
  setRows(rows, { id, text, attrs }) {
    this.rows = rows.map((row) => {
      const tr = element("tr", { "data-id": id(row), ...(attrs ? attrs(row) : {}) });
      for (const column of this.columns) {
        const td = element("td", { class: `${column.key}${column.num ? " num" : ""}`, "data-label": column.label });
        const content = column.cell(row);
        if (content instanceof Node) td.append(content);
        else td.textContent = content;
        tr.append(td);
      }
      return { row, tr, text: text(row).toLowerCase() };
    });
    this.order();
    this.filter(this.query);
  }

  order() {
    const column = this.columns.find((c) => c.key === this.sort.key) || this.columns[0];
    const sign = this.sort.direction === "ascending" ? 1 : -1;
    const sorted = [...this.rows].sort((a, b) => {
      const va = column.value(a.row);
      const vb = column.value(b.row);
      if (empty(va) !== empty(vb)) return empty(va) ? 1 : -1; // no value last either way
      return sign * compare(va, vb) || a.text.localeCompare(b.text);
    });
    this.table.tBodies[0].replaceChildren(...sorted.map((r) => r.tr));
  }

  // Show the rows whose text contains `query` (case-insensitive); the count shown.
  filter(query) {
    this.query = query.trim().toLowerCase();
    let shown = 0;
    for (const r of this.rows) {
      const hide = this.query !== "" && !r.text.includes(this.query);
      if (r.tr.hidden !== hide) r.tr.hidden = hide;
      shown += hide ? 0 : 1;
    }
    return shown;
  }
}
