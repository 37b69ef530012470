// apinotebook RequestBuilder: a form for one REST request. For an OpenAPI client a picker
// (searched in the kernel, a page at a time) fills it from an operation. Send and Copy as code
// ask the kernel; the Inspector of the exchange is a separate widget shown below this one.

const PICKER_PAGE = 50;

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

/** Where a JSON.parse error is, as "line L, column C" when the engine gives a position. */
function jsonProblem(text) {
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    const message = String(err.message || err);
    const match = /position (\d+)/.exec(message);
    if (!match || /line \d+/.test(message)) return message;
    const before = text.slice(0, Number(match[1]));
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    return `${message} (line ${line}, column ${column})`;
  }
}

/** A list of [name, value] rows with add and remove buttons. */
function rowsEditor(title, namePlaceholder, valuePlaceholder) {
  const list = h("div", { class: "apn-rows" });
  const add = h("button", { class: "apn-button apn-add", type: "button" }, "+ add");
  const el = h("div", { class: "apn-section" }, h("h4", null, title, " ", add), list);
  function addRow(name = "", value = "") {
    const nameInput = h("input", { class: "apn-input apn-row-name", placeholder: namePlaceholder, value: name });
    const valueInput = h("input", { class: "apn-input apn-row-value", placeholder: valuePlaceholder, value: value });
    const row = h("div", { class: "apn-form-row" }, nameInput, valueInput);
    row.append(h("button", { class: "apn-button apn-remove", type: "button", title: "Remove", onclick: () => row.remove() }, "×"));
    list.append(row);
    return row;
  }
  add.addEventListener("click", () => addRow().querySelector("input").focus());
  return {
    el,
    addRow,
    rows: () =>
      [...list.children]
        .map((row) => [...row.querySelectorAll("input")].map((input) => input.value))
        .filter(([name]) => name.trim()),
    clear: () => list.replaceChildren(),
  };
}

/** The control for one parameter: a select for enums and booleans, else a text input. */
function parameterControl(p) {
  const options = p.enum.length ? p.enum : p.kind === "boolean" ? ["true", "false"] : null;
  let control;
  if (options) {
    control = h("select", { class: "apn-input apn-param-input" }, h("option", { value: "" }, p.required ? "— choose —" : "—"),
      options.map((v) => h("option", { value: v }, v)));
    if (p.required && p.default !== null) control.value = p.default;
  } else {
    const hint = p.example ?? p.default ?? (p.kind === "array" ? "a,b,c" : p.type);
    control = h("input", { class: "apn-input apn-param-input", placeholder: hint, type: p.secret ? "password" : "text" });
  }
  control.dataset.name = p.name;
  control.dataset.in = p.in;
  return control;
}

