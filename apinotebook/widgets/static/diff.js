// apinotebook DiffView: the changes between two responses, one row each, filterable by kind
// and path. Everything shown is in the synced state (masked and shortened by the kernel).

function render({ model, el }) {
  const summary = model.get("summary");
  const changes = model.get("changes");
  const kinds = ["added", "removed", "changed", "type"];
  const active = new Set(kinds);
  const filter = h("input", { class: "apn-search", type: "search", placeholder: "Filter paths…" });
  const tbody = h("tbody");
  const buttons = kinds.map((kind) => {
    const button = h("button", { class: `apn-button apn-diff-${kind}`, type: "button", "aria-pressed": "true" },
      `${kind} ${summary.counts[kind] || 0}`);
    button.addEventListener("click", () => {
      if (active.has(kind)) active.delete(kind); else active.add(kind);
      button.setAttribute("aria-pressed", String(active.has(kind)));
      draw();
    });
    return button;
  });
  const head = h("div", { class: "apn-status" },
    h("b", null, `${summary.total} change(s)`), h("span", { class: "apn-muted" }, `${summary.left} → ${summary.right}`));
  const note = h("div", { class: "apn-muted" },
    summary.total > changes.length ? `showing the first ${changes.length}; all are in diff.changes` : "");
  const symbol = { added: "+", removed: "−", changed: "~", type: "≠" };
  function draw() {
    const text = filter.value.toLowerCase();
    tbody.replaceChildren(...changes
      .filter((c) => active.has(c.kind) && (!text || c.path.toLowerCase().includes(text)))
      .map((c) => h("tr", { class: `apn-diff-${c.kind}` },
        h("td", null, symbol[c.kind]), h("td", null, h("code", null, c.path)),
        h("td", null, c.old), h("td", null, c.new))));
  }
  filter.addEventListener("input", draw);
  el.append(h("div", { class: "apn apn-diffview" }, head,
    h("div", { class: "apn-toolbar" }, filter, ...buttons),
    h("div", { class: "apn-scroll" }, h("table", { class: "apn-table" },
      h("thead", null, h("tr", null, ["", "path", "before", "after"].map((t) => h("th", null, t)))), tbody)),
    note));
  draw();
}

export default { render };
