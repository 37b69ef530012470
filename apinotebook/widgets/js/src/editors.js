// The code editors of apinotebook's explorers: CodeMirror 6 with GraphQL and JSON.
//
// Built into apinotebook/widgets/static/editors.js (`make widgets-js`) as an ES module; the
// kernel sends it to the page once, on demand (apinotebook/widgets/_editors.py, codebox.js).
// Nothing here knows the schema: completions and problems come from the kernel, which
// holds the schema (the browser gets only what a type or an operation needs).

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, startCompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { json, jsonParseLinter } from "@codemirror/lang-json";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting, syntaxTree } from "@codemirror/language";
import { linter, lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, lineNumbers, placeholder as placeholderExt } from "@codemirror/view";
import { graphqlLanguage } from "cm6-graphql";
import { LanguageSupport } from "@codemirror/language";

// line and column (1-based, as graphql-core reports them) -> a document offset
function offsetOf(doc, line, column) {
  const l = doc.line(Math.max(1, Math.min(line || 1, doc.lines)));
  return Math.min(l.from + Math.max(0, (column || 1) - 1), l.to);
}

// problems from the kernel ({message, line, column} or {message, from, to}) -> diagnostics
function diagnostics(doc, problems) {
  return problems.map((p) => {
    let from = p.from ?? offsetOf(doc, p.line, p.column);
    let to = p.to ?? from;
    if (to <= from) { // underline the word at the position (at least one character)
      const line = doc.lineAt(from);
      const rest = line.text.slice(from - line.from);
      const word = /^[_A-Za-z0-9$]+/.exec(rest);
      to = Math.min(line.to, from + (word ? word[0].length : 1));
      if (to <= from && from > line.from) from -= 1, to = from + 1;
    }
    return { from, to, severity: p.severity || "error", message: p.message, source: p.source || "schema" };
  });
}

// the JSON object keys enclosing `pos`, outermost first (["customer", "address"])
function jsonPath(state, pos) {
  const path = [];
  for (let node = syntaxTree(state).resolveInner(pos, -1); node; node = node.parent) {
    if (node.name === "Property") {
      const name = node.getChild("PropertyName");
      if (name && !(pos >= name.from && pos <= name.to)) {
        path.unshift(JSON.parse(state.sliceDoc(name.from, name.to)));
      }
    }
  }
  return path;
}

