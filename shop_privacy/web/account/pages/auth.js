// Register (and the confirmation link's page), log in, forgotten password and its link's page.

import { gql } from "../api.js";
import { field, h, status } from "../dom.js";
import { currentLanguage, t } from "../i18n.js";
import { link } from "../paths.js";
import { apiForm } from "./forms.js";

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { customer { id } cartMerged } }`;

function welcome({ me }) {
  return [h("h1", { text: me ? `${t("welcome")}, ${me.firstName ?? ""}` : t("title") }),
          h("p", { text: me ? "" : t("welcomeText") }),
          h("ul", {}, ...(me ? [["orders", t("orders")], ["profile", t("profile")], ["my-data", t("myData")]]
                             : [["login", t("login")], ["register", t("register")], ["shop", t("shop")]])
            .map(([page, label]) => h("li", {}, h("a", { href: link(page), text: label }))))];
}

function register() {
  return [h("h1", { text: t("register") }), ...apiForm({
    labelledBy: "register-form", submit: t("registerSubmit"),
    fields: [field(t("email"), { name: "email", type: "email", autocomplete: "email", required: true }),
             field(t("password"), { name: "password", type: "password", autocomplete: "new-password",
                                    required: true }),
             field(t("firstName"), { name: "firstName", autocomplete: "given-name", required: true }),
             field(t("lastName"), { name: "lastName", autocomplete: "family-name", required: true })],
    onSubmit: async (data) => {
      await gql(`mutation($input: RegisterInput!) { register(input: $input) { accepted } }`, { input: {
        email: data.get("email"), password: data.get("password"), firstName: data.get("firstName"),
        lastName: data.get("lastName"), preferredLanguage: currentLanguage().toUpperCase() } });
      return status(t("registered"), "success");
    },
  })];
}

function verifyEmail({ params }) {
  return [h("h1", { text: t("verifyTitle") }), ...apiForm({
    labelledBy: "verify-form", intro: t("verifyText"), submit: t("verifySubmit"),
    fields: [field(t("password"), { name: "password", type: "password", autocomplete: "current-password",
                                    required: true })],
    onSubmit: async (data) => {
      await gql(`mutation($token: String!, $password: String!) { verifyEmail(token: $token, password: $password) {
        customer { id } } }`, { token: params.get("token") ?? "", password: data.get("password") });
      history.replaceState(null, "", link("verify-email"));  // the used token leaves the address bar
      return [status(t("verified"), "success"), h("p", {}, h("a", { href: link("cart"), text: t("cart") }))];
    },
  })];
}

function login({ params }) {
  return [h("h1", { text: t("login") }), params.get("loggedOut") ? status(t("loggedOut")) : null, ...apiForm({
    labelledBy: "login-form", submit: t("loginSubmit"),
    fields: [field(t("email"), { name: "email", type: "email", autocomplete: "username", required: true }),
             field(t("password"), { name: "password", type: "password", autocomplete: "current-password",
                                    required: true })],
    onSubmit: async (data) => {
      await gql(LOGIN, { input: { email: data.get("email"), password: data.get("password") } });
      location.assign(link(params.get("next") || "orders"));
    },
  }), h("p", {}, h("a", { href: link("forgot-password"), text: t("forgot") }))];
}

function forgotPassword() {
  return [h("h1", { text: t("forgotTitle") }), ...apiForm({
    labelledBy: "forgot-form", submit: t("forgotSubmit"),
    fields: [field(t("email"), { name: "email", type: "email", autocomplete: "email", required: true })],
    onSubmit: async (data) => {
      const { requestPasswordReset } = await gql(`mutation($e: String!) { requestPasswordReset(email: $e) {
        message } }`, { e: data.get("email") });
      return status(requestPasswordReset.message, "success");
    },
  })];
}

function resetPassword({ params }) {
  return [h("h1", { text: t("resetTitle") }), ...apiForm({
    labelledBy: "reset-form", submit: t("resetSubmit"),
    fields: [field(t("newPassword"), { name: "newPassword", type: "password", autocomplete: "new-password",
                                       required: true })],
    onSubmit: async (data) => {
      await gql(`mutation($input: ResetPasswordInput!) { resetPassword(input: $input) }`, { input: {
        token: params.get("token") ?? "", newPassword: data.get("newPassword") } });
      history.replaceState(null, "", link("reset-password"));
      return [status(t("resetDone"), "success"), h("a", { href: link("login"), text: t("login") })];
    },
  })];
}

export const authPages = {
  "": welcome, register, "verify-email": verifyEmail, login, "forgot-password": forgotPassword,
  "reset-password": resetPassword,
};
