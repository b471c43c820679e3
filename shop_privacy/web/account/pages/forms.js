// A form that calls the API: its errors beside their fields (BAD_USER_INPUT), or above the button.

import { ApiError } from "../api.js";
import { h, showErrors, status } from "../dom.js";
import { t } from "../i18n.js";

export function apiForm({ title, intro, fields, submit, onSubmit, labelledBy }) {
  const message = h("div", { class: "form-status", "aria-live": "polite" });
  const button = h("button", { type: "submit", text: submit });
  const form = h("form", { novalidate: true, "aria-labelledby": title ? labelledBy : false }, ...fields, message, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    message.replaceChildren();
    try {
      const done = await onSubmit(new FormData(form), form);
      showErrors(form, []);
      if (done) message.replaceChildren(...[done].flat());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const unplaced = showErrors(form, error.errors);
      if (unplaced.length) message.replaceChildren(status(unplaced.join(" "), "error"));
      form.querySelector("[aria-invalid=true]")?.focus();
    } finally {
      button.disabled = false;
    }
  });
  return [title && h("h2", { id: labelledBy, text: title }), intro && h("p", { text: intro }), form].filter(Boolean);
}

export function needLogin(link) {
  return [h("h1", { text: t("title") }), h("p", {}, t("needLogin") + " ", h("a", { href: link("login"),
                                                                                   text: t("login") }))];
}
