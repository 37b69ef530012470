// apinotebook WsdlExplorer: services → ports → operations; a form generated from the picked
// operation's input types (asked for when it is picked); a live, masked preview of the request
// envelope built by the kernel; Run and Copy as code. The Inspector is a separate widget below.

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

const BOOLEAN_TYPES = new Set(["boolean"]);

/**
 * The form of one parameter. Returns {el, value, merge}: value() gives what the parameter
 * contributes (undefined: left out); merge means the value's keys belong to the parent (a
 * choice contributes its chosen alternative by name).
 */
function paramControl(param, changed) {
  if (param.kind === "any") {
    return { el: h("div", { class: "apn-muted apn-form-row" }, `${param.name}: xsd:any (pass it with client.call)`), value: () => undefined };
  }
  if (param.kind === "choice") return choiceControl(param, changed);
  if (param.repeated) return repeatedControl(param, changed);
  return single(param, changed, param.optional);
}

function label(param) {
  return h("span", { class: "apn-param-label", title: `${param.type}${param.base && param.base !== param.type ? ` (${param.base})` : ""}` },
    h("span", null, param.kind === "attribute" ? `@${param.name}` : param.name),
    param.optional ? null : h("span", { class: "apn-required", title: "required" }, "*"),
    " ", h("span", { class: "apn-muted apn-type" }, param.enum.length ? param.type : param.base || param.type));
}

/** One occurrence: a fieldset for a complex type, else a row with an input or a select. */
function single(param, changed, optional) {
  if (param.children.length) {
    const include = optional ? h("input", { type: "checkbox", class: "apn-include", title: `include ${param.name}` }) : null;
    const legend = h("legend", null, include, param.name, " ", h("span", { class: "apn-muted apn-type" }, param.type),
      optional ? h("span", { class: "apn-muted" }, " (optional)") : null);
    const fieldset = h("fieldset", { class: `apn-fieldset${optional ? " apn-off" : ""}`, "data-param": param.name }, legend);
    const parts = param.children.map((child) => {
      const control = paramControl(child, changed);
      fieldset.append(control.el);
      return [child, control];
    });
    if (include) {
      include.addEventListener("change", () => {
        fieldset.classList.toggle("apn-off", !include.checked);
        changed();
      });
    }
    const value = () => {
      if (include && !include.checked) return undefined;
      const out = {};
      for (const [child, control] of parts) {
        const v = control.value();
        if (v === undefined) continue;
        if (control.merge) Object.assign(out, v);
        else out[child.name] = v;
      }
      return out;
    };
    return { el: fieldset, value };
  }
  let input;
  const options = param.enum.length ? param.enum : BOOLEAN_TYPES.has(param.base) ? ["true", "false"] : null;
  if (options) {
    input = h("select", { class: "apn-input apn-param-input" }, h("option", { value: "" }, "—"), options.map((v) => h("option", { value: v }, v)));
    if (param.default !== null && !optional) input.value = param.default;
  } else {
    input = h("input", { class: "apn-input apn-param-input", placeholder: param.default !== null ? `default ${param.default}` : param.base || param.type });
  }
  input.dataset.param = param.name;
  const include = optional ? h("input", { type: "checkbox", class: "apn-include", title: `include ${param.name}` }) : null;
  input.addEventListener("input", () => {
    if (include) include.checked = input.value !== "";
    changed();
  });
  input.addEventListener("change", () => {
    if (include) include.checked = input.value !== "";
    changed();
  });
  if (include) include.addEventListener("change", changed);
  const row = h("div", { class: "apn-form-row apn-param" }, h("span", null, include, label(param)), input);
  return { el: row, value: () => (include && !include.checked ? undefined : input.value) };
}

function repeatedControl(param, changed) {
  const items = h("div", { class: "apn-items" });
  const entries = [];
  const add = h("button", { class: "apn-button apn-add", type: "button" }, `+ add ${param.name}`);
  const box = h("div", { class: "apn-repeat", "data-param": param.name },
    h("div", { class: "apn-muted" }, label(param), " (repeated) ", add), items);
  function addItem() {
    const control = single({ ...param, repeated: false }, changed, false);
    const entry = { control };
    const remove = h("button", { class: "apn-button apn-remove", type: "button", title: `remove this ${param.name}` }, "×");
    const el = h("div", { class: "apn-item" }, control.el, remove);
    remove.addEventListener("click", () => {
      entries.splice(entries.indexOf(entry), 1);
      el.remove();
      changed();
    });
    entries.push(entry);
    items.append(el);
  }
  add.addEventListener("click", () => {
    addItem();
    changed();
  });
  if (!param.optional) addItem();
  return {
    el: box,
    value: () => {
      const values = entries.map((e) => e.control.value()).filter((v) => v !== undefined && v !== "");
      return values.length ? values : undefined;
    },
  };
}

