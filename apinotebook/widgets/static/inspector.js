// apinotebook Inspector: one exchange, in tabs. The body stays in the kernel: the tree asks
// for pages of children, search runs in the kernel, Raw and Table load on demand.

const PAGE = 100;

function statusLine(summary) {
  const outcome = summary.status
    ? `${summary.status} ${summary.reason || ""}`.trim()
    : `failed: ${summary.error || "no response"}`;
  const parts = [
    h("span", { class: `apn-badge ${statusClass(summary.status, summary.ok)}` }, outcome),
    h("span", { class: "apn-proto" }, summary.protocol),
    h("span", { class: "apn-method" }, summary.method),
  ];
  if (summary.operation) parts.push(h("b", null, summary.operation));
  parts.push(h("code", { class: "apn-url", title: summary.url }, summary.url));
  const facts = [`${summary.elapsed_ms.toFixed(1)} ms`, humanSize(summary.size)];
  if (summary.content_type) facts.push(summary.content_type);
  if (summary.retries) facts.push(`${summary.retries} ${summary.retries === 1 ? "retry" : "retries"}`);
  parts.push(h("span", { class: "apn-muted" }, facts.join(" · ")));
  if (summary.fault) parts.push(h("span", { class: "apn-badge apn-bad" }, `Fault: ${summary.fault}`));
  if (summary.graphql_errors) {
    parts.push(h("span", { class: "apn-badge apn-warn" }, `${summary.graphql_errors} GraphQL error(s)`));
  }
  if (summary.cache) {
    const said = summary.cache === "revalidated" ? "from cache (304 Not Modified)" : "from the HTTP cache";
    parts.push(h("span", { class: "apn-badge apn-cache", title: "The body was not sent again" }, said));
  }
  if (summary.rate_limit) {
    const cls = summary.rate_limit_low ? "apn-badge apn-warn" : "apn-muted";
    parts.push(h("span", { class: `${cls} apn-ratelimit`, title: "Rate limit" }, `Rate limit: ${summary.rate_limit}`));
  }
  if (summary.api_version) {
    parts.push(h("span", { class: "apn-muted apn-version", title: "API version" }, `API version: ${summary.api_version}`));
  }
  return h("div", { class: "apn-status" }, parts);
}

// the contract check's outcome (ex.check_contract(), check_contracts=): a badge and the violations
function contractBox(contract) {
  if (!contract || !contract.against) return h("div", { hidden: true });
  if (!contract.checked) {
    return h("div", { class: "apn-contract apn-muted" }, `Contract not checked: ${contract.reason || ""}`);
  }
  if (contract.ok) {
    return h("div", { class: "apn-contract" }, h("span", { class: "apn-badge apn-ok" }, "contract ok"), ` ${contract.against}`);
  }
  const rows = contract.violations.map((v) => h("tr", null, h("td", null, h("code", null, v.path)), h("td", null, v.kind), h("td", null, v.message)));
  return h("details", { class: "apn-contract", open: true },
    h("summary", null, h("span", { class: "apn-badge apn-bad" }, `${contract.violations.length} contract violation(s)`), ` ${contract.against}`),
    h("table", { class: "apn-table" }, h("thead", null, h("tr", null, ["path", "kind", "problem"].map((t) => h("th", null, t)))), h("tbody", null, rows)));
}

function nodeLabel(kind, node) {
  if (node.label) return node.label;
  if (kind === "xml") return `<${node.key}>`;
  return typeof node.key === "number" ? `[${node.key}]` : node.key;
}

function childKey(kind, node) {
  return kind === "xml" ? node.pos : node.key;
}

