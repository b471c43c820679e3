// The navigation: what a visitor may open, or what a logged-in customer may.

import { gql } from "./api.js";
import { showBanner } from "./banner.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { link } from "./paths.js";

export function renderNavigation(me) {
  const entries = [["shop", t("shop")], ["cart", t("cart")]];
  if (me) entries.push(["orders", t("orders")], ["profile", t("profile")], ["my-data", t("myData")]);
  else entries.push(["login", t("login")], ["register", t("register")]);
  const current = location.pathname.split("/").pop();
  const items = entries.map(([page, label]) => h("li", {}, h("a", {
    href: link(page), "aria-current": page === current ? "page" : false, text: label })));
  if (me) {
    items.push(h("li", {}, h("button", { type: "button", class: "link", text: t("logout"), onclick: async () => {
      await gql("mutation { logout }");
      location.assign(link("login", "?loggedOut=1"));
    } })));
  }
  items.push(h("li", {}, h("button", { type: "button", class: "link", text: t("cookieSettings"),
                                       onclick: () => showBanner({ always: true }) })));
  document.getElementById("nav").replaceChildren(h("ul", {}, items));
}
