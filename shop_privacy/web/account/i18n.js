// Swedish and English. The customer's own language when logged in (their profile), else the one they
// chose here, else the browser's.

const TEXTS = {
  en: {
    skip: "Skip to content", switchLanguage: "På svenska", shop: "Shop", cart: "Cart", orders: "Orders",
    profile: "Profile", myData: "My data", login: "Log in", logout: "Log out", register: "Register",
    title: "My account", welcome: "Welcome", welcomeText: "Log in or register to see your orders and your data.",
    bannerTitle: "Cookies", bannerText: "Choose which cookies we may use. You can change your mind at any time " +
      "under My data, or here.", bannerSave: "Save my choices", bannerAcceptAll: "Accept all",
    bannerRejectAll: "Only necessary cookies", bannerSaved: "Your choices are saved.", cookieSettings: "Cookies",
    tagsFor: "Loads: ", email: "E-mail", password: "Password", newPassword: "New password",
    currentPassword: "Current password (for a new e-mail address)", firstName: "First name", lastName: "Last name",
    phone: "Phone", companyName: "Company", organisationNumber: "Organisation number", address: "Address", street: "Street",
    postalCode: "Postal code", city: "City", country: "Country (ISO code, e.g. SE)", language: "Language",
    registerSubmit: "Create account", registered: "Check your mail: we sent a link to confirm your address.",
    verifyTitle: "Confirm your e-mail address", verifyText: "Enter the password you chose to finish.",
    verifySubmit: "Confirm", verified: "Your e-mail address is confirmed and you are logged in.",
    loginSubmit: "Log in", loggedOut: "You are logged out.", forgot: "Forgotten password?",
    forgotTitle: "Forgotten password", forgotSubmit: "Send me a link", resetTitle: "Choose a new password",
    resetSubmit: "Save password", resetDone: "Your password is changed. Log in with it.",
    profileTitle: "Your profile", save: "Save", saved: "Saved.", emailPending:
      "Saved. Open the link we sent to the new address to start using it.",
    confirmEmailTitle: "New e-mail address", confirmEmailDone: "Your new e-mail address is in use.",
    stopEmailTitle: "Stop the e-mail change", stopEmailDone: "The change is stopped. Change your password too.",
    linkInvalid: "The link is invalid or too old.", catalogueTitle: "Products", addToCart: "Add to cart",
    domainName: "Domain name", added: "Added to your cart.", cartTitle: "Your cart", cartEmpty: "Your cart is empty.",
    quantity: "Quantity", remove: "Remove", total: "Total", checkout: "Check out", paymentMethod: "Payment method",
    swishNumber: "Swish number", placeOrder: "Place order", ordered: "Thank you! Order {0} is placed.",
    CARD_STRIPE: "Card (Stripe)", CARD_PAYPAL: "PayPal", INVOICE: "Invoice (companies)", SWISH: "Swish",
    ordersTitle: "Your orders", noOrders: "You have no orders yet.", more: "Show older orders", order: "Order",
    placed: "Placed", status: "Status", details: "Details", orderTitle: "Order {0}", product: "Product",
    contact: "Contact", backToOrders: "Back to your orders", myDataTitle: "My data",
    responsible: "Who is responsible", controller: "Controller", dpo: "Questions about your data",
    complain: "Where to complain", policyVersion: "Privacy policy version", consentsTitle: "Your consents",
    given: "Given", notGiven: "Not given", give: "Give consent", withdraw: "Withdraw", history: "History",
    NEWSLETTER: "Newsletter", MARKETING: "Marketing mails and campaigns", PERSONALISATION: "Recommendations",
    ANALYTICS: "Analytics cookies", MARKETING_COOKIES: "Marketing cookies and pixels",
    exportTitle: "Download my data", exportText: "Enter your password again to download everything we hold " +
      "about you.", exportSubmit: "Download my data", exportReady: "Your download has started. The link: ",
    deleteTitle: "Delete my account", deleteText: "What the law makes us keep (bookkeeping) is kept until its " +
      "time is up; everything else is removed. Enter your password to delete your account.",
    deleteSubmit: "Delete my account", deleted: "Your account is deleted. What is kept, and why:",
    removed: "Removed", kept: "Kept", until: "until {0}", onHold: "Your account cannot be deleted yet; it will be, and you will be mailed, once this is settled: ",
    withdrawn: "Withdrawn", source_ACCOUNT_PAGE: "account page", source_CHECKOUT: "checkout",
    source_COOKIE_BANNER: "cookie banner", source_UNSUBSCRIBE_LINK: "unsubscribe link", source_STAFF: "customer service",
    requestsTitle: "Your requests", needLogin: "Log in to see this page.", error: "Something went wrong: ",
    PENDING_PAYMENT: "Awaiting payment", PAYMENT_FAILED: "Payment failed", PAID: "Paid",
    DELIVERED_UNPAID: "Delivered, not paid", FULFILLED: "Delivered and paid", CANCELLED: "Cancelled",
    REFUNDED: "Refunded",
  },
  sv: {
    skip: "Hoppa till innehållet", switchLanguage: "In English", shop: "Butik", cart: "Varukorg", orders: "Beställningar",
    profile: "Profil", myData: "Mina uppgifter", login: "Logga in", logout: "Logga ut", register: "Skapa konto",
    title: "Mitt konto", welcome: "Välkommen", welcomeText: "Logga in eller skapa ett konto för att se dina " +
      "beställningar och dina uppgifter.",
    bannerTitle: "Cookies", bannerText: "Välj vilka cookies vi får använda. Du kan ändra dig när som helst under " +
      "Mina uppgifter, eller här.", bannerSave: "Spara mina val", bannerAcceptAll: "Godkänn alla",
    bannerRejectAll: "Bara nödvändiga cookies", bannerSaved: "Dina val är sparade.", cookieSettings: "Cookies",
    tagsFor: "Laddar: ", email: "E-post", password: "Lösenord", newPassword: "Nytt lösenord",
    currentPassword: "Nuvarande lösenord (för ny e-postadress)", firstName: "Förnamn", lastName: "Efternamn",
    phone: "Telefon", companyName: "Företag", organisationNumber: "Organisationsnummer", address: "Adress", street: "Gatuadress",
    postalCode: "Postnummer", city: "Ort", country: "Land (ISO-kod, t.ex. SE)", language: "Språk",
    registerSubmit: "Skapa konto", registered: "Titta i din e-post: vi har skickat en länk för att bekräfta adressen.",
    verifyTitle: "Bekräfta din e-postadress", verifyText: "Ange lösenordet du valde för att bli klar.",
    verifySubmit: "Bekräfta", verified: "Din e-postadress är bekräftad och du är inloggad.",
    loginSubmit: "Logga in", loggedOut: "Du är utloggad.", forgot: "Glömt lösenordet?",
    forgotTitle: "Glömt lösenord", forgotSubmit: "Skicka en länk", resetTitle: "Välj ett nytt lösenord",
    resetSubmit: "Spara lösenordet", resetDone: "Lösenordet är bytt. Logga in med det.",
    profileTitle: "Din profil", save: "Spara", saved: "Sparat.", emailPending:
      "Sparat. Öppna länken vi skickade till den nya adressen för att börja använda den.",
    confirmEmailTitle: "Ny e-postadress", confirmEmailDone: "Din nya e-postadress används nu.",
    stopEmailTitle: "Stoppa bytet av e-postadress", stopEmailDone: "Bytet är stoppat. Byt även lösenord.",
    linkInvalid: "Länken är ogiltig eller för gammal.", catalogueTitle: "Produkter", addToCart: "Lägg i varukorgen",
    domainName: "Domännamn", added: "Tillagd i varukorgen.", cartTitle: "Din varukorg",
    cartEmpty: "Varukorgen är tom.", quantity: "Antal", remove: "Ta bort", total: "Summa", checkout: "Till kassan",
    paymentMethod: "Betalsätt", swishNumber: "Swish-nummer", placeOrder: "Beställ",
    ordered: "Tack! Beställning {0} är lagd.", CARD_STRIPE: "Kort (Stripe)", CARD_PAYPAL: "PayPal",
    INVOICE: "Faktura (företag)", SWISH: "Swish", ordersTitle: "Dina beställningar",
    noOrders: "Du har inga beställningar än.", more: "Visa äldre beställningar", order: "Beställning",
    placed: "Lagd", status: "Status", details: "Detaljer", orderTitle: "Beställning {0}", product: "Produkt",
    contact: "Kontakt", backToOrders: "Tillbaka till dina beställningar", myDataTitle: "Mina uppgifter",
    responsible: "Vem som ansvarar", controller: "Personuppgiftsansvarig", dpo: "Frågor om dina uppgifter",
    complain: "Här kan du klaga", policyVersion: "Integritetspolicyns version", consentsTitle: "Dina samtycken",
    given: "Lämnat", notGiven: "Inte lämnat", give: "Lämna samtycke", withdraw: "Återkalla", history: "Historik",
    NEWSLETTER: "Nyhetsbrev", MARKETING: "Marknadsföring via e-post och kampanjer", PERSONALISATION: "Rekommendationer",
    ANALYTICS: "Cookies för webbanalys", MARKETING_COOKIES: "Marknadsföringscookies och pixlar",
    exportTitle: "Ladda ner mina uppgifter", exportText: "Ange ditt lösenord igen för att ladda ner allt vi har " +
      "om dig.", exportSubmit: "Ladda ner mina uppgifter", exportReady: "Nedladdningen har börjat. Länken: ",
    deleteTitle: "Radera mitt konto", deleteText: "Det lagen kräver att vi sparar (bokföring) sparas tills tiden " +
      "har gått ut; allt annat tas bort. Ange ditt lösenord för att radera kontot.",
    deleteSubmit: "Radera mitt konto", deleted: "Ditt konto är raderat. Det här sparas, och varför:",
    removed: "Borttaget", kept: "Sparas", until: "till {0}", onHold: "Kontot kan inte raderas än; det raderas, och du får ett mejl, när detta är klart: ",
    withdrawn: "Återkallat", source_ACCOUNT_PAGE: "kontosidan", source_CHECKOUT: "kassan",
    source_COOKIE_BANNER: "cookie-bannern", source_UNSUBSCRIBE_LINK: "avregistreringslänk", source_STAFF: "kundtjänst",
    requestsTitle: "Dina begäranden", needLogin: "Logga in för att se sidan.", error: "Något gick fel: ",
    PENDING_PAYMENT: "Väntar på betalning", PAYMENT_FAILED: "Betalningen misslyckades", PAID: "Betald",
    DELIVERED_UNPAID: "Levererad, ej betald", FULFILLED: "Levererad och betald", CANCELLED: "Avbruten",
    REFUNDED: "Återbetald",
  },
};

let language = localStorage.getItem("language") || (navigator.language?.startsWith("sv") ? "sv" : "en");

export function currentLanguage() {
  return language;
}

export function setLanguage(next) {
  language = next === "sv" ? "sv" : "en";
  localStorage.setItem("language", language);
  document.documentElement.lang = language;
}

export function t(key, ...values) {
  const text = TEXTS[language][key] ?? TEXTS.en[key] ?? key;
  return values.reduce((result, value, index) => result.replace(`{${index}}`, value), text);
}