function choiceControl(param, changed) {
  const select = h("select", { class: "apn-input apn-choice" }, h("option", { value: "" }, param.optional ? "— none —" : "— choose —"),
    param.children.map((c) => h("option", { value: c.name }, c.name)));
  const slot = h("div", { class: "apn-choice-slot" });
  let current = null;
  select.addEventListener("change", () => {
    const child = param.children.find((c) => c.name === select.value);
    current = child ? [child, paramControl({ ...child, optional: false }, changed)] : null;
    slot.replaceChildren(current ? current[1].el : "");
    changed();
  });
  const el = h("div", { class: "apn-fieldset apn-choice-box" },
    h("div", { class: "apn-form-row apn-param" }, h("span", { class: "apn-param-label" }, "choice of ", param.children.map((c) => c.name).join(" | ")), select), slot);
  return {
    el,
    merge: true,
    value: () => {
      if (!current) return undefined;
      const v = current[1].value();
      return v === undefined ? undefined : { [current[0].name]: v };
    },
  };
}

function render({ model, el }) {
  const request = makeRequester(model);
  const summary = model.get("summary");
  const services = model.get("services");
  const errorBox = h("div", { class: "apn-error", hidden: true });
  const fail = (err) => showError(errorBox, err);
  let target = null; // {service, port, name}
  let controls = [];

  // -- the operation list ------------------------------------------------------------------
  const filter = h("input", { class: "apn-search", type: "search", placeholder: `Filter ${summary.operations} operations…` });
  const list = h("div", { class: "apn-ops" });
  const hay = new WeakMap(); // operation -> its lower-cased name and doc, made once
  const haystack = (op) => {
    let text = hay.get(op);
    if (text === undefined) hay.set(op, (text = `${op.name} ${op.doc}`.toLowerCase()));
    return text;
  };
  function drawList() {
    const text = filter.value.trim().toLowerCase();
    const rows = [];
    for (const service of services) {
      if (service.service) rows.push(h("div", { class: "apn-row apn-service-row" }, h("span", { class: "apn-kind" }, "service"), " ", h("b", null, service.service)));
      for (const port of service.ports) {
        const ops = port.operations.filter((op) => !text || haystack(op).includes(text));
        rows.push(h("div", { class: `apn-row apn-port-row${port.active ? "" : " apn-inactive"}`, title: port.address },
          h("span", { class: "apn-kind" }, "port"), " ", port.port || "(binding)", " ",
          h("span", { class: "apn-muted" }, `SOAP ${port.soap_version} · ${port.operations.length} operations`)));
        for (const op of ops) {
          const selected = target && target.service === service.service && target.port === port.port && target.name === op.name;
          rows.push(h("div", { class: `apn-row apn-op-row${selected ? " apn-selected" : ""}`, tabindex: 0, title: op.doc,
            "data-op": op.name, "data-port": port.port,
            onclick: () => pick(service.service, port.port, op.name).catch(fail) },
            h("span", { class: "apn-key" }, op.name), op.doc ? h("span", { class: "apn-muted apn-preview" }, op.doc) : null));
        }
      }
    }
    list.replaceChildren(...rows);
    list.dataset.query = text; // which filter the list shows
  }
  // filtering is local and cheap: redraw once per frame, not after a pause in typing
  let frame = 0;
  filter.addEventListener("input", () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; drawList(); });
  });

  // -- the operation's form and the envelope -----------------------------------------------
  const head = h("div", { class: "apn-opinfo", hidden: true });
  const form = h("div", { class: "apn-form" }, h("div", { class: "apn-muted" }, "Pick an operation on the left."));
  const envelope = h("pre", { class: "apn-pre apn-envelope" });
  const problem = h("div", { class: "apn-error apn-problem", hidden: true });
  const previewBox = h("div", { class: "apn-section", hidden: true }, h("h4", null, "Request envelope ", h("span", { class: "apn-muted" }, "(built in the kernel, secrets masked)")), problem, envelope);
  const runButton = h("button", { class: "apn-button apn-primary apn-run", type: "button", disabled: true }, "Run");
  const codeButton = h("button", { class: "apn-button apn-code-button", type: "button", disabled: true }, "Copy as code");
  const outcome = h("span", { class: "apn-outcome" });
  const codeBox = h("div", { class: "apn-codebox", hidden: true });

  function values() {
    const out = {};
    for (const [param, control] of controls) {
      const v = control.value();
      if (v === undefined) continue;
      if (control.merge) Object.assign(out, v);
      else out[param.name] = v;
    }
    return out;
  }

  let previewSeq = 0;
  async function preview() {
    if (!target) return;
    const seq = ++previewSeq;
    const reply = await request("preview", { ...target, values: values() });
    if (seq !== previewSeq) return;
    problem.textContent = reply.problem;
    problem.hidden = !reply.problem;
    envelope.textContent = reply.envelope;
    envelope.hidden = !reply.envelope;
  }
  const changed = debounce(() => preview().catch(fail), 250);

  async function pick(service, port, name) {
    showError(errorBox, null);
    const reply = await request("operation", { service, port, name });
    const f = reply.form;
    target = { service, port, name };
    drawList();
    head.hidden = false;
    head.replaceChildren(...[
      h("div", null, h("b", { class: "apn-op-name" }, f.name), h("span", { class: "apn-muted" }, ` · ${[service, port].filter(Boolean).join("/")} · SOAP ${f.soap_version} · ${f.style}`)),
      h("code", { class: "apn-signature" }, f.signature),
      f.documentation ? h("div", { class: "apn-note" }, f.documentation) : null,
      f.soap_action ? h("div", { class: "apn-muted" }, `SOAPAction: ${f.soap_action}`) : null,
      h("details", null, h("summary", null, "result type"), h("pre", { class: "apn-pre" }, f.output)),
    ].filter(Boolean));
    controls = f.input.map((param) => [param, paramControl(param, changed)]);
    form.replaceChildren(...(controls.length ? controls.map(([, c]) => c.el) : [h("div", { class: "apn-muted" }, "This operation takes no parameters.")]));
    previewBox.hidden = false;
    runButton.disabled = false;
    codeButton.disabled = false;
    codeBox.hidden = true;
    outcome.textContent = "";
    await preview();
  }

  async function run() {
    showError(errorBox, null);
    runButton.disabled = true;
    outcome.className = "apn-outcome apn-muted";
    outcome.textContent = "calling…";
    try {
      const reply = await request("run", { ...target, values: values() });
      outcome.className = `apn-outcome ${statusClass(reply.status, reply.ok)}`;
      outcome.textContent = reply.fault ? `${reply.summary} · Fault ${reply.fault}` : reply.summary;
      if (reply.error && !reply.fault) showError(errorBox, reply.error);
    } catch (err) {
      outcome.textContent = "";
      throw err;
    } finally {
      runButton.disabled = false;
    }
  }
  async function code() {
    showError(errorBox, null);
    const reply = await request("code", { ...target, values: values() });
    codeBox.hidden = false;
    codeBox.replaceChildren(h("div", { class: "apn-toolbar" }, h("b", null, "Python"), copyButton(() => reply.code)),
      h("pre", { class: "apn-pre apn-code" }, reply.code));
  }
  runButton.addEventListener("click", () => run().catch(fail));
  codeButton.addEventListener("click", () => code().catch(fail));

  const where = [summary.service, summary.port].filter(Boolean).join("/") || "binding";
  el.append(h("div", { class: "apn apn-explorer apn-wsdl" },
    h("div", { class: "apn-status" }, h("b", null, "SOAP"), h("span", null, where),
      h("code", { class: "apn-url", title: summary.wsdl }, summary.address || "(no address)"),
      h("span", { class: "apn-muted" }, `SOAP ${summary.soap_version} · ${summary.operations} operations`)),
    summary.documentation ? h("div", { class: "apn-note" }, summary.documentation) : null,
    h("div", { class: "apn-columns" },
      h("div", { class: "apn-pane" }, filter, list),
      h("div", { class: "apn-pane" }, head, form,
        h("div", { class: "apn-toolbar apn-actions" }, runButton, codeButton, outcome),
        errorBox, codeBox, previewBox))));
  drawList();
  if (summary.operation) pick(summary.service, summary.port, summary.operation).catch(fail);
  return () => request.dispose();
}

export default { render };
