// Building the pages' DOM: elements from data, never HTML strings, so no value can become markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

let fieldCount = 0;

// A labelled input with a slot for the API's message about it (aria-describedby ties them together).
export function field(label, { name, type = "text", value = "", autocomplete, required = false } = {}) {
  const id = `field-${name.replace(/\W/g, "-")}-${++fieldCount}`;
  const error = h("p", { class: "field-error", id: `${id}-error`, "data-error-for": name, "aria-live": "polite" });
  const input = h("input", { id, name, type, value: value ?? "", autocomplete, required,
                             "aria-describedby": `${id}-error` });
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input, error);
}

// Puts each message of a BAD_USER_INPUT error beside its field; returns the messages no field took.
export function showErrors(form, errors) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = "";
    form.querySelector(`[name="${slot.dataset.errorFor}"]`)?.removeAttribute("aria-invalid");
  }
  const unplaced = [];
  for (const error of errors) {
    const fields = error.extensions?.fields ?? [];
    if (fields.length === 0) unplaced.push(error.message);
    for (const { field: name, message } of fields) {
      const slot = form.querySelector(`[data-error-for="${cssName(name)}"]`);
      if (slot) {
        slot.textContent = message;
        form.querySelector(`[name="${cssName(name)}"]`)?.setAttribute("aria-invalid", "true");
      } else {
        unplaced.push(`${name}: ${message}`);
      }
    }
  }
  return unplaced;
}

// The API names fields as its input does (address.postalCode) or as Python does (address.postal_code).
function cssName(name) {
  return name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase()).replace(/^input\./, "");
}

export function status(message, kind = "info") {
  return h("p", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status", text: message });
}

export function formatMoney(money, language) {
  return new Intl.NumberFormat(language === "sv" ? "sv-SE" : "en-GB", { style: "currency", currency: money.currency })
    .format(money.minorUnits / 100);
}

export function formatTime(iso, language) {
  return iso ? new Intl.DateTimeFormat(language === "sv" ? "sv-SE" : "en-GB",
                                       { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "";
}
