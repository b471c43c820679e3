// The cookie banner (P16, P27): one question per consent purpose the shop's cookies serve, as the API
// declares them (`cookieConsent`), answered or changed as easily either way. The tags in `mayLoad` are
// the only ones the storefront may load; `shop:cookie-consent` tells the storefront's own loader.

import { gql } from "./api.js";
import { h, status } from "./dom.js";
import { currentLanguage, t } from "./i18n.js";

const QUERY = `query($l: Language!) { cookieConsent(language: $l) { answered mayLoad
  purposes { purpose description granted tags { key recipientName cookies } } } }`;
const ANSWER = `mutation($p: ConsentPurpose!, $g: Boolean!) {
  setConsent(purpose: $p, granted: $g, source: COOKIE_BANNER) { granted } }`;

function announce(mayLoad) {
  document.documentElement.dataset.mayLoad = mayLoad.join(" ");
  window.dispatchEvent(new CustomEvent("shop:cookie-consent", { detail: { mayLoad } }));
}

export async function showBanner({ always }) {
  const { cookieConsent } = await gql(QUERY, { l: currentLanguage().toUpperCase() });
  announce(cookieConsent.mayLoad ?? []);
  const slot = document.getElementById("banner-slot");
  if (cookieConsent.answered && !always) {
    slot.replaceChildren();
    return;
  }
  const boxes = cookieConsent.purposes.map((purpose) => {
    const id = `cookie-${purpose.purpose}`;
    const tags = purpose.tags.map((tag) => `${tag.recipientName} (${tag.cookies.join(", ")})`).join("; ");
    return h("div", { class: "choice" },
      h("input", { type: "checkbox", id, name: purpose.purpose, checked: Boolean(purpose.granted) }),
      h("label", { for: id, text: purpose.description }),
      h("p", { class: "hint", text: t("tagsFor") + tags }));
  });
  async function save(choose) {
    // One answer after the other: the first gives this browser its visitor cookie, the rest use it.
    for (const purpose of cookieConsent.purposes) {
      const granted = choose(purpose.purpose);
      if (!cookieConsent.answered || granted !== Boolean(purpose.granted)) {
        await gql(ANSWER, { p: purpose.purpose, g: granted });
      }
    }
    const { cookieConsent: now } = await gql(QUERY, { l: currentLanguage().toUpperCase() });
    announce(now.mayLoad ?? []);
    slot.replaceChildren(status(t("bannerSaved")));
    document.getElementById("main").focus();
  }
  const checked = (purpose) => document.getElementById(`cookie-${purpose}`).checked;
  const banner = h("section", { class: "banner", role: "region", "aria-labelledby": "banner-title" },
    h("h2", { id: "banner-title", text: t("bannerTitle") }),
    h("p", { text: t("bannerText") }),
    h("form", { onsubmit: (event) => { event.preventDefault(); save(checked); } },
      ...boxes,
      h("div", { class: "actions" },
        h("button", { type: "button", text: t("bannerRejectAll"), onclick: () => save(() => false) }),
        h("button", { type: "button", text: t("bannerAcceptAll"), onclick: () => save(() => true) }),
        h("button", { type: "submit", text: t("bannerSave") }))));
  slot.replaceChildren(banner);
  if (always) banner.querySelector("input")?.focus();
}
