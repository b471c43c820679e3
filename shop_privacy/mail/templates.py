"""The texts of the account mails, in Swedish and English."""

from __future__ import annotations

from .mailer import Mail

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "verify_email": {
        "sv": ("Bekräfta din e-postadress",
               "Hej!\n\nBekräfta din e-postadress för att skapa ditt konto:\n{link}\n\n"
               "Länken gäller i 24 timmar. Har du inte registrerat dig kan du bortse från det här mejlet.\n"),
        "en": ("Confirm your e-mail address",
               "Hello,\n\nConfirm your e-mail address to create your account:\n{link}\n\n"
               "The link is valid for 24 hours. If you did not register, ignore this mail.\n"),
    },
    "account_exists": {
        "sv": ("Du har redan ett konto",
               "Hej!\n\nNågon försökte registrera ett nytt konto med den här adressen, men du har redan ett.\n"
               "Har du glömt lösenordet kan du välja ett nytt här:\n{link}\n"),
        "en": ("You already have an account",
               "Hello,\n\nSomeone tried to register a new account with this address, but you already have one.\n"
               "If you forgot your password, choose a new one here:\n{link}\n"),
    },
    "password_reset": {
        "sv": ("Välj ett nytt lösenord",
               "Hej!\n\nVälj ett nytt lösenord här:\n{link}\n\nLänken gäller i en timme och kan användas en gång.\n"
               "Har du inte bett om det kan du bortse från det här mejlet.\n"),
        "en": ("Choose a new password",
               "Hello,\n\nChoose a new password here:\n{link}\n\nThe link is valid for one hour and works once.\n"
               "If you did not ask for this, ignore this mail.\n"),
    },
    "password_changed": {
        "sv": ("Ditt lösenord har ändrats",
               "Hej!\n\nLösenordet till ditt konto har ändrats och alla andra inloggningar har loggats ut.\n"
               "Var det inte du? Kontakta kundtjänst direkt.\n"),
        "en": ("Your password was changed",
               "Hello,\n\nThe password of your account was changed and every other login was signed out.\n"
               "Wasn't it you? Contact customer service at once.\n"),
    },
    "confirm_email_change": {
        "sv": ("Bekräfta din nya e-postadress",
               "Hej!\n\nBekräfta att ditt konto ska använda den här adressen:\n{link}\n"),
        "en": ("Confirm your new e-mail address",
               "Hello,\n\nConfirm that your account should use this address:\n{link}\n"),
    },
    "email_change_requested": {
        "sv": ("Någon vill byta e-postadress på ditt konto",
               "Hej!\n\nNågon har bett om att ditt konto ska använda en annan e-postadress. Bytet görs först när "
               "länken som skickats till den nya adressen öppnas.\n\nVar det inte du? Stoppa bytet här och byt "
               "lösenord:\n{link}\n"),
        "en": ("Someone asked to change your account's e-mail address",
               "Hello,\n\nSomeone asked for your account to use another e-mail address. The change is made only "
               "when the link sent to the new address is opened.\n\nWasn't it you? Stop the change here and "
               "change your password:\n{link}\n"),
    },
    "data_export": {
        "sv": ("Dina uppgifter finns att hämta",
               "Hej!\n\nDina uppgifter finns att hämta när du är inloggad:\n{link}\n\nLänken gäller i sju dagar.\n"),
        "en": ("Your data is ready to download",
               "Hello,\n\nYour data is ready to download while you are logged in:\n{link}\n\n"
               "The link is valid for seven days.\n"),
    },
    "erasure_done": {
        "sv": ("Dina uppgifter har raderats",
               "Hej!\n\nDitt konto och dina uppgifter har raderats. Det bokföringslagen kräver att vi sparar finns "
               "kvar tills tiden har gått ut; sedan raderas även det.\n"),
        "en": ("Your data has been erased",
               "Hello,\n\nYour account and your data have been erased. What the Bookkeeping Act makes us keep stays "
               "until its time is up; then it is erased too.\n"),
    },
    "inactivity_warning": {
        "sv": ("Ditt konto kommer att raderas",
               "Hej!\n\nDu har inte använt ditt konto på länge. Om du inte loggar in inom {days} dagar raderas "
               "kontot och dina uppgifter (utom det bokföringslagen kräver att vi sparar).\n"),
        "en": ("Your account will be erased",
               "Hello,\n\nYou have not used your account for a long time. Unless you log in within {days} days, "
               "the account and your data will be erased (except what the Bookkeeping Act makes us keep).\n"),
    },
    "email_changed": {
        "sv": ("Din e-postadress har ändrats",
               "Hej!\n\nDitt konto använder nu en annan e-postadress. Var det inte du? Kontakta kundtjänst.\n"),
        "en": ("Your e-mail address was changed",
               "Hello,\n\nYour account now uses another e-mail address. Wasn't it you? Contact customer service.\n"),
    },
    "restriction_lifted": {
        "sv": ("Begränsningen av behandlingen upphör",
               "Hej!\n\nDu bad oss begränsa behandlingen av dina uppgifter. Begränsningen upphävs nu, så vi "
               "använder uppgifterna igen för de ändamål som står i vår integritetspolicy.\n\nSkäl: {reason}\n\n"
               "Har du frågor, eller vill du invända, svara på det här mejlet.\n"),
        "en": ("The restriction of your data is being lifted",
               "Hello,\n\nYou asked us to restrict the processing of your data. The restriction is now lifted, "
               "so we use the data again for the purposes in our privacy policy.\n\nReason: {reason}\n\n"
               "If you have questions, or want to object, reply to this mail.\n"),
    },
    "objection_refused": {
        "sv": ("Svar på din invändning",
               "Hej!\n\nDu invände mot att vi behandlar dina uppgifter för: {purpose}. Vi fortsätter med "
               "behandlingen, av det här skälet:\n\n{reason}\n\nDu kan klaga hos {authority}.\n"),
        "en": ("Our answer to your objection",
               "Hello,\n\nYou objected to our processing of your data for: {purpose}. We go on with it, for "
               "this reason:\n\n{reason}\n\nYou can complain to {authority}.\n"),
    },
    "request_extended": {
        "sv": ("Vi behöver mer tid för din begäran",
               "Hej!\n\nVi har tagit emot din begäran ({request_kind}) men behöver mer tid för att besvara den. "
               "Den besvaras senast {due}.\n\nSkäl: {reason}\n\nDu har rätt att klaga hos "
               "tillsynsmyndigheten: {authority}.\n"),
        "en": ("We need more time for your request",
               "Hello,\n\nWe have received your request ({request_kind}) but need more time to answer it. "
               "It will be answered by {due}.\n\nReason: {reason}\n\nYou have the right to complain to "
               "the supervisory authority: {authority}.\n"),
    },
    "identity_challenge": {
        "sv": ("Bekräfta att det är du som har skickat begäran",
               "Hej!\n\nVi har fått en begäran ({request_kind}) om ditt konto via e-post. Bekräfta att den kommer "
               "från dig genom att öppna länken:\n{link}\n\nLänken gäller i {days} dagar och kan användas en gång. "
               "Har du inte skickat någon begäran kan du bortse från det här mejlet; då görs ingenting.\n"),
        "en": ("Confirm that the request came from you",
               "Hello,\n\nWe received a request ({request_kind}) about your account by e-mail. Confirm that it "
               "came from you by opening this link:\n{link}\n\nThe link is valid for {days} days and works once. "
               "If you sent no request, ignore this mail; then nothing is done.\n"),
    },
    "request_reminders": {
        "sv": ("Begäranden från registrerade som snart ska vara klara",
               "Hej!\n\nDe här begärandena ska besvaras inom en månad från mottagandet (GDPR art. 12.3):\n\n"
               "{lines}\n\nshop-privacy rights overdue visar dem; förläng vid behov inom den första månaden.\n"),
        "en": ("Data-subject requests due soon",
               "Hello,\n\nThese requests must be answered within a month of receipt (GDPR Art. 12(3)):\n\n"
               "{lines}\n\nshop-privacy rights overdue lists them; extend within the first month if needed.\n"),
    },
}

# What each kind of request is called in the mails about it.
REQUEST_KINDS: dict[str, dict[str, str]] = {
    "sv": {"export": "registerutdrag", "erasure": "radering", "rectification": "rättelse",
           "restriction": "begränsning av behandlingen", "objection": "invändning"},
    "en": {"export": "a copy of your data", "erasure": "erasure", "rectification": "rectification",
           "restriction": "restriction of processing", "objection": "objection"},
}


def request_kind(kind: str, language: str) -> str:
    return REQUEST_KINDS.get(language, REQUEST_KINDS["en"]).get(kind, kind)


def compose(kind: str, *, to: str, language: str, link: str = "", to_name: str | None = None,
            **values: object) -> Mail:
    """`to_name`, when given, goes into the To header (encoded as RFC 2047 requires)."""
    texts = _TEXTS[kind]
    subject, body = texts.get(language, texts["en"])
    return Mail(to=to, subject=subject, text=body.format(link=link, **values), kind=kind, to_name=to_name)
