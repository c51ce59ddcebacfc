/**
 * "Invite an expert" on the desk (issue 15): a small form in the chat's panel listing the agents and
 * supervisors who may be invited, those logged in first (the others are shown but cannot be chosen: the
 * contact center would refuse them), with an optional note for the expert.
 */
import { h } from "./dom.js";
import type { ExpertChoice } from "./stanzas.js";

export function expertPicker(choices: ExpertChoice[], invite: (jid: string, note: string) => void, cancel: () => void): HTMLElement {
  const sorted = [...choices].sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
  const select = h("select", { class: "expert-choice", attrs: { "aria-label": "Expert", required: true } },
    ...sorted.map((c) => h("option", { text: `${c.name} (${c.role}${c.online ? "" : ", offline"})`, attrs: { value: c.jid, disabled: !c.online } })));
  const note = h("input", { class: "expert-note", attrs: { type: "text", maxlength: 500, placeholder: "Note for the expert (optional)", "aria-label": "Note for the expert" } });
  const anyone = sorted.some((c) => c.online);
  return h("form", {
    class: "expert-picker", attrs: { "aria-label": "Invite an expert" },
    on: { submit: (e) => { e.preventDefault(); if (select.value) invite(select.value, note.value.trim()); } },
  },
  h("strong", { text: anyone ? "Invite an expert: " : "Nobody else is logged in to invite. " }),
  select, note,
  h("button", { class: "btn btn-primary", text: "Invite", attrs: { type: "submit", disabled: !anyone } }),
  h("button", { class: "btn", text: "Cancel", attrs: { type: "button" }, on: { click: cancel } }));
}
