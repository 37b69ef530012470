// apinotebook HistoryView table: every exchange of a History, live. Rows are fetched from
// the kernel (only the new ones after each change); one selected row shows an Inspector
// below (rendered by the kernel side), two selected rows show a diff of their bodies.

function render({ model, el }) {
  const request = makeRequester(model);
  const errorBox = h("div", { class: "apn-error", hidden: true });
  const fail = (err) => showError(errorBox, err);
  const filter = h("input", { class: "apn-search", type: "search", placeholder: "Filter: method, URL, status, operation…" });
  const count = h("span", { class: "apn-muted" });
  const clear = h("button", { class: "apn-button", type: "button" }, "Clear selection");
  const tbody = h("tbody");
  const table = h(
    "table",
    { class: "apn-table apn-history" },
    h("thead", null, h("tr", null, ["", "#", "time", "protocol", "method", "operation", "url", "status", "elapsed", "size"].map((t) => h("th", null, t)))),
    tbody,
  );
  const diffBox = h("div", { class: "apn-diff", hidden: true });
  el.append(
    h("div", { class: "apn apn-historyview" },
      h("div", { class: "apn-toolbar" }, filter, clear, count),
      errorBox,
      h("div", { class: "apn-scroll apn-history-scroll" }, table),
      diffBox),
  );

  let rows = [];
  let lastId = 0;
  let busy = null;

  function matches(row, text) {
    if (!text) return true;
    const hay = [row.protocol, row.method, row.operation, row.url, String(row.status), row.error].join(" ").toLowerCase();
    return text.toLowerCase().split(/\s+/).every((word) => hay.includes(word));
  }

  function setSelected(ids) {
    model.set("selected", ids);
    model.save_changes();
  }

  function draw() {
    const selected = new Set(model.get("selected"));
    const text = filter.value.trim();
    const shown = rows.filter((row) => matches(row, text));
    tbody.replaceChildren(
      ...shown.map((row) => {
        const box = h("input", { type: "checkbox", class: "apn-pick", title: "Select to inspect; select two to diff" });
        box.checked = selected.has(row.id);
        box.addEventListener("click", (event) => {
          event.stopPropagation();
          const current = model.get("selected").filter((id) => id !== row.id);
          setSelected(box.checked ? [...current, row.id].slice(-2) : current);
        });
        const tr = h(
          "tr",
          { class: selected.has(row.id) ? "apn-selected" : null, "data-id": row.id },
          h("td", null, box),
          h("td", { class: "apn-muted" }, row.id),
          h("td", null, row.time),
          h("td", null, row.protocol),
          h("td", null, row.method),
          h("td", null, row.operation || ""),
          h("td", null, h("code", null, row.url)),
          h("td", { class: statusClass(row.status, row.ok) }, row.status || "failed"),
          h("td", null, `${row.elapsed_ms.toFixed(1)} ms`),
          h("td", null, humanSize(row.size)),
        );
        tr.addEventListener("click", () => setSelected([row.id]));
        return tr;
      }),
    );
    const total = model.get("count");
    count.textContent = text ? `${shown.length} of ${rows.length} shown` : `${total} exchange${total === 1 ? "" : "s"}`;
  }

  async function refresh() {
    if (busy) return busy.then(refresh);
    busy = (async () => {
      const reply = await request("rows", { after: lastId });
      rows = rows.filter((row) => row.id >= reply.first_id).concat(reply.rows);
      if (reply.rows.length) lastId = reply.rows[reply.rows.length - 1].id;
      draw();
    })();
    try {
      await busy;
    } finally {
      busy = null;
    }
  }

  function drawDiff() {
    const diff = model.get("diff");
    if (!diff || !diff.labels) {
      diffBox.hidden = true;
      diffBox.replaceChildren();
      return;
    }
    diffBox.hidden = false;
    const lines = diff.identical ? [h("div", { class: "apn-muted" }, "The bodies are identical.")] : diff.text.split("\n").map((line) => {
      const cls = line.startsWith("+++") || line.startsWith("---") ? "apn-diff-file"
        : line.startsWith("@@") ? "apn-diff-hunk"
        : line.startsWith("+") ? "apn-diff-add"
        : line.startsWith("-") ? "apn-diff-del" : null;
      return h("div", { class: cls }, line || " ");
    });
    diffBox.replaceChildren(
      h("h4", null, `Diff of the bodies: ${diff.labels[0]} → ${diff.labels[1]}`),
      h("pre", { class: "apn-pre apn-diff-text" }, lines),
      h("div", { class: "apn-muted", hidden: !diff.truncated }, "The diff is cut short."),
    );
  }

  filter.addEventListener("input", draw);
  clear.addEventListener("click", () => setSelected([]));
  model.on("change:version", () => refresh().catch(fail));
  model.on("change:selected", draw);
  model.on("change:diff", drawDiff);
  drawDiff();
  refresh().catch(fail);
  return () => request.dispose();
}

export default { render };
