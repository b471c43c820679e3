// The page shell: who is logged in, the navigation, the language, the cookie banner, then the page the
// address names (/account/<page>). Every link is a plain link: no client-side routing to get wrong.

import { gql } from "./api.js";
import { showBanner } from "./banner.js";
import { status } from "./dom.js";
import { currentLanguage, setLanguage, t } from "./i18n.js";
import { renderNavigation } from "./nav.js";
import { authPages } from "./pages/auth.js";
import { myDataPages } from "./pages/my-data.js";
import { orderPages } from "./pages/orders.js";
import { profilePages } from "./pages/profile.js";
import { shopPages } from "./pages/shop.js";

const PAGES = { ...authPages, ...shopPages, ...profilePages, ...orderPages, ...myDataPages };

async function viewer() {
  const { me } = await gql("{ me { id email firstName preferredLanguage } }");
  return me;
}

async function switchLanguage(me) {
  const next = currentLanguage() === "sv" ? "en" : "sv";
  setLanguage(next);
  if (me) {  // the customer's language is their profile's: mails follow it too
    await gql("mutation($l: Language!) { updateProfile(input: { preferredLanguage: $l }) { emailChangePending } }",
              { l: next.toUpperCase() });
  }
  location.reload();
}

async function start() {
  const main = document.getElementById("main");
  let me = null;
  try {
    me = await viewer();
  } catch (error) {
    main.replaceChildren(status(t("error") + error.message, "error"));
    return;
  }
  if (me?.preferredLanguage) setLanguage(me.preferredLanguage.toLowerCase());
  else setLanguage(currentLanguage());
  document.querySelector(".skip").textContent = t("skip");
  const languageButton = document.getElementById("language");
  languageButton.textContent = t("switchLanguage");
  languageButton.addEventListener("click", () => switchLanguage(me));
  renderNavigation(me);
  const page = location.pathname.split("/").pop() || "";
  const render = PAGES[page] ?? PAGES[""];
  const context = { me, params: new URLSearchParams(location.search) };
  try {
    main.replaceChildren(...[await render(context)].flat());
  } catch (error) {
    main.replaceChildren(status(t("error") + error.message, "error"));
  }
  document.title = `${main.querySelector("h1")?.textContent ?? t("title")} – ${t("title")}`;
  await showBanner({ always: false });
  document.documentElement.dataset.ready = "true";  // for tests and tools: the page is complete
}

start();