function render({ model, el }) {
  const request = makeRequester(model);
  const info = model.get("info");
  const errorBox = h("div", { class: "apn-error", hidden: true });
  const fail = (err) => showError(errorBox, err);
  let current = null; // the operation's form, or null for a custom request

  // -- the request line, parameters, headers and body --------------------------------
  const methodSelect = h("select", { class: "apn-view apn-method-select", title: "Method" },
    info.methods.map((m) => h("option", { value: m }, m)));
  const pathInput = h("input", {
    class: "apn-input apn-path",
    placeholder: info.base_url ? "/path (under the base URL) or a full URL" : "https://api.example/path",
  });
  const custom = h("button", { class: "apn-button apn-custom", type: "button", hidden: true, title: "Edit method and path freely" },
    "custom request");
  const opInfo = h("div", { class: "apn-opinfo", hidden: true });
  const paramsBox = h("div", { class: "apn-params" });
  const queryRows = rowsEditor("Query parameters", "name", "value");
  const headerRows = rowsEditor("Headers", "Header-Name", "value");
  const bodyLabel = h("span", null, "Body (JSON)");
  const bodyStatus = h("span", { class: "apn-muted apn-json-status" }, "no body");
  // a CodeMirror JSON editor (static/editors.js): property names of the operation's request
  // schema complete as you type, JSON errors show inline, Shift-Alt-F formats
  let bodyKeys = null;
  const bodyArea = codeEditor(request, { language: "json", className: "apn-body", bodySchema: () => bodyKeys,
    placeholder: '{"name": "value"}  — leave empty to send no body' });
  const sendButton = h("button", { class: "apn-button apn-primary apn-send", type: "button" }, "Send");
  const codeButton = h("button", { class: "apn-button apn-code-button", type: "button" }, "Copy as code");
  const outcome = h("span", { class: "apn-outcome" });
  const codeBox = h("div", { class: "apn-codebox", hidden: true });

  function checkBody() {
    const text = bodyArea.value;
    if (!text.trim()) {
      bodyStatus.className = "apn-muted apn-json-status";
      bodyStatus.textContent = "no body";
      return true;
    }
    const problem = jsonProblem(text);
    bodyStatus.className = `apn-json-status ${problem ? "apn-bad" : "apn-ok"}`;
    bodyStatus.textContent = problem ? `invalid JSON: ${problem}` : "✓ valid JSON";
    return !problem;
  }
  bodyArea.addEventListener("input", checkBody);

  // -- the operation picker (OpenAPI clients) -------------------------------------------
  const pickerInput = h("input", { class: "apn-search apn-picker-input", type: "search",
    placeholder: `Search ${info.operations.toLocaleString()} operations: id, path, summary…` });
  const pickerCount = h("span", { class: "apn-muted" });
  // the list says which search it shows (data-query), and aria-busy while a newer one is
  // on its way: stale replies are dropped, so the list never shows an older search
  const dropdown = h("div", { class: "apn-results apn-dropdown", hidden: true });
  let searchSeq = 0;
  let shown = [];
  let highlighted = 0;

  function highlight(i) {
    highlighted = Math.max(0, Math.min(i, shown.length - 1));
    [...dropdown.querySelectorAll(".apn-result")].forEach((node, j) => node.classList.toggle("apn-selected", j === highlighted));
  }

  async function search(offset = 0) {
    const seq = ++searchSeq;
    const query = pickerInput.value;
    dropdown.setAttribute("aria-busy", "true");
    let reply;
    try {
      reply = await request("operations", { query, offset, limit: PICKER_PAGE });
    } finally {
      if (seq === searchSeq) dropdown.removeAttribute("aria-busy");
    }
    if (seq !== searchSeq) return; // a newer search is on its way, or the picker closed
    dropdown.dataset.query = query;
    if (offset === 0) {
      shown = [];
      dropdown.replaceChildren();
    }
    dropdown.querySelectorAll(".apn-more").forEach((b) => b.remove());
    for (const op of reply.items) {
      shown.push(op);
      dropdown.append(h("div", { class: `apn-result${op.deprecated ? " apn-deprecated" : ""}`, tabindex: 0, "data-op": op.id,
        onclick: () => pick(op.id).catch(fail) },
        h("span", { class: `apn-verb apn-verb-${op.method.toLowerCase()}` }, op.method), " ",
        h("code", null, op.path), " ", h("b", null, op.id), " ", h("span", { class: "apn-muted" }, op.summary)));
    }
    const loaded = reply.offset + reply.items.length;
    if (loaded < reply.matched) {
      dropdown.append(h("button", { class: "apn-more", type: "button", onclick: () => search(loaded).catch(fail) },
        `show more (${(reply.matched - loaded).toLocaleString()} left)`));
    }
    pickerCount.textContent = pickerInput.value.trim()
      ? `${reply.matched.toLocaleString()} of ${reply.total.toLocaleString()} match`
      : `${reply.total.toLocaleString()} operations`;
    dropdown.hidden = shown.length === 0;
    if (offset === 0) highlight(0);
  }
  const searchSoon = debounce(() => search().catch(fail), 150);
  pickerInput.addEventListener("input", searchSoon);
  pickerInput.addEventListener("focus", () => search().catch(fail));
  pickerInput.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") highlight(highlighted + 1);
    else if (event.key === "ArrowUp") highlight(highlighted - 1);
    else if (event.key === "Escape") dropdown.hidden = true;
    else if (event.key === "Enter" && shown[highlighted]) pick(shown[highlighted].id).catch(fail);
    else return;
    event.preventDefault();
  });

  function section(title, children) {
    return children.length ? h("div", { class: "apn-section" }, h("h4", null, title), children) : null;
  }

  function parameterRow(p) {
    const control = parameterControl(p);
    const label = h("label", { class: "apn-param-label", title: p.description || p.type },
      h("span", { class: p.deprecated ? "apn-deprecated" : null }, p.name),
      p.required ? h("span", { class: "apn-required", title: "required" }, "*") : null,
      " ", h("span", { class: "apn-muted apn-type" }, p.type));
    return h("div", { class: "apn-form-row apn-param", "data-param": p.name }, label, control,
      p.description ? h("span", { class: "apn-muted apn-param-doc" }, p.description) : null);
  }

  function closePicker() {
    searchSoon.cancel();
    searchSeq++; // a search still on its way must not reopen the list
    dropdown.removeAttribute("aria-busy");
    dropdown.hidden = true;
  }
  // Leaving the search box closes the list, after a grace period that lets a click on a
  // result land first. Coming back within it (a new search right after a pick) cancels it.
  let blurTimer = null;
  pickerInput.addEventListener("blur", () => {
    clearTimeout(blurTimer);
    blurTimer = setTimeout(() => {
      const active = document.activeElement;
      if (active !== pickerInput && !dropdown.contains(active)) closePicker();
    }, 200);
  });
  pickerInput.addEventListener("focus", () => clearTimeout(blurTimer));

  async function pick(id) {
    showError(errorBox, null);
    closePicker();
    pickerInput.value = ""; // now, not when the form arrives: a new search may be typed by then
    const form = (await request("operation", { operation: id })).operation;
    current = form;
    methodSelect.value = form.method;
    methodSelect.disabled = true;
    pathInput.value = form.path;
    pathInput.readOnly = true;
    custom.hidden = false;
    opInfo.hidden = false;
    opInfo.replaceChildren(...[
      h("div", null, h("span", { class: `apn-verb apn-verb-${form.method.toLowerCase()}` }, form.method), " ",
        h("b", { class: "apn-op-id" }, form.id), form.deprecated ? h("span", { class: "apn-badge apn-warn" }, "deprecated") : null,
        form.summary ? h("span", { class: "apn-muted" }, ` — ${form.summary}`) : null),
      h("code", { class: "apn-signature" }, form.signature),
      form.description && form.description !== form.summary
        ? h("details", null, h("summary", null, "description"), h("div", { class: "apn-note" }, form.description)) : null,
    ].filter(Boolean));
    const by = (where) => form.parameters.filter((p) => p.in === where).map(parameterRow);
    paramsBox.replaceChildren(...[
      section("Path parameters", by("path")),
      section("Query parameters", by("query")),
      section("Header parameters", by("header")),
    ].filter(Boolean));
    queryRows.el.hidden = true;
    queryRows.clear();
    headerRows.clear();
    headerRows.el.querySelector("h4").firstChild.textContent = "Extra headers ";
    if (form.body) {
      bodyLabel.textContent = `Body (${form.body.content_type || "JSON"}${form.body.required ? ", required" : ""}): ${form.body.type}`;
      bodyKeys = form.body.keys || null;
      bodyArea.value = form.body.skeleton;
    } else {
      bodyLabel.textContent = "Body: this operation takes none";
      bodyKeys = null;
      bodyArea.value = "";
    }
    checkBody();
    codeBox.hidden = true;
  }

  /** Leave the operation: keep its values as a plain request that can be edited freely. */
  function leaveOperation() {
    if (!current) return;
    let path = current.path;
    for (const control of paramsBox.querySelectorAll(".apn-param-input")) {
      const value = control.value;
      if (!value) continue;
      if (control.dataset.in === "path") path = path.replace(`{${control.dataset.name}}`, encodeURIComponent(value));
      else if (control.dataset.in === "query") queryRows.addRow(control.dataset.name, value);
      else headerRows.addRow(control.dataset.name, value);
    }
    pathInput.value = path;
    current = null;
    methodSelect.disabled = false;
    pathInput.readOnly = false;
    custom.hidden = true;
    opInfo.hidden = true;
    paramsBox.replaceChildren();
    queryRows.el.hidden = false;
    headerRows.el.querySelector("h4").firstChild.textContent = "Headers ";
    bodyLabel.textContent = "Body (JSON)";
  }
  custom.addEventListener("click", leaveOperation);

  function formContent() {
    const content = {
      operation: current ? current.id : null,
      method: methodSelect.value,
      path: pathInput.value,
      headers: headerRows.rows(),
      body: bodyArea.value,
    };
    if (current) {
      content.params = [...paramsBox.querySelectorAll(".apn-param-input")]
        .filter((control) => control.value !== "")
        .map((control) => [control.dataset.in, control.dataset.name, control.value]);
    } else {
      content.query = queryRows.rows();
    }
    return content;
  }

  async function send() {
    showError(errorBox, null);
    if (!checkBody()) throw new Error(`The body is not valid JSON: ${bodyStatus.textContent.replace(/^invalid JSON: /, "")}`);
    sendButton.disabled = true;
    outcome.className = "apn-outcome apn-muted";
    outcome.textContent = "sending…";
    try {
      const reply = await request("send", formContent());
      outcome.className = `apn-outcome ${statusClass(reply.status, reply.ok)}`;
      outcome.textContent = reply.summary;
      if (reply.error) showError(errorBox, reply.error);
    } catch (err) {
      outcome.textContent = "";
      throw err;
    } finally {
      sendButton.disabled = false;
    }
  }

  async function code() {
    showError(errorBox, null);
    const reply = await request("code", formContent());
    codeBox.hidden = false;
    codeBox.replaceChildren(h("div", { class: "apn-toolbar" }, h("b", null, "Python"), copyButton(() => reply.code)),
      h("pre", { class: "apn-pre apn-code" }, reply.code));
    try {
      await navigator.clipboard.writeText(reply.code);
    } catch (_err) {
      // no clipboard access (an insecure origin, a headless browser): the Copy button is there
    }
  }

  sendButton.addEventListener("click", () => send().catch(fail));
  codeButton.addEventListener("click", () => code().catch(fail));

  const title = info.title || (info.kind === "openapi" ? "OpenAPI" : "REST");
  const root = h("div", { class: "apn apn-explorer apn-builder" },
    h("div", { class: "apn-status" }, h("b", null, title), h("code", { class: "apn-url" }, info.base_url || "(no base URL)")),
    info.kind === "openapi" ? h("div", { class: "apn-picker" }, h("div", { class: "apn-toolbar" }, pickerInput, pickerCount), dropdown) : null,
    opInfo,
    h("div", { class: "apn-request-line" }, methodSelect, pathInput, custom),
    paramsBox,
    queryRows.el,
    headerRows.el,
    h("div", { class: "apn-section" }, h("h4", null, bodyLabel, " ", bodyStatus), bodyArea.el),
    h("div", { class: "apn-toolbar apn-actions" }, sendButton, codeButton, outcome),
    errorBox,
    codeBox,
  );
  el.append(root);
  if (info.operation) pick(info.operation).catch(fail);
  return () => request.dispose();
}

export default { render };
