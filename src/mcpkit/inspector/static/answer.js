// Forms that answer the server's own requests by hand: sampling, elicitation (form and URL
// modes) and roots. The backend holds the request until one of them is sent.
import { el, objectFields } from "./form.js";
import { block, tree } from "./render.js";

function buttons(...specs) {
  return el("div", {}, ...specs.map(([label, cls, fn]) => el("button", { type: "button", className: cls, textContent: label, onclick: fn })));
}

function sampling(params, send) {
  const reply = el("textarea", { className: "sampling-reply", rows: 3, placeholder: "the model's answer" });
  const model = el("input", { className: "sampling-model", value: "inspector-human" });
  const messages = (params.messages || []).map((m) => el("div", { className: "result" }, el("strong", { textContent: m.role }),
    ...(Array.isArray(m.content) ? m.content : [m.content]).map((c) => block(c, () => {}))));
  return [
    el("p", { textContent: "The server asks for a completion" + (params.systemPrompt ? ` (system: ${params.systemPrompt})` : "") }),
    ...messages, el("label", {}, "Answer ", reply), el("label", {}, " model ", model),
    buttons(
      ["Send answer", "send", () => send({ result: { role: "assistant", content: { type: "text", text: reply.value }, model: model.value, stopReason: "endTurn" } })],
      ["Reject", "reject", () => send({ error: "the user rejected the sampling request" })],
    ),
  ];
}

function elicitation(params, send) {
  if (params.mode === "url") {
    return [
      el("p", { textContent: params.message }),
      el("a", { href: params.url, target: "_blank", rel: "noopener noreferrer", textContent: params.url }),
      buttons(["I opened it (accept)", "accept", () => send({ result: { action: "accept" } })],
        ["Decline", "decline", () => send({ result: { action: "decline" } })],
        ["Cancel", "cancel", () => send({ result: { action: "cancel" } })]),
    ];
  }
  const form = objectFields(params.requestedSchema || { type: "object" }, "");
  const summary = el("div", { className: "error" });
  const accept = async () => {
    const [content, errors] = await form.read();
    summary.textContent = errors.length ? `Fix ${errors.length} field(s) first` : "";
    if (!errors.length) send({ result: { action: "accept", content } });
  };
  return [
    el("p", { textContent: params.message }), form.node, summary,
    buttons(["Accept", "accept", accept],
      ["Decline", "decline", () => send({ result: { action: "decline" } })],
      ["Cancel", "cancel", () => send({ result: { action: "cancel" } })]),
  ];
}

function roots(params, send) {
  const list = el("textarea", { className: "roots", rows: 3, placeholder: "file:///home/me/project (one per line)" });
  return [
    el("p", { textContent: "The server asks for the roots it may work in" }), list,
    buttons(["Send roots", "send", () => send({ result: { roots: list.value.split("\n").map((s) => s.trim()).filter(Boolean).map((uri) => ({ uri })) } })]),
  ];
}

export function answerForm(event, answer) {
  const box = el("div", { className: "server-request", id: `ask-${event.id}` }, el("h4", { textContent: event.method }));
  const send = async (reply) => {
    try { await answer(reply); } catch (err) { box.append(el("div", { className: "error", textContent: err.message })); }
  };
  const build = { "sampling/createMessage": sampling, "elicitation/create": elicitation, "roots/list": roots }[event.method];
  if (build) box.append(...build(event.params || {}, send));
  else box.append(tree(event.params), el("p", { textContent: "The inspector cannot answer this request." }));
  return box;
}
