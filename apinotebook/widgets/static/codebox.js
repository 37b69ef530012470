// apinotebook code boxes: a CodeMirror 6 editor behind the few members of a <textarea> the
// widgets use (value, an "input" event), plus problems shown inline and a Format command.
// The editors' ES module (static/editors.js, ~430 kB) is not in any widget's state: the first
// box in a page asks the kernel for it once and imports it; later boxes reuse it.

function loadEditors(request) {
  if (!globalThis.__apnEditors) {
    const loading = request("editors", {}).then(async (reply) => {
      const url = URL.createObjectURL(new Blob([reply.source], { type: "text/javascript" }));
      try {
        return await import(/* webpackIgnore: true */ url);
      } finally {
        URL.revokeObjectURL(url);
      }
    });
    loading.catch(() => { if (globalThis.__apnEditors === loading) globalThis.__apnEditors = null; });
    globalThis.__apnEditors = loading;
  }
  return globalThis.__apnEditors;
}

function codeEditor(request, options) {
  const { className = "" } = options;
  const listeners = [];
  const el = h("div", { class: `apn-codebox-editor ${className}-box` });
  let editor = null;
  let pending = "";
  let pendingProblems = null;
  const ready = loadEditors(request).then((editors) => {
    editor = editors.createEditor(el, { ...options, className: "", doc: pending, contentClass: className,
      onChange: () => listeners.forEach((fn) => fn()) });
    if (pendingProblems) editor.setProblems(pendingProblems);
    return editor;
  });
  ready.catch((err) => el.replaceChildren(h("div", { class: "apn-error" }, `The code editor did not load: ${err.message || err}`)));
  return {
    el,
    ready,
    get value() { return editor ? editor.getValue() : pending; },
    set value(text) { if (editor) editor.setValue(text ?? ""); else pending = text ?? ""; },
    addEventListener(type, fn) { if (type === "input") listeners.push(fn); },
    setProblems(problems) { if (editor) editor.setProblems(problems); else pendingProblems = problems; },
    format: async () => (await ready).format(),
  };
}

// "3:5: Cannot query field ..." (graphql-core's problems, as the kernel sends them) -> position
function problemAt(text) {
  const m = /^(\d+):(\d+)(?:, \d+:\d+)*: ([\s\S]*)$/.exec(text);
  return m ? { line: Number(m[1]), column: Number(m[2]), message: m[3] } : null;
}
