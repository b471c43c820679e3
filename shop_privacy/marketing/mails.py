"""Every marketing or newsletter mail carries its unsubscribe link, in the text and as RFC 8058 headers."""

from __future__ import annotations

import uuid

from ..consents.unsubscribe import UnsubscribeLinks
from ..mail.mailer import Mail

_FOOTER = {
    "sv": "\n--\nVill du inte få fler sådana mejl? Avsluta här: {url}\n",
    "en": "\n--\nDon't want mails like this? Unsubscribe here: {url}\n",
}


def marketing_mail(links: UnsubscribeLinks, *, to: str, customer_id: uuid.UUID, purpose: str, language: str,
                   subject: str, text: str, kind: str = "marketing") -> Mail:
    url = links.url(customer_id, purpose)
    return Mail(to=to, subject=subject, text=text + _FOOTER.get(language, _FOOTER["en"]).format(url=url), kind=kind,
                headers={"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
