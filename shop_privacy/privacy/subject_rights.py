"""The data subject's rights (GDPR Art. 15–22, 7(3), 77) and how each is used at this shop: the export
lists them all (Art. 15(1)(e)–(f)), so a customer reading it knows what they can ask for and where.

`{dpo}` and `{authority}` are filled in from the settings when the text is shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SubjectRight:
    key: str
    article: str
    label: Mapping[str, str]
    how: Mapping[str, str]

    def how_in(self, language: str, *, dpo: str, authority: str) -> str:
        return self.how[language].format(dpo=dpo, authority=authority)


SUBJECT_RIGHTS: tuple[SubjectRight, ...] = (
    SubjectRight("access", "Art. 15",
                 {"en": "See your data", "sv": "Få ta del av dina uppgifter"},
                 {"en": "Download it from your account (\u201cDownload my data\u201d); this file is that download. "
                        "You can also write to {dpo}.",
                  "sv": "Ladda ner dem från ditt konto (\u201dLadda ner mina uppgifter\u201d); den här filen är den "
                        "nedladdningen. Du kan också skriva till {dpo}."}),
    SubjectRight("rectification", "Art. 16",
                 {"en": "Have wrong data corrected", "sv": "Få felaktiga uppgifter rättade"},
                 {"en": "Correct your details in your account; for anything you cannot change there, write to "
                        "{dpo}. We tell those we disclosed the data to about the correction.",
                  "sv": "Rätta dina uppgifter i ditt konto; det du inte kan ändra där rättar vi om du skriver till "
                        "{dpo}. Vi meddelar dem vi har lämnat ut uppgifterna till om rättelsen."}),
    SubjectRight("erasure", "Art. 17",
                 {"en": "Have your data erased", "sv": "Få dina uppgifter raderade"},
                 {"en": "Delete your account in your account settings, or write to {dpo}. What the law makes us "
                        "keep (bookkeeping) is kept only until the date shown here, then erased.",
                  "sv": "Radera ditt konto under kontoinställningar, eller skriv till {dpo}. Det lagen kräver att "
                        "vi sparar (bokföring) sparas bara till det datum som står här och raderas sedan."}),
    SubjectRight("restriction", "Art. 18",
                 {"en": "Have the use of your data restricted", "sv": "Få behandlingen begränsad"},
                 {"en": "Choose \u201cRestrict the use of my data\u201d in your account, or write to {dpo}. It takes "
                        "effect at once: your data is kept but not used (no marketing, nothing passed on unless "
                        "the law requires it, staff read it only to defend legal claims). We mail you before we "
                        "lift the restriction. This file lists your restrictions and what became of them.",
                  "sv": "Välj \u201dBegränsa behandlingen av mina uppgifter\u201d i ditt konto, eller skriv till "
                        "{dpo}. Det gäller direkt: uppgifterna sparas men används inte (ingen marknadsföring, "
                        "inget lämnas ut om inte lagen kräver det, personalen läser dem bara för att försvara "
                        "rättsliga anspråk). Vi mejlar dig innan begränsningen upphävs. Den här filen visar dina "
                        "begränsningar och hur de hanterades."}),
    SubjectRight("portability", "Art. 20",
                 {"en": "Take your data elsewhere", "sv": "Flytta dina uppgifter (dataportabilitet)"},
                 {"en": "data.json in this download holds your data in a documented, machine-readable format.",
                  "sv": "data.json i den här nedladdningen har dina uppgifter i ett dokumenterat, maskinläsbart "
                        "format."}),
    SubjectRight("objection", "Art. 21",
                 {"en": "Object to the use of your data", "sv": "Invända mot behandlingen"},
                 {"en": "Choose \u201cObject to direct marketing\u201d in your account (or write to {dpo}): "
                        "newsletters, marketing mails, cart reminders and recommendations stop at once and for "
                        "good, and cannot be turned on again until you lift the objection yourself. (Only one "
                        "mail? Use its unsubscribe link.) To object to our fraud prevention, which rests on our "
                        "legitimate interest, give your grounds in your account or write to {dpo}: the DPO "
                        "decides and tells you why.",
                  "sv": "Välj \u201dInvänd mot direktmarknadsföring\u201d i ditt konto (eller skriv till {dpo}): "
                        "nyhetsbrev, marknadsföringsmejl, påminnelser om varukorgar och rekommendationer upphör "
                        "direkt och för gott, och kan inte slås på igen förrän du själv tar tillbaka invändningen. "
                        "(Bara ett visst mejl? Använd dess avregistreringslänk.) För att invända mot vårt arbete "
                        "mot bedrägerier, som grundas på vårt berättigade intresse, ange dina skäl i ditt konto "
                        "eller skriv till {dpo}: dataskyddsombudet beslutar och förklarar varför."}),
    SubjectRight("withdraw_consent", "Art. 7(3)",
                 {"en": "Withdraw a consent", "sv": "Återkalla ett samtycke"},
                 {"en": "In your account, as easily as you gave it, or with the link in the mail; what was done "
                        "before stays lawful.",
                  "sv": "I ditt konto, lika enkelt som du gav det, eller med länken i mejlet; det som gjorts "
                        "innan förblir lagligt."}),
    SubjectRight("complaint", "Art. 77",
                 {"en": "Complain to the supervisory authority", "sv": "Klaga hos tillsynsmyndigheten"},
                 {"en": "{authority}", "sv": "{authority}"}),
)