/** The tree of one view (json, xml, data, fault) of the body. */
function makeTree(ctx, tree, onSelect) {
  const { request } = ctx;
  const view = tree.view;
  const kind = tree.kind;

  function makeNode(node, path) {
    const hasKids = (node.count || 0) > 0;
    const el = h("div", { class: "apn-node", "data-pos": node.pos, "data-path": JSON.stringify(path) });
    const toggle = h("span", { class: "apn-toggle" }, hasKids ? "▸" : "");
    const attrs = (node.attrs || []).map(([k, v]) => h("span", { class: "apn-attr" }, ` ${k}="${v}"`));
    const row = h(
      "div",
      { class: "apn-row", tabindex: 0 },
      toggle,
      h("span", { class: "apn-key" }, nodeLabel(kind, node)),
      attrs,
      h("span", { class: `apn-preview apn-t-${node.type}` }, node.preview),
      hasKids ? h("span", { class: "apn-count" }, `${node.count.toLocaleString()}`) : null,
    );
    const kids = h("div", { class: "apn-children", hidden: true });
    el.append(row, kids);
    el._apn = { node, path, kids, toggle, loaded: false, start: 0, end: 0, total: node.count || 0 };
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      if (hasKids) setOpen(el, kids.hidden).catch(ctx.fail);
    });
    row.addEventListener("click", () => {
      onSelect(el);
      if (hasKids && kids.hidden) setOpen(el, true).catch(ctx.fail);
    });
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") row.click();
    });
    return el;
  }

  async function setOpen(el, open) {
    const state = el._apn;
    state.kids.hidden = !open;
    state.toggle.textContent = open ? "▾" : "▸";
    el.classList.toggle("apn-open", open);
    if (open && !state.loaded) await loadPage(el, 0, "replace");
  }

  function addPage(el, page, mode) {
    const state = el._apn;
    const nodes = page.children.map((child) => makeNode(child, [...state.path, childKey(kind, child)]));
    state.kids.querySelectorAll(":scope > .apn-more").forEach((b) => b.remove());
    if (mode === "replace") {
      state.kids.replaceChildren(...nodes);
      state.start = page.offset;
      state.end = page.offset + nodes.length;
    } else if (mode === "prepend") {
      state.kids.prepend(...nodes);
      state.start = page.offset;
    } else {
      state.kids.append(...nodes);
      state.end = page.offset + nodes.length;
    }
    state.total = page.total;
    state.loaded = true;
    if (state.start > 0) {
      const offset = Math.max(0, state.start - PAGE);
      state.kids.prepend(
        h("button", { class: "apn-more", type: "button", onclick: () => loadPage(el, offset, "prepend").catch(ctx.fail) },
          `show ${state.start - offset} earlier`),
      );
    }
    if (state.end < state.total) {
      const left = state.total - state.end;
      state.kids.append(
        h("button", { class: "apn-more", type: "button", onclick: () => loadPage(el, state.end, "append").catch(ctx.fail) },
          `show ${Math.min(PAGE, left)} more (${left.toLocaleString()} left)`),
      );
    }
  }

  async function loadPage(el, offset, mode) {
    const page = await request("children", { view, path: el._apn.path, offset, limit: PAGE });
    addPage(el, page, mode);
  }

  /** Expand the ancestors of `positions` and return the node element. */
  async function reveal(positions) {
    let el = rootEl;
    for (const pos of positions) {
      await setOpen(el, true);
      const state = el._apn;
      if (pos < state.start || pos >= state.end) {
        if (pos >= state.end && pos < state.end + PAGE) await loadPage(el, state.end, "append");
        else await loadPage(el, pos - (pos % PAGE), "replace");
      }
      const next = state.kids.querySelector(`:scope > .apn-node[data-pos="${pos}"]`);
      if (!next) throw new Error("That node is no longer there.");
      el = next;
    }
    return el;
  }

  const root = tree.root;
  const rootEl = makeNode(root, []);
  if (root.children) {
    rootEl._apn.kids.hidden = false;
    rootEl._apn.toggle.textContent = "▾";
    rootEl.classList.add("apn-open");
    addPage(rootEl, root.children, "replace");
  }
  // open chains of single children (a SOAP envelope's Body and response wrapper)
  async function autoOpen(el, depth) {
    const kids = el._apn.kids.querySelectorAll(":scope > .apn-node");
    if (depth < 4 && kids.length === 1 && kids[0]._apn.total > 0) {
      await setOpen(kids[0], true);
      await autoOpen(kids[0], depth + 1);
    }
  }
  autoOpen(rootEl, 0).catch(ctx.fail);
  return { el: h("div", { class: "apn-tree" }, rootEl), reveal };
}

