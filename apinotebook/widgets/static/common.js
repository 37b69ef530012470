// apinotebook widgets: helpers shared by every widget's module (prepended to it by
// apinotebook.widgets._base.esm). Response data is untrusted: it only ever reaches the
// page as text (textContent), never as HTML.

/** Create an element: h("div", {class: "x", onclick: f}, "text", child, [more]). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Request/reply over the widget's custom messages. Each request gets an id; the
 * kernel answers with the same id and type, or {type: "error", id, message}.
 * Several views of one model share the messages: ids are unique per view.
 */
function makeRequester(model) {
  const pending = new Map();
  const prefix = Math.random().toString(36).slice(2, 10);
  let counter = 0;
  const listener = (msg) => {
    if (!msg || typeof msg !== "object" || !pending.has(msg.id)) return;
    const { resolve, reject, timer } = pending.get(msg.id);
    clearTimeout(timer);
    pending.delete(msg.id);
    if (msg.type === "error") reject(new Error(msg.message));
    else resolve(msg);
  };
  model.on("msg:custom", listener);
  const request = (type, payload = {}, timeoutMs = 120000) =>
    new Promise((resolve, reject) => {
      const id = `${prefix}-${++counter}`;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`The kernel did not answer (${type}). Is it still running?`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      model.send({ ...payload, type, id });
    });
  request.dispose = () => {
    model.off("msg:custom", listener);
    for (const { timer } of pending.values()) clearTimeout(timer);
    pending.clear();
  };
  return request;
}

/** A button that copies getText() to the clipboard. */
function copyButton(getText, label = "Copy") {
  const button = h("button", { class: "apn-copy", type: "button", title: "Copy to clipboard" }, label);
  button.addEventListener("click", async (event) => {
    event.stopPropagation();
    try {
      await navigator.clipboard.writeText(getText());
      button.textContent = "Copied";
    } catch (_err) {
      button.textContent = "Select and copy";
    }
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}

/** CSS class for a status: ok, client error, server error or failure. */
function statusClass(status, ok) {
  if (!status || status >= 500) return "apn-bad";
  if (status >= 400 || !ok) return "apn-warn";
  return "apn-ok";
}

function humanSize(n) {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let size = n;
  for (const unit of units) {
    size /= 1000;
    if (size < 1000) return `${size.toFixed(1)} ${unit}`;
  }
  return `${size.toFixed(1)} PB`;
}

/** A two-column table of [name, value] pairs. */
function pairsTable(pairs, empty = "none") {
  if (!pairs || !pairs.length) return h("div", { class: "apn-muted" }, empty);
  return h(
    "table",
    { class: "apn-table apn-pairs" },
    h("tbody", null, pairs.map(([name, value]) => h("tr", null, h("th", null, name), h("td", null, value)))),
  );
}

/** Show an error inside `box` (a div), or hide it when message is empty. */
function showError(box, err) {
  const message = err ? String(err.message || err) : "";
  box.textContent = message;
  box.hidden = !message;
}
