// The profile: every field can be read and corrected (P23), the API's messages beside the fields; a new
// e-mail address is used once the link sent to it is opened (and can be stopped from the old one).

import { gql } from "../api.js";
import { field, h, status } from "../dom.js";
import { t } from "../i18n.js";
import { link } from "../paths.js";
import { apiForm, needLogin } from "./forms.js";

const ME = `{ me { email firstName lastName phone companyName organisationNumber
  address { street postalCode city country } } }`;
const UPDATE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { emailChangePending } }`;
const FIELDS = [["firstName", "given-name"], ["lastName", "family-name"], ["phone", "tel"],
                ["companyName", "organization"], ["organisationNumber", "off"]];
const ADDRESS = [["street", "street-address"], ["postalCode", "postal-code"], ["city", "address-level2"],
                 ["country", "country"]];

// Only what changed is sent: an untouched empty field is not a request to clear it.
function changes(data, me) {
  const input = {};
  for (const [name] of FIELDS) {
    if ((data.get(name) ?? "") !== (me[name] ?? "")) input[name] = data.get(name);
  }
  const address = {};
  for (const [name] of ADDRESS) {
    if ((data.get(`address.${name}`) ?? "") !== (me.address[name] ?? "")) address[name] = data.get(`address.${name}`);
  }
  if (Object.keys(address).length) input.address = address;
  if (data.get("email") !== me.email) {
    input.email = data.get("email");
    input.currentPassword = data.get("currentPassword");
  }
  return input;
}

async function profile({ me: viewer }) {
  if (!viewer) return needLogin(link);
  let { me } = await gql(ME);
  const fields = [
    field(t("email"), { name: "email", type: "email", value: me.email, autocomplete: "email" }),
    field(t("currentPassword"), { name: "currentPassword", type: "password", autocomplete: "current-password" }),
    ...FIELDS.map(([name, autocomplete]) => field(t(name), { name, value: me[name], autocomplete,
                                                             type: name === "phone" ? "tel" : "text" })),
    h("fieldset", {}, h("legend", { text: t("address") }),
      ...ADDRESS.map(([name, autocomplete]) => field(t(name), { name: `address.${name}`, value: me.address[name],
                                                                 autocomplete }))),
  ];
  return [h("h1", { text: t("profileTitle") }), ...apiForm({
    submit: t("save"), fields,
    onSubmit: async (data, form) => {
      const input = changes(data, me);
      if (Object.keys(input).length === 0) return status(t("saved"), "success");
      const { updateProfile } = await gql(UPDATE, { input });
      ({ me } = await gql(ME));
      form.querySelector("[name=currentPassword]").value = "";
      if (updateProfile.emailChangePending) form.querySelector("[name=email]").value = me.email;
      return status(updateProfile.emailChangePending ? t("emailPending") : t("saved"), "success");
    },
  })];
}

function tokenPage(titleKey, doneKey, mutation) {
  return async ({ params }) => {
    const heading = h("h1", { text: t(titleKey) });
    try {
      const data = await gql(mutation, { token: params.get("token") ?? "" });
      history.replaceState(null, "", location.pathname);
      return [heading, status(Object.values(data)[0] ? t(doneKey) : t("linkInvalid"),
                              Object.values(data)[0] ? "success" : "error")];
    } catch (error) {
      return [heading, status(t("linkInvalid") + " " + error.message, "error")];
    }
  };
}

export const profilePages = {
  profile,
  "confirm-email": tokenPage("confirmEmailTitle", "confirmEmailDone",
                             "mutation($token: String!) { confirmEmailChange(token: $token) }"),
  "stop-email-change": tokenPage("stopEmailTitle", "stopEmailDone",
                                 "mutation($token: String!) { stopEmailChange(token: $token) }"),
};
