// The order history, newest first, a page at a time; and one order's details.

import { gql } from "../api.js";
import { formatMoney, formatTime, h } from "../dom.js";
import { currentLanguage, t } from "../i18n.js";
import { link } from "../paths.js";
import { needLogin } from "./forms.js";

const PAGE_SIZE = 5;
const ORDERS = `query($first: Int!, $after: String) { myOrders(first: $first, after: $after) {
  nodes { id number placedAt status total { gross { minorUnits currency } } }
  pageInfo { hasNextPage endCursor } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { number placedAt status paymentMethod
  total { net { minorUnits currency } vat { minorUnits currency } gross { minorUnits currency } }
  lines { productName domainName quantity total { gross { minorUnits currency } } }
  contact { firstName lastName email phone companyName organisationNumber
    address { street postalCode city country } } } }`;

async function orders({ me }) {
  if (!me) return needLogin(link);
  const language = currentLanguage();
  const body = h("tbody", {});
  const more = h("button", { type: "button", text: t("more") });
  let after = null;
  async function load() {
    const { myOrders } = await gql(ORDERS, { first: PAGE_SIZE, after });
    body.append(...myOrders.nodes.map((order) => h("tr", {},
      h("th", { scope: "row" }, h("a", { href: link("order", `?id=${encodeURIComponent(order.id)}`),
                                        text: order.number })),
      h("td", { text: formatTime(order.placedAt, language) }),
      h("td", { text: t(order.status) }),
      h("td", { text: formatMoney(order.total.gross, language) }))));
    after = myOrders.pageInfo.endCursor;
    more.hidden = !myOrders.pageInfo.hasNextPage;
    return myOrders.nodes.length;
  }
  more.addEventListener("click", async () => {
    const first = body.rows.length;
    await load();
    body.rows[first]?.querySelector("a")?.focus();  // keyboard users continue where the new rows start
  });
  const heading = h("h1", { text: t("ordersTitle") });
  if ((await load()) === 0) return [heading, h("p", { text: t("noOrders") })];
  return [heading, h("table", {},
    h("thead", {}, h("tr", {}, ...[t("order"), t("placed"), t("status"), t("total")].map(
      (label) => h("th", { scope: "col", text: label })))), body), more];
}

async function order({ me, params }) {
  if (!me) return needLogin(link);
  const language = currentLanguage();
  const { order: found } = await gql(ORDER, { id: params.get("id") ?? "" });
  const back = h("p", {}, h("a", { href: link("orders"), text: t("backToOrders") }));
  if (!found) return [h("h1", { text: t("ordersTitle") }), back];
  const contact = found.contact;
  const address = [contact.address.street, contact.address.postalCode, contact.address.city, contact.address.country];
  return [h("h1", { text: t("orderTitle", found.number) }),
    h("dl", {},
      h("dt", { text: t("placed") }), h("dd", { text: formatTime(found.placedAt, language) }),
      h("dt", { text: t("status") }), h("dd", { text: t(found.status) }),
      h("dt", { text: t("paymentMethod") }), h("dd", { text: t(found.paymentMethod) })),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("product") }),
                       h("th", { scope: "col", text: t("quantity") }), h("th", { scope: "col", text: t("total") }))),
      h("tbody", {}, found.lines.map((line) => h("tr", {},
        h("th", { scope: "row", text: line.productName + (line.domainName ? ` (${line.domainName})` : "") }),
        h("td", { text: String(line.quantity) }), h("td", { text: formatMoney(line.total.gross, language) })))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: "2", text: t("total") }),
                       h("td", { text: formatMoney(found.total.gross, language) })))),
    h("h2", { text: t("contact") }),
    h("p", { text: [contact.firstName, contact.lastName, contact.companyName, contact.organisationNumber]
      .filter(Boolean).join(", ") }),
    h("p", { text: [contact.email, contact.phone].filter(Boolean).join(", ") }),
    h("p", { text: address.filter(Boolean).join(", ") }),
    back];
}

export const orderPages = { orders, order };
