// "My data": who is responsible and where to complain (P01, P28), consents with their history and a
// one-click withdrawal (P27), the export after the password again (P22), and erasure showing what is
// kept and why, or what holds it (P24).

import { gql } from "../api.js";
import { field, formatTime, h, status } from "../dom.js";
import { currentLanguage, t } from "../i18n.js";
import { renderNavigation } from "../nav.js";
import { link } from "../paths.js";
import { apiForm, needLogin } from "./forms.js";

const NOTICE = `{ privacyNotice { controller dpoEmail supervisoryAuthority policyVersion } }`;
const CONSENTS = `{ myConsents { purpose granted history { granted recordedAt source } } }`;
const SET = `mutation($p: ConsentPurpose!, $g: Boolean!) { setConsent(purpose: $p, granted: $g) { granted } }`;
const EXPORT = `mutation($password: String) { requestDataExport(password: $password) { downloadUrl } }`;
const ERASE = `mutation($password: String) { requestErasure(password: $password) { status holdReason report } }`;

function notice({ privacyNotice }) {
  return h("section", { "aria-labelledby": "notice-title" },
    h("h2", { id: "notice-title", text: t("responsible") }),
    h("dl", {},
      h("dt", { text: t("controller") }), h("dd", { text: privacyNotice.controller }),
      h("dt", { text: t("dpo") }), h("dd", {}, h("a", { href: `mailto:${privacyNotice.dpoEmail}`,
                                                     text: privacyNotice.dpoEmail })),
      h("dt", { text: t("complain") }), h("dd", { class: "authority", text: privacyNotice.supervisoryAuthority }),
      h("dt", { text: t("policyVersion") }), h("dd", { text: privacyNotice.policyVersion })));
}

function consents(states, language) {
  const list = h("ul", { class: "consents" });
  function render(rows) {
    list.replaceChildren(...rows.map((state) => {
      const button = h("button", { type: "button", "data-purpose": state.purpose,
        text: state.granted ? t("withdraw") : t("give"),
        "aria-label": `${state.granted ? t("withdraw") : t("give")}: ${t(state.purpose)}`,
        onclick: async () => {
          await gql(SET, { p: state.purpose, g: !state.granted });
          render((await gql(CONSENTS)).myConsents);
          list.querySelector(`[data-purpose="${state.purpose}"]`)?.focus();
        } });
      const history = state.history.map((record) => h("li", {
        text: `${formatTime(record.recordedAt, language)}: ${record.granted ? t("given") : t("withdrawn")} ` +
              `(${t(`source_${record.source}`)})` }));
      return h("li", { class: "consent", "data-consent": state.purpose },
        h("h3", { text: t(state.purpose) }),
        h("p", { class: "state", text: state.granted ? t("given") : t("notGiven") }), button,
        history.length ? h("details", {}, h("summary", { text: t("history") }), h("ul", {}, history)) : null);
    }));
  }
  render(states);
  return h("section", { "aria-labelledby": "consents-title" },
    h("h2", { id: "consents-title", text: t("consentsTitle") }), list);
}

function exportForm() {
  return h("section", {}, ...apiForm({
    title: t("exportTitle"), labelledBy: "export-title", intro: t("exportText"), submit: t("exportSubmit"),
    fields: [field(t("password"), { name: "password", type: "password", autocomplete: "current-password",
                                    required: true })],
    onSubmit: async (data, form) => {
      const { requestDataExport } = await gql(EXPORT, { password: data.get("password") });
      form.querySelector("[name=password]").value = "";
      const download = h("a", { href: requestDataExport.downloadUrl, download: "my-data.zip",
                                text: "my-data.zip" });
      document.body.append(download);
      download.click();  // the session cookie goes with it: the link works only for this customer
      download.remove();
      return h("p", {}, t("exportReady"), h("a", { href: requestDataExport.downloadUrl, download: "my-data.zip",
                                                   text: "my-data.zip" }));
    },
  }));
}

function erasureReport(request) {
  if (request.status === "ON_HOLD") return status(t("onHold") + (request.holdReason ?? ""), "error");
  const categories = request.report?.categories ?? [];
  const kept = categories.filter((category) => category.outcome === "retained");
  const removed = categories.filter((category) => category.outcome === "removed");
  const language = currentLanguage();
  // The report names each category and reason in both languages (older reports: by key only).
  const named = (category) => category.label?.[language] ?? category.category;
  const why = (category) => (category.why?.[language] ?? category.reasons).join("; ");
  return [status(t("deleted"), "success"),
    h("h2", { text: t("kept") }),
    h("ul", { class: "kept" }, kept.map((category) => h("li", {
      text: `${named(category)}: ${why(category)}` +
            (category.until ? ` (${t("until", category.until)})` : "") }))),
    h("h2", { text: t("removed") }),
    h("ul", { class: "removed" }, removed.map((category) => h("li", { text: named(category) })))];
}

function eraseForm() {
  return h("section", { class: "danger" }, ...apiForm({
    title: t("deleteTitle"), labelledBy: "delete-title", intro: t("deleteText"), submit: t("deleteSubmit"),
    fields: [field(t("password"), { name: "password", type: "password", autocomplete: "current-password",
                                    required: true })],
    onSubmit: async (data) => {
      const { requestErasure } = await gql(ERASE, { password: data.get("password") });
      if (requestErasure.status === "ON_HOLD") return erasureReport(requestErasure);
      // The erasure ended every session and removed what the page showed: only its report is left.
      renderNavigation(null);
      const main = document.getElementById("main");
      main.replaceChildren(h("h1", { text: t("deleteTitle") }), ...erasureReport(requestErasure));
      main.focus();
      return null;
    },
  }));
}

async function myData({ me }) {
  if (!me) return needLogin(link);
  const [noticeData, consentData] = await Promise.all([gql(NOTICE), gql(CONSENTS)]);
  return [h("h1", { text: t("myDataTitle") }), notice(noticeData),
          consents(consentData.myConsents, currentLanguage()), exportForm(), eraseForm()];
}

export const myDataPages = { "my-data": myData };