// completion of a JSON body's property names from a JSON Schema (the operation's body)
function jsonSchemaCompletion(getSchema) {
  return (context) => {
    const schema = getSchema();
    if (!schema) return null;
    const node = syntaxTree(context.state).resolveInner(context.pos, -1);
    const inName = node.name === "PropertyName" || node.name === "String" && node.parent?.name === "Property"
      && node.parent.firstChild === node;
    const word = context.matchBefore(/"?[\w$-]*/);
    const before = context.state.sliceDoc(Math.max(0, context.pos - 200), word ? word.from : context.pos);
    const quoted = Boolean(word && word.text.startsWith('"'));
    const keyPosition = inName || /[{,]\s*$/.test(before);
    if (!keyPosition && !context.explicit) return null;
    let target = schema;
    for (const key of jsonPath(context.state, context.pos)) {
      target = target?.properties?.[key] ?? (target?.items?.properties?.[key]);
      if (!target) return null;
    }
    if (target?.type === "array" && target.items) target = target.items;
    const props = target?.properties || {};
    const required = new Set(target?.required || []);
    const options = Object.entries(props).map(([name, sub]) => ({
      label: name,
      type: "property",
      detail: (sub && (sub.type || (sub.enum ? "enum" : ""))) + (required.has(name) ? " · required" : ""),
      info: sub?.description || undefined,
      // inside quotes (closed by closeBrackets) only the name; else the whole key
      apply: quoted ? name : `"${name}": `,
      boost: required.has(name) ? 1 : 0,
    }));
    if (!options.length) return null;
    return { from: word ? word.from + (quoted ? 1 : 0) : context.pos, options, validFor: /^[\w$-]*$/ };
  };
}

// completion of GraphQL from the kernel: complete(text, offset) -> {from, options}
function kernelCompletion(complete) {
  return async (context) => {
    const word = context.matchBefore(/[$_A-Za-z][_A-Za-z0-9]*/);
    const trigger = context.matchBefore(/[{(,:$@\s]$/);
    if (!word && !trigger && !context.explicit) return null;
    const reply = await complete(context.state.doc.toString(), context.pos);
    if (!reply || !reply.options || !reply.options.length) return null;
    const from = word ? word.from : context.pos;
    return {
      from,
      options: reply.options.map((o) => ({ label: o.label, type: o.type, detail: o.detail, info: o.info || undefined, boost: o.boost || 0 })),
      validFor: /^[$_A-Za-z][_A-Za-z0-9]*$/,
    };
  };
}

const theme = EditorView.theme({
  "&": { fontSize: "12px", border: "1px solid var(--jp-border-color1, #ccc)", borderRadius: "3px",
         background: "var(--jp-layout-color0, white)" },
  "&.cm-focused": { outline: "1px solid var(--jp-brand-color1, #1976d2)" },
  ".cm-content": { fontFamily: "var(--jp-code-font-family, monospace)", minHeight: "4em" },
  ".cm-scroller": { maxHeight: "22em", overflow: "auto" },
  ".cm-gutters": { background: "var(--jp-layout-color1, #f7f7f7)", border: "none" },
});

// An editor in `parent`.
//   language: "graphql" | "json"
//   onChange(text): after every edit
//   complete(text, offset) -> Promise<{options: [{label, type, detail, info}]}> (GraphQL)
//   bodySchema() -> a JSON Schema whose property names complete a JSON body
//   lint(text) -> Promise<[{message, line, column}]> problems shown inline
//   format(text) -> Promise<string> the formatted text (Shift-Alt-F; GraphQL from the kernel)
//   className / contentClass: classes of the editor's outer element / of its editable content
// Returns {view, getValue, setValue, format, focus, setProblems, destroy}.
export function createEditor(parent, options = {}) {
  const { language = "graphql", doc = "", onChange, complete, bodySchema, lint, format, placeholder = "", className = "", contentClass = "" } = options;
  let quiet = false; // setValue from the kernel: no onChange echo
  const sources = [];
  const extensions = [
    lineNumbers(), history(), bracketMatching(), closeBrackets(), indentOnInput(), highlightActiveLine(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }), lintGutter(), theme,
    EditorView.lineWrapping,
    EditorView.contentAttributes.of({ "aria-label": `${language} editor`, "data-language": language, class: contentClass }),
  ];
  if (placeholder) extensions.push(placeholderExt(placeholder));
  if (language === "json") {
    const parseLinter = jsonParseLinter();
    // an empty box is no mistake: no variables, no body
    extensions.push(json(), linter((view) => (view.state.doc.toString().trim() ? parseLinter(view) : []), { delay: 300 }));
    if (bodySchema) sources.push(jsonSchemaCompletion(bodySchema));
  } else {
    extensions.push(new LanguageSupport(graphqlLanguage));
    if (complete) sources.push(kernelCompletion(complete));
  }
  if (lint) {
    extensions.push(linter(async (view) => diagnostics(view.state.doc, await lint(view.state.doc.toString())), { delay: 300 }));
  }
  if (sources.length) extensions.push(autocompletion({ override: sources, activateOnTyping: true, icons: true }));
  const doFormat = async () => {
    const text = view.state.doc.toString();
    let out = text;
    if (format) out = await format(text);
    else if (language === "json" && text.trim()) out = JSON.stringify(JSON.parse(text), null, 2);
    if (typeof out === "string" && out !== text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: out } });
    }
    return out;
  };
  extensions.push(
    keymap.of([
      { key: "Shift-Alt-f", run: () => { doFormat().catch(() => {}); return true; } },
      { key: "Ctrl-Space", run: startCompletion },
      ...closeBracketsKeymap, ...completionKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab,
    ]),
    EditorView.updateListener.of((update) => {
      if (update.docChanged && !quiet && onChange) onChange(update.state.doc.toString());
    }),
  );
  const view = new EditorView({ state: EditorState.create({ doc, extensions }), parent });
  if (className) view.dom.classList.add(...className.split(" "));
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      if (text === view.state.doc.toString()) return;
      quiet = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        quiet = false;
      }
    },
    format: doFormat,
    focus: () => view.focus(),
    setProblems(problems) {
      view.dispatch(setDiagnostics(view.state, diagnostics(view.state.doc, problems)));
    },
    destroy: () => view.destroy(),
  };
}