function bodyPanel(ctx) {
  const { model, request } = ctx;
  const trees = model.get("trees");
  const panel = h("div", { class: "apn-body" });
  const note = model.get("body_note");
  if (note) panel.append(h("div", { class: "apn-note" }, note));
  if (!trees.length) {
    const raw = model.get("raw")[0];
    if (raw && raw.text) panel.append(h("pre", { class: "apn-pre" }, raw.text));
    return panel;
  }
  let current = trees[0];
  let treeApi = null;
  const viewSelect = h(
    "select",
    { class: "apn-view", title: "Which tree" },
    trees.map((t) => h("option", { value: t.view }, t.label)),
  );
  const query = h("input", { class: "apn-search", type: "search", placeholder: "Search keys and values…" });
  const searchButton = h("button", { class: "apn-button", type: "button" }, "Search");
  const info = h("span", { class: "apn-muted apn-search-info" });
  const results = h("div", { class: "apn-results", hidden: true });
  const treeBox = h("div", { class: "apn-treebox" });
  const detail = h("div", { class: "apn-detail", hidden: true });
  panel.append(
    h("div", { class: "apn-toolbar" }, trees.length > 1 ? viewSelect : null, query, searchButton, info),
    results,
    h("div", { class: "apn-split" }, treeBox, detail),
  );

  let selectedRow = null;
  let selectSeq = 0;
  // The detail pane shows the node last clicked: its data-path says which one, and
  // aria-busy is set while the kernel's answer for it is on its way (a slower answer
  // for an earlier click never replaces it).
  async function select(el) {
    if (selectedRow) selectedRow.classList.remove("apn-selected");
    selectedRow = el.querySelector(":scope > .apn-row");
    selectedRow.classList.add("apn-selected");
    const seq = ++selectSeq;
    detail.setAttribute("aria-busy", "true");
    let reply;
    try {
      reply = await request("select", { view: current.view, path: el._apn.path });
    } finally {
      if (seq === selectSeq) detail.removeAttribute("aria-busy");
    }
    if (seq !== selectSeq) return;
    detail.hidden = false;
    detail.dataset.path = JSON.stringify(el._apn.path);
    detail.replaceChildren(
      h("div", { class: "apn-detail-head" }, h("span", { class: "apn-muted" }, current.kind === "xml" ? "XPath" : "JSONPath")),
      h("div", { class: "apn-codeline" }, h("code", { class: "apn-location" }, reply.location), copyButton(() => reply.location)),
      h("div", { class: "apn-detail-head" }, h("span", { class: "apn-muted" }, "Python")),
      h("div", { class: "apn-codeline" }, h("code", { class: "apn-snippet" }, reply.snippet), copyButton(() => reply.snippet)),
      h("pre", { class: "apn-pre apn-value" }, reply.preview),
    );
  }

  function show(tree) {
    current = tree;
    selectSeq++; // an answer still on its way is about the previous tree
    treeApi = makeTree(ctx, tree, (el) => select(el).catch(ctx.fail));
    treeBox.replaceChildren(treeApi.el);
    detail.hidden = true;
    detail.removeAttribute("aria-busy");
    delete detail.dataset.path;
    results.hidden = true;
    info.textContent = "";
  }

  async function search() {
    const text = query.value.trim();
    if (!text) return;
    info.textContent = "searching…";
    const reply = await request("search", { view: current.view, query: text, limit: 200 });
    const n = reply.matches.length;
    info.textContent = reply.complete
      ? `${n} match${n === 1 ? "" : "es"}`
      : `first ${n} matches (searched ${reply.scanned.toLocaleString()} nodes)`;
    results.hidden = n === 0;
    results.replaceChildren(
      ...reply.matches.map((m) =>
        h(
          "div",
          {
            class: "apn-result",
            tabindex: 0,
            onclick: async () => {
              try {
                const el = await treeApi.reveal(m.positions);
                el.scrollIntoView({ block: "nearest" });
                await select(el);
              } catch (err) {
                ctx.fail(err);
              }
            },
          },
          h("code", null, m.location),
          " ",
          h("span", { class: "apn-muted" }, m.preview),
        ),
      ),
    );
  }

  viewSelect.addEventListener("change", () => show(trees.find((t) => t.view === viewSelect.value)));
  searchButton.addEventListener("click", () => search().catch(ctx.fail));
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter") search().catch(ctx.fail);
  });
  show(current);
  return panel;
}

function tablePanel(ctx) {
  const { model, request } = ctx;
  const info = model.get("table");
  const panel = h("div", { class: "apn-tablepanel" });
  if (!info.available) {
    panel.append(h("div", { class: "apn-muted" }, info.note || "The body is not tabular."));
    return panel;
  }
  const size = 50;
  const status = h("span", { class: "apn-muted" });
  const prev = h("button", { class: "apn-button", type: "button" }, "◀ previous");
  const next = h("button", { class: "apn-button", type: "button" }, "next ▶");
  const box = h("div", { class: "apn-scroll" });
  let offset = 0;
  async function load(start) {
    status.textContent = "loading…";
    const page = await request("table", { offset: start, limit: size });
    offset = page.offset;
    const head = h("thead", null, h("tr", null, h("th", null, "#"), page.columns.map((c) => h("th", null, c))));
    const body = h(
      "tbody",
      null,
      page.rows.map((row, i) => h("tr", null, h("td", { class: "apn-muted" }, page.offset + i), row.map((c) => h("td", null, c)))),
    );
    box.replaceChildren(h("table", { class: "apn-table apn-frame" }, head, body));
    const last = page.offset + page.rows.length;
    status.textContent = `rows ${page.total ? page.offset + 1 : 0}–${last} of ${page.total.toLocaleString()} · ${page.columns.length} columns · ${page.expression}`;
    prev.disabled = page.offset === 0;
    next.disabled = last >= page.total;
  }
  prev.addEventListener("click", () => load(Math.max(0, offset - size)).catch(ctx.fail));
  next.addEventListener("click", () => load(offset + size).catch(ctx.fail));
  panel.append(h("div", { class: "apn-toolbar" }, prev, next, status), box);
  load(0).catch(ctx.fail);
  return panel;
}

