// apinotebook SchemaExplorer: a lazy tree of a GraphQL schema, a query editor validated live in
// the kernel, docs, and Run. The type names and kinds arrive with the model; the fields of a
// type are asked for when it is expanded; ticking a field asks the kernel to edit the query.

const FIELD_PAGE = 100;
const TYPE_LIST = 200;

/** Call fn after `ms` of quiet; .cancel() drops a pending call. */
function debounce(fn, ms) {
  let timer = null;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  run.cancel = () => clearTimeout(timer);
  return run;
}

function render({ model, el }) {
  const request = makeRequester(model);
  const summary = model.get("summary");
  const kinds = model.get("types");
  const errorBox = h("div", { class: "apn-error", hidden: true });
  const fail = (err) => showError(errorBox, err);
  const typeCache = new Map(); // "Name@offset" -> info page
  let root = summary.roots.query ? "query" : "mutation";
  let selected = { fields: new Set(), args: new Set() };

  async function typePage(name, offset = 0) {
    const key = `${name}@${offset}`;
    if (!typeCache.has(key)) {
      typeCache.set(key, request("type", { name, offset, limit: FIELD_PAGE }).then((reply) => reply.info));
    }
    try {
      return await typeCache.get(key);
    } catch (err) {
      typeCache.delete(key);
      throw err;
    }
  }

  // -- the editor, variables and problems -----------------------------------------------
  // CodeMirror editors (static/editors.js): completion and formatting come from the kernel,
  // which holds the schema; its problems show inline at their line and column
  const editor = codeEditor(request, { language: "graphql", className: "apn-query",
    placeholder: "Tick fields in the tree, or type a query: { lists { totalCount } }",
    complete: (text, offset) => request("complete", { query: text, offset }),
    format: async (text) => (await request("format", { query: text })).query });
  editor.value = model.get("query") || "";
  // the variables' names and types, as the query declares them: the variables editor completes them
  const declared = () => {
    const properties = {};
    for (const m of editor.value.matchAll(/\$([_A-Za-z]\w*)\s*:\s*([^\s,)=]+)/g)) properties[m[1]] = { type: m[2] };
    return { type: "object", properties, required: [] };
  };
  const variablesArea = codeEditor(request, { language: "json", className: "apn-variables", placeholder: "{}", bodySchema: declared });
  const initialVariables = model.get("variables") || {};
  variablesArea.value = Object.keys(initialVariables).length ? JSON.stringify(initialVariables, null, 2) : "";
  const variablesStatus = h("span", { class: "apn-muted apn-json-status" });
  const validity = h("div", { class: "apn-valid apn-muted" }, "Tick fields in the tree to build a query.");
  const problemsList = h("ul", { class: "apn-problems" });
  const runButton = h("button", { class: "apn-button apn-primary apn-run", type: "button" }, "Run");
  const codeButton = h("button", { class: "apn-button apn-code-button", type: "button" }, "Copy as code");
  const formatButton = h("button", { class: "apn-button apn-format", type: "button", title: "Format the query (Shift-Alt-F)",
    onclick: () => editor.format().catch(fail) }, "Format");
  const outcome = h("span", { class: "apn-outcome" });
  const codeBox = h("div", { class: "apn-codebox", hidden: true });

  function variables() {
    const text = variablesArea.value.trim();
    if (!text) {
      variablesStatus.className = "apn-muted apn-json-status";
      variablesStatus.textContent = "";
      return {};
    }
    try {
      const value = JSON.parse(text);
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("must be a JSON object");
      variablesStatus.className = "apn-ok apn-json-status";
      variablesStatus.textContent = "✓ valid JSON";
      return value;
    } catch (err) {
      variablesStatus.className = "apn-bad apn-json-status";
      variablesStatus.textContent = `invalid JSON: ${err.message}`;
      return null;
    }
  }

  function save() {
    model.set("query", editor.value);
    const vars = variables();
    if (vars !== null) model.set("variables", vars);
    model.save_changes();
  }

  function showProblems(problems) {
    problemsList.replaceChildren(...problems.map((p) => h("li", null, p)));
    editor.setProblems(problems.map(problemAt).filter(Boolean));
    if (!editor.value.trim()) {
      validity.className = "apn-valid apn-muted";
      validity.textContent = "Tick fields in the tree to build a query.";
    } else if (problems.length) {
      validity.className = "apn-valid apn-bad";
      validity.textContent = `${problems.length} problem${problems.length === 1 ? "" : "s"} (checked against the schema; nothing was sent)`;
    } else {
      validity.className = "apn-valid apn-ok";
      validity.textContent = "✓ valid against the schema";
    }
  }

  function applySelection(sel) {
    selected = {
      fields: new Set(sel.fields.map((p) => JSON.stringify(p))),
      args: new Set(sel.args.map((p) => JSON.stringify(p))),
    };
    for (const box of el.querySelectorAll("input.apn-check")) {
      box.checked = (box.dataset.arg ? selected.args : selected.fields).has(box.dataset.key);
    }
  }

  // A validation answers for the text it was sent with: a newer validation, a tick, or an
  // edit since then makes its answer stale (it would untick what was just ticked).
  let validateSeq = 0;
  async function validate() {
    const seq = ++validateSeq;
    const vars = variables();
    const query = editor.value;
    const reply = await request("validate", { query, variables: vars || {}, root });
    if (seq !== validateSeq || editor.value !== query) return;
    const problems = vars === null ? [...reply.problems, "The variables are not valid JSON."] : reply.problems;
    showProblems(problems);
    applySelection(reply.selected);
  }
  const validateSoon = debounce(() => validate().catch(fail), 300);
  editor.addEventListener("input", () => {
    save();
    validateSoon();
  });
  variablesArea.addEventListener("input", () => {
    save();
    validateSoon();
  });

  // Ticks are applied one after another, each to the query the previous one returned:
  // two quick ticks sent together would each edit the same old text, and the second
  // answer would drop the first tick's field.
  let ticks = Promise.resolve();
  function toggle(path, arg, on, box) {
    const done = ticks.then(() => applyToggle(path, arg, on, box));
    ticks = done.catch(() => null);
    return done;
  }

  async function applyToggle(path, arg, on, box) {
    showError(errorBox, null);
    validateSoon.cancel();
    validateSeq++; // a pending validation is about the old text
    try {
      const reply = await request("toggle", { query: editor.value, variables: variables() || {}, root, path, arg, on });
      editor.value = reply.query;
      variablesArea.value = Object.keys(reply.variables).length ? JSON.stringify(reply.variables, null, 2) : "";
      save();
      showProblems(reply.problems);
      applySelection(reply.selected);
    } catch (err) {
      box.checked = !on;
      throw err;
    }
  }

  // -- docs ------------------------------------------------------------------------------
  const docs = h("div", { class: "apn-docs" }, h("div", { class: "apn-muted" }, "Click a field or a type name to read its documentation."));

  function typeLink(name, label = name) {
    return h("a", { class: "apn-typelink", href: "#", onclick: (event) => {
      event.preventDefault();
      showType(name).catch(fail);
    } }, label);
  }

  function argsTable(args) {
    return h("table", { class: "apn-table apn-args" }, h("tbody", null, args.map((a) => h("tr", null,
      h("td", null, h("code", null, a.name), a.required ? h("span", { class: "apn-required" }, "*") : null),
      h("td", null, h("code", null, a.type), a.default !== null ? h("span", { class: "apn-muted" }, ` = ${a.default}`) : null),
      h("td", null, a.description)))));
  }

  async function showType(name) {
    const info = await typePage(name);
    const parts = [h("h4", null, h("span", { class: "apn-kind" }, info.kind), " ", info.name)];
    if (info.description) parts.push(h("div", { class: "apn-note" }, info.description));
    if (info.interfaces.length) parts.push(h("div", null, "implements ", info.interfaces.map((n) => [typeLink(n), " "])));
    if (info.possible_types.length) parts.push(h("div", null, "one of: ", info.possible_types.map((n) => [typeLink(n), " "])));
    if (info.fields.length) {
      parts.push(h("table", { class: "apn-table" }, h("tbody", null, info.fields.map((f) => h("tr", null,
        h("td", null, h("code", { class: f.deprecated ? "apn-deprecated" : null }, f.name), f.args.length ? h("span", { class: "apn-muted" }, `(${f.args.map((a) => a.name).join(", ")})`) : null),
        h("td", null, typeLink(f.named, f.type)),
        h("td", null, f.description))))));
      if (info.field_count > info.fields.length) parts.push(h("div", { class: "apn-muted" }, `first ${info.fields.length} of ${info.field_count} fields`));
    }
    if (info.input_fields.length) {
      parts.push(h("table", { class: "apn-table" }, h("tbody", null, info.input_fields.map((f) => h("tr", null,
        h("td", null, h("code", null, f.name), f.required ? h("span", { class: "apn-required" }, "*") : null),
        h("td", null, typeLink(f.named, f.type), f.default !== null ? ` = ${f.default}` : ""),
        h("td", null, f.description))))));
    }
    if (info.enum_values.length) {
      parts.push(h("table", { class: "apn-table" }, h("tbody", null, info.enum_values.map((v) => h("tr", null,
        h("td", null, h("code", { class: v.deprecated ? "apn-deprecated" : null }, v.name)), h("td", null, v.description))))));
    }
    docs.replaceChildren(...parts);
  }

  function showField(owner, field) {
    docs.replaceChildren(...[
      h("h4", null, typeLink(owner), ".", field.name, ": ", typeLink(field.named, field.type)),
      field.deprecated ? h("div", { class: "apn-warn" }, `Deprecated: ${field.reason}`) : null,
      field.description ? h("div", { class: "apn-note" }, field.description) : null,
      field.args.length ? argsTable(field.args) : h("div", { class: "apn-muted" }, "no arguments"),
    ].filter(Boolean));
  }

  // -- the tree --------------------------------------------------------------------------
  const treeBox = h("div", { class: "apn-treebox apn-schema-tree" });

  function checkbox(path, arg) {
    const key = JSON.stringify(arg ? [...path, arg] : path);
    const box = h("input", { type: "checkbox", class: "apn-check", "data-key": key, "data-arg": arg ? "1" : null,
      title: arg ? `use argument ${arg} (as a variable)` : "select this field" });
    box.checked = (arg ? selected.args : selected.fields).has(key);
    box.addEventListener("click", (event) => event.stopPropagation());
    box.addEventListener("change", () => {
      toggle(path, arg || null, box.checked, box).then(() => {
        // a ticked object field opens, so its fields can be picked next
        const node = box.closest(".apn-node");
        if (box.checked && !arg && node && node._apn && node._apn.expandable && node._apn.kids.hidden) {
          return setOpen(node, true);
        }
        return null;
      }).catch(fail);
    });
    return box;
  }

  function node(row, state) {
    const kids = h("div", { class: "apn-children", hidden: true });
    const toggleMark = h("span", { class: "apn-toggle" }, state.expandable ? "▸" : "");
    row.prepend(toggleMark);
    const el = h("div", { class: "apn-node", "data-path": JSON.stringify(state.path || []) }, row, kids);
    el._apn = { ...state, kids, toggleMark, loaded: false };
    toggleMark.addEventListener("click", (event) => {
      event.stopPropagation();
      if (state.expandable) setOpen(el, kids.hidden).catch(fail);
    });
    return el;
  }

  async function setOpen(el, open) {
    const state = el._apn;
    state.kids.hidden = !open;
    state.toggleMark.textContent = open ? "▾" : "▸";
    if (open && !state.loaded) {
      state.loaded = true;
      await state.load(state.kids);
    }
  }

  function fieldNode(owner, field, parentPath) {
    const path = [...parentPath, field.name];
    const row = h("div", { class: "apn-row apn-field-row", tabindex: 0 },
      checkbox(path, null),
      h("span", { class: `apn-key${field.deprecated ? " apn-deprecated" : ""}` }, field.name),
      field.args.length ? h("span", { class: "apn-muted" }, `(${field.args.length})`) : null,
      h("span", { class: "apn-type" }, field.type));
    const expandable = field.composite || field.args.length > 0;
    const el = node(row, {
      path, expandable,
      load: async (kids) => {
        kids.append(...field.args.map((a) => argNode(a, path)));
        if (field.composite) await loadFields(field.named, path, kids);
      },
    });
    row.addEventListener("click", () => {
      showField(owner, field);
      if (expandable && el._apn.kids.hidden) setOpen(el, true).catch(fail);
    });
    return el;
  }

  function argNode(arg, fieldPath) {
    const row = h("div", { class: "apn-row apn-arg-row" },
      checkbox(fieldPath, arg.name),
      h("span", { class: "apn-kind" }, "arg"), h("span", null, arg.name), arg.required ? h("span", { class: "apn-required", title: "required" }, "*") : null,
      h("span", { class: "apn-type" }, arg.type + (arg.default !== null ? ` = ${arg.default}` : "")));
    row.title = arg.description || arg.type;
    return node(row, { path: fieldPath, expandable: false });
  }

  function fragmentNode(typeName, parentPath) {
    const path = [...parentPath, `... on ${typeName}`];
    const row = h("div", { class: "apn-row apn-fragment-row" }, h("span", { class: "apn-muted" }, "... on "), h("span", { class: "apn-key" }, typeName));
    const el = node(row, { path, expandable: true, load: (kids) => loadFields(typeName, path, kids) });
    row.addEventListener("click", () => {
      showType(typeName).catch(fail);
      if (el._apn.kids.hidden) setOpen(el, true).catch(fail);
    });
    return el;
  }

  async function loadFields(typeName, path, kids, offset = 0) {
    const info = await typePage(typeName, offset);
    kids.querySelectorAll(":scope > .apn-more").forEach((b) => b.remove());
    kids.append(...info.fields.map((f) => fieldNode(typeName, f, path)));
    const loaded = offset + info.fields.length;
    if (loaded < info.field_count) {
      kids.append(h("button", { class: "apn-more", type: "button", onclick: () => loadFields(typeName, path, kids, loaded).catch(fail) },
        `show ${Math.min(FIELD_PAGE, info.field_count - loaded)} more (${(info.field_count - loaded).toLocaleString()} left)`));
    }
    if (offset === 0) kids.append(...info.possible_types.map((t) => fragmentNode(t, path)));
  }

  async function showRoot() {
    const typeName = summary.roots[root];
    const top = h("div", { class: "apn-tree" });
    treeBox.replaceChildren(top);
    if (!typeName) return;
    await loadFields(typeName, [], top);
  }

  // -- search and the type list --------------------------------------------------------------
  const searchInput = h("input", { class: "apn-search", type: "search", placeholder: "Search types, fields and descriptions…" });
  const searchInfo = h("span", { class: "apn-muted" });
  const results = h("div", { class: "apn-results", hidden: true });
  let searchSeq = 0;
  async function search() {
    const text = searchInput.value.trim();
    const seq = ++searchSeq;
    if (!text) {
      results.hidden = true;
      searchInfo.textContent = "";
      results.dataset.query = "";
      return;
    }
    const reply = await request("search", { query: text, limit: 100 });
    if (seq !== searchSeq) return;
    results.dataset.query = text; // which search the list shows
    searchInfo.textContent = `${reply.matches.length}${reply.complete ? "" : "+"} match${reply.matches.length === 1 ? "" : "es"}`;
    results.hidden = !reply.matches.length;
    results.replaceChildren(...reply.matches.map((m) => h("div", { class: "apn-result", tabindex: 0,
      onclick: async () => {
        try {
          if (m.field === null) return await showType(m.type);
          const info = await typePage(m.type);
          const field = info.fields.find((f) => f.name === m.field);
          return field ? showField(m.type, field) : await showType(m.type);
        } catch (err) {
          return fail(err);
        }
      } },
      h("span", { class: "apn-kind" }, m.kind), " ", h("code", null, m.field ? `${m.type}.${m.field}` : m.type), " ",
      h("span", { class: "apn-muted" }, m.text))));
  }
  // the kernel answers a search from an index in about a millisecond: ask at most once a
  // frame (replies to older searches are dropped by their sequence number)
  let searchFrame = 0;
  searchInput.addEventListener("input", () => {
    if (!searchFrame) searchFrame = requestAnimationFrame(() => { searchFrame = 0; search().catch(fail); });
  });

  const typeFilter = h("input", { class: "apn-search", type: "search", placeholder: "Filter type names…" });
  const typeList = h("div", { class: "apn-results apn-typelist" });
  function drawTypes() {
    const text = typeFilter.value.trim().toLowerCase();
    const rows = [];
    let count = 0;
    for (const [kind, names] of Object.entries(kinds)) {
      for (const name of names) {
        if (text && !name.toLowerCase().includes(text)) continue;
        count++;
        if (rows.length < TYPE_LIST) rows.push(h("div", { class: "apn-result", onclick: () => showType(name).catch(fail) }, h("span", { class: "apn-kind" }, kind), " ", name));
      }
    }
    if (count > rows.length) rows.push(h("div", { class: "apn-muted" }, `… ${(count - rows.length).toLocaleString()} more: filter to narrow`));
    typeList.replaceChildren(...rows);
  }
  typeFilter.addEventListener("input", debounce(drawTypes, 150));
  const typesBox = h("details", { class: "apn-types" }, h("summary", null, `All ${summary.types.toLocaleString()} types`), typeFilter, typeList);
  typesBox.addEventListener("toggle", () => typesBox.open && !typeList.childElementCount && drawTypes());

  // -- run and code ----------------------------------------------------------------------
  async function run() {
    showError(errorBox, null);
    const vars = variables();
    if (vars === null) throw new Error("The variables are not valid JSON: fix them first.");
    runButton.disabled = true;
    outcome.className = "apn-outcome apn-muted";
    outcome.textContent = "running…";
    try {
      const reply = await request("run", { query: editor.value, variables: vars, root });
      outcome.className = `apn-outcome ${statusClass(reply.status, reply.ok)}`;
      outcome.textContent = reply.summary;
      if (reply.error) showError(errorBox, reply.error);
    } catch (err) {
      outcome.textContent = "";
      throw err;
    } finally {
      runButton.disabled = false;
    }
  }
  async function code() {
    showError(errorBox, null);
    const reply = await request("code", { query: editor.value, variables: variables() || {}, root });
    codeBox.hidden = false;
    codeBox.replaceChildren(h("div", { class: "apn-toolbar" }, h("b", null, "Python"), copyButton(() => reply.code)),
      h("pre", { class: "apn-pre apn-code" }, reply.code));
  }
  runButton.addEventListener("click", () => run().catch(fail));
  codeButton.addEventListener("click", () => code().catch(fail));

  // -- layout --------------------------------------------------------------------------
  const segment = h("span", { class: "apn-segment" });
  for (const kind of ["query", "mutation"]) {
    if (!summary.roots[kind]) continue;
    const button = h("button", { class: "apn-button", type: "button", "data-root": kind, "aria-pressed": String(kind === root) }, summary.roots[kind]);
    button.addEventListener("click", () => {
      root = kind;
      for (const b of segment.children) b.setAttribute("aria-pressed", String(b.dataset.root === root));
      showRoot().then(validate).catch(fail);
    });
    segment.append(button);
  }
  // a schema that breaks strict validation loads anyway: say what is wrong with it
  const schemaProblems = summary.problems || [];
  const problemsBox = schemaProblems.length
    ? h("details", { class: "apn-schema-problems" },
      h("summary", null, `This schema breaks ${summary.problem_count.toLocaleString()} rule(s) of the GraphQL spec; it is loaded anyway and queries are still checked against it.`),
      h("ul", null, ...schemaProblems.map((text) => h("li", null, h("code", null, text)))))
    : null;
  el.append(h("div", { class: "apn apn-explorer apn-schema" },
    h("div", { class: "apn-status" }, h("b", null, "GraphQL"), summary.url ? h("code", { class: "apn-url" }, summary.url) : null,
      h("span", { class: "apn-muted" }, `${summary.types.toLocaleString()} types`)),
    problemsBox,
    h("div", { class: "apn-toolbar" }, segment, searchInput, searchInfo),
    results,
    h("div", { class: "apn-columns" },
      h("div", { class: "apn-pane" }, treeBox, typesBox),
      h("div", { class: "apn-pane" },
        editor.el,
        h("h4", null, "Variables ", variablesStatus), variablesArea.el,
        validity, problemsList,
        h("div", { class: "apn-toolbar apn-actions" }, runButton, codeButton, formatButton, outcome),
        errorBox, codeBox)),
    docs));
  showRoot().catch(fail);
  if (editor.value.trim()) validate().catch(fail);
  return () => request.dispose();
}

export default { render };
