// A tiny catalogue, the cart (kept for a visitor by its cookie, and into the account at login) and the
// checkout with each payment method the shop offers (the development sandbox records a reference).

import { ApiError, gql } from "../api.js";
import { field, h, formatMoney, status } from "../dom.js";
import { currentLanguage, t } from "../i18n.js";
import { link } from "../paths.js";
import { apiForm } from "./forms.js";

const PRODUCTS = `{ products(first: 50) { nodes { id sku kind name description unitPrice { gross { minorUnits currency } } } } }`;
const CART = `{ cart { id itemCount total { gross { minorUnits currency } }
  lines { id quantity domainName product { name } total { gross { minorUnits currency } } } } }`;
const PAYMENT_METHODS = ["CARD_STRIPE", "CARD_PAYPAL", "INVOICE", "SWISH"];

async function catalogue() {
  const { products } = await gql(PRODUCTS);
  const language = currentLanguage();
  const message = h("div", { "aria-live": "polite" });
  const items = products.nodes.map((product) => {
    const fields = product.kind === "DOMAIN"
      ? [field(t("domainName"), { name: "domainName", required: true })] : [];
    const form = h("form", { "aria-label": product.name }, ...fields,
                   h("button", { type: "submit", text: t("addToCart") }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      try {
        await gql(`mutation($input: AddToCartInput!) { addToCart(input: $input) { itemCount } }`, { input: {
          productId: product.id, quantity: 1, domainName: data.get("domainName") || null } });
        message.replaceChildren(status(t("added"), "success"), h("a", { href: link("cart"), text: t("cart") }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        message.replaceChildren(status(error.message, "error"));
      }
    });
    return h("li", { class: "product", "data-sku": product.sku },
      h("h2", { text: product.name }), h("p", { text: product.description }),
      h("p", { class: "price", text: formatMoney(product.unitPrice.gross, language) }), form);
  });
  return [h("h1", { text: t("catalogueTitle") }), message, h("ul", { class: "products" }, items)];
}

// Letters only: the API refuses long runs of digits in any input (they could be a card number).
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (byte) => "abcdefghijklmnopqrstuvwxyz"[byte % 26])
    .join("");
}

function checkoutForm() {
  const choices = PAYMENT_METHODS.map((method, index) => h("div", { class: "choice" },
    h("input", { type: "radio", name: "paymentMethod", id: `pay-${method}`, value: method, checked: index === 0 }),
    h("label", { for: `pay-${method}`, text: t(method) })));
  const idempotencyKey = randomKey();  // one order however often the button is pressed
  return apiForm({
    title: t("checkout"), labelledBy: "checkout-title", submit: t("placeOrder"),
    fields: [h("fieldset", {}, h("legend", { text: t("paymentMethod") }), ...choices),
             field(t("organisationNumber"), { name: "organisationNumber", autocomplete: "off" }),
             field(t("swishNumber"), { name: "swishNumber", type: "tel", autocomplete: "tel" })],
    onSubmit: async (data) => {
      const method = data.get("paymentMethod");
      const { checkout } = await gql(`mutation($input: CheckoutInput!) { checkout(input: $input) { id number } }`,
        { input: { paymentMethod: method, idempotencyKey,
                   organisationNumber: method === "INVOICE" ? data.get("organisationNumber") || null : null,
                   swishNumber: method === "SWISH" ? data.get("swishNumber") || null : null } });
      return [status(t("ordered", checkout.number), "success"),
              h("a", { href: link("order", `?id=${encodeURIComponent(checkout.id)}`), text: t("details") })];
    },
  });
}

async function cart({ me }) {
  const { cart: current } = await gql(CART);
  const language = currentLanguage();
  const heading = h("h1", { text: t("cartTitle") });
  if (!current || current.lines.length === 0) {
    return [heading, h("p", { text: t("cartEmpty") }), h("a", { href: link("shop"), text: t("shop") })];
  }
  const rows = current.lines.map((line) => {
    const quantity = h("input", { type: "number", min: "1", max: "100", value: line.quantity, name: "quantity",
                                  id: `quantity-${line.id}`, class: "quantity" });
    quantity.addEventListener("change", async () => {
      await gql(`mutation($input: UpdateCartLineInput!) { updateCartLine(input: $input) { id } }`,
                { input: { lineId: line.id, quantity: Number(quantity.value) } });
      location.reload();
    });
    const name = line.product?.name + (line.domainName ? ` (${line.domainName})` : "");
    return h("tr", {},
      h("th", { scope: "row", text: name }),
      h("td", {}, h("label", { for: quantity.id, class: "visually-hidden", text: `${t("quantity")}: ${name}` }),
        quantity),
      h("td", { text: formatMoney(line.total.gross, language) }),
      h("td", {}, h("button", { type: "button", text: t("remove"), "aria-label": `${t("remove")}: ${name}`,
                                onclick: async () => {
                                  await gql(`mutation($id: ID!) { removeCartLine(lineId: $id) { id } }`,
                                            { id: line.id });
                                  location.reload();
                                } })));
  });
  const table = h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("product") }),
                     h("th", { scope: "col", text: t("quantity") }), h("th", { scope: "col", text: t("total") }),
                     h("td", {}))),
    h("tbody", {}, rows),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: "2", text: t("total") }),
                     h("td", { class: "cart-total", text: formatMoney(current.total.gross, language) }), h("td", {}))));
  const checkout = me ? checkoutForm()
    : [h("p", {}, h("a", { href: link("login", "?next=cart"), text: t("login") }), " · ",
         h("a", { href: link("register"), text: t("register") }))];
  return [heading, table, ...checkout];
}

export const shopPages = { shop: catalogue, cart };