/** A <pre> with the first page of a text and a "load more" button. */
function pagedText(ctx, which, page) {
  const pre = h("pre", { class: "apn-pre" }, page.text);
  let loaded = page.text.length;
  const more = h("button", { class: "apn-more", type: "button", hidden: !page.more }, "load more");
  more.addEventListener("click", async () => {
    try {
      more.disabled = true;
      const reply = await ctx.request("raw", { which, offset: loaded, limit: 65536 });
      pre.append(reply.text);
      loaded += reply.text.length;
      more.hidden = !reply.more;
    } catch (err) {
      ctx.fail(err);
    } finally {
      more.disabled = false;
    }
  });
  return h("div", null, pre, more);
}

function headersPanel(ctx) {
  return h("div", null, pairsTable(ctx.model.get("headers"), "no response headers"));
}

function requestPanel(ctx) {
  const req = ctx.model.get("request");
  const panel = h(
    "div",
    null,
    h("div", { class: "apn-codeline" }, h("b", null, req.method), " ", h("code", null, req.url)),
    h("h4", null, "Headers"),
    pairsTable(req.headers, "no headers"),
  );
  if (req.body && req.body.text) panel.append(h("h4", null, "Body"), pagedText(ctx, "request", req.body));
  return panel;
}

function rawPanel(ctx) {
  const entries = ctx.model.get("raw");
  if (!entries.length) return h("div", { class: "apn-muted" }, "empty body");
  return h("div", null, entries.map((entry) => [h("h4", null, entry.label), pagedText(ctx, entry.which, entry)]));
}

function timingPanel(ctx) {
  const timing = ctx.model.get("timing");
  const rows = timing.attempts.map((a) =>
    h(
      "tr",
      null,
      h("td", null, a.number),
      h("td", null, a.status ?? ""),
      h("td", null, a.error ?? ""),
      h("td", null, `${(a.elapsed * 1000).toFixed(1)} ms`),
      h("td", null, a.wait ? `${a.wait.toFixed(2)} s` : ""),
    ),
  );
  return h(
    "div",
    null,
    pairsTable([
      ["started", timing.started_at],
      ["elapsed", `${timing.elapsed_ms.toFixed(1)} ms`],
      ["attempts", String(timing.attempts.length || 1)],
    ]),
    timing.attempts.length
      ? h(
          "table",
          { class: "apn-table" },
          h("thead", null, h("tr", null, ["#", "status", "error", "elapsed", "wait after"].map((t) => h("th", null, t)))),
          h("tbody", null, rows),
        )
      : h("div", { class: "apn-muted" }, "One attempt, no retries."),
  );
}

function codePanel(ctx) {
  const code = ctx.model.get("code");
  return h(
    "div",
    null,
    h("h4", null, "curl ", copyButton(() => code.curl)),
    h("pre", { class: "apn-pre apn-code" }, code.curl),
    h("h4", null, "Python ", copyButton(() => code.python)),
    h("pre", { class: "apn-pre apn-code" }, code.python),
  );
}

const PANELS = {
  Body: bodyPanel,
  Table: tablePanel,
  Headers: headersPanel,
  Request: requestPanel,
  Raw: rawPanel,
  Timing: timingPanel,
  Code: codePanel,
};

function render({ model, el }) {
  const request = makeRequester(model);
  const errorBox = h("div", { class: "apn-error", hidden: true });
  const ctx = { model, request, fail: (err) => showError(errorBox, err) };
  const tabbar = h("div", { class: "apn-tabs", role: "tablist" });
  const panels = h("div", { class: "apn-panels" });
  const root = h("div", { class: "apn apn-inspector" }, statusLine(model.get("summary")), contractBox(model.get("contract")), tabbar, errorBox, panels);
  const built = {};
  function open(name) {
    showError(errorBox, null);
    for (const button of tabbar.children) button.setAttribute("aria-selected", String(button.dataset.tab === name));
    for (const panel of Object.values(built)) panel.hidden = true;
    if (!built[name]) {
      built[name] = h("div", { class: "apn-panel", "data-panel": name, role: "tabpanel" }, PANELS[name](ctx));
      panels.append(built[name]);
    }
    built[name].hidden = false;
  }
  for (const name of model.get("tabs")) {
    tabbar.append(h("button", { class: "apn-tab", type: "button", role: "tab", "data-tab": name, onclick: () => open(name) }, name));
  }
  el.append(root);
  open(model.get("tabs")[0]);
  return () => request.dispose();
}

export default { render };
