"""index.html of the export: everything in data.json, for a person to read or print, in Swedish or
English. One self-contained file: no scripts, no fonts, no external resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from ..privacy.purposes import PURPOSES
from ..privacy.retention import RETENTION_RULES
from ..privacy.subject_rights import SUBJECT_RIGHTS
from .export_model import LEGAL_BASES, SOURCES, CategorySummary, ExportRow, Section, recipients_of

TEXT = {
    "title": {"en": "Your data at {controller}", "sv": "Dina uppgifter hos {controller}"},
    "generated": {"en": "Made {date}. This is everything the shop holds about you, and why.",
                  "sv": "Skapad {date}. Här är allt butiken har sparat om dig, och varför."},
    "controller": {"en": "Responsible for your data (controller)", "sv": "Personuppgiftsansvarig"},
    "dpo": {"en": "Data protection officer", "sv": "Dataskyddsombud"},
    "complain": {"en": "If you think we handle your data wrongly, you may complain to the supervisory authority:",
                 "sv": "Om du anser att vi behandlar dina uppgifter felaktigt kan du klaga hos tillsynsmyndigheten:"},
    "contents": {"en": "Contents", "sv": "Innehåll"},
    "summary": {"en": "What we keep, why, and for how long", "sv": "Vad vi sparar, varför och hur länge"},
    "category": {"en": "Data", "sv": "Uppgifter"},
    "purposes": {"en": "Used for (legal basis)", "sv": "Används till (rättslig grund)"},
    "source": {"en": "Source", "sv": "Källa"},
    "retention": {"en": "Kept", "sv": "Sparas"},
    "erased_by": {"en": "Erased by", "sv": "Raderas senast"},
    "while_account": {"en": "while your account exists", "sv": "så länge ditt konto finns"},
    "nothing": {"en": "Nothing stored.", "sv": "Inget sparat."},
    "recipients": {"en": "Who received your data", "sv": "Vem som har fått dina uppgifter"},
    "none_listed": {"en": "No disclosures of your data are listed here.",
                    "sv": "Inga utlämnanden av dina uppgifter redovisas här."},
    "no_recipients": {"en": "Your data has not been disclosed to anyone outside the shop.",
                      "sv": "Dina uppgifter har inte lämnats ut till någon utanför butiken."},
    "rights": {"en": "Your rights, and how to use them here", "sv": "Dina rättigheter och hur du använder dem här"},
    "machine_readable": {"en": "The machine-readable copy of everything here is data.json.",
                         "sv": "En maskinläsbar kopia av allt detta finns i data.json."},
    "may_receive": {"en": "May be given to", "sv": "Kan lämnas till"},
    "only_shop": {"en": "only the shop", "sv": "bara butiken"},
    "outside_eu": {"en": "outside the EU/EEA", "sv": "utanför EU/EES"},
    "recipient": {"en": "Recipient", "sv": "Mottagare"},
    "when": {"en": "When", "sv": "När"},
    "reference": {"en": "Reference", "sv": "Referens"},
    "what": {"en": "What went out", "sv": "Vad som lämnades ut"},
    "kind_disclose": {"en": "your data", "sv": "dina uppgifter"},
    "kind_unsubscribe": {"en": "a request to stop sending to you", "sv": "en begäran om att sluta skicka till dig"},
    "kind_erase": {"en": "a request to erase your data", "sv": "en begäran om att radera dina uppgifter"},
    "kind_rectify": {"en": "a correction of your data", "sv": "en rättelse av dina uppgifter"},
    "yes": {"en": "yes", "sv": "ja"},
    "no": {"en": "no", "sv": "nej"},
}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 70rem;
       padding: 0 1rem; color: #111; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; } .contact { background: #f5f5f5; padding: .5rem 1rem; }
@media print { body { margin: 0; max-width: none; } nav { display: none; } h2 { break-after: avoid; }
               tr { break-inside: avoid; } }
"""


def t(key: str, language: str, **values: Any) -> str:
    return escape(TEXT[key][language].format(**values))


def document_start(meta: Mapping[str, Any], sections: Sequence[Section], language: str) -> str:
    controller = meta["controller"]
    dpo = escape(controller["dpoEmail"])
    toc = "".join(f'<li><a href="#{escape(s.name)}">{escape(s.label[language])}</a></li>' for s in sections)
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t('title', language, controller=controller['name'])}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{t('title', language, controller=controller['name'])}</h1>"
        f"<p>{t('generated', language, date=meta['generatedAt'][:10])}</p>"
        f'<div class="contact"><p>{t("controller", language)}: {escape(controller["name"])}<br>'
        f'{t("dpo", language)}: <a href="mailto:{dpo}">{dpo}</a></p>'
        f"<p>{t('complain', language)} {escape(controller['supervisoryAuthority'])}</p></div></header>"
        f'<nav><h2>{t("contents", language)}</h2><ol><li><a href="#summary">{t("summary", language)}</a></li>'
        f'<li><a href="#recipients">{t("recipients", language)}</a></li>'
        f'<li><a href="#rights">{t("rights", language)}</a></li>{toc}</ol></nav>'
    )


def summary(summaries: Sequence[CategorySummary], recipients: Sequence[Mapping[str, Any]], language: str, *,
            withheld: bool = False) -> str:
    """`withheld`: something went out that the customer may not be shown yet (P20)."""
    rows = []
    for item in sorted(summaries, key=lambda s: s.key):
        purposes = "<br>".join(
            escape(f"{getattr(PURPOSES[p], f'description_{language}')} "
                   f"({LEGAL_BASES[str(PURPOSES[p].legal_basis)][language]})")
            for p in sorted(item.purposes) if p in PURPOSES)
        sources = "<br>".join(escape(SOURCES.get(s, {}).get(language, s)) for s in sorted(item.sources))
        kept = "<br>".join(escape(RETENTION_RULES[r].description[language]) for r in sorted(item.retention)
                           if r in RETENTION_RULES)
        until = escape(item.latest_erase_on or "")
        if item.open_ended:
            until = (until + "; " if until else "") + t("while_account", language)
        labels = escape(", ".join(sorted(item.labels[language])))
        rows.append(f"<tr><td>{labels}<br><small>{escape(item.key)}</small></td><td>{purposes}</td>"
                    f"<td>{sources}</td><td>{_may_receive(item, language)}</td><td>{kept}</td><td>{until}</td></tr>")
    return (
        f'<section id="summary"><h2>{t("summary", language)}</h2><table><thead><tr>'
        f'<th>{t("category", language)}</th><th>{t("purposes", language)}</th><th>{t("source", language)}</th>'
        f'<th>{t("may_receive", language)}</th>'
        f'<th>{t("retention", language)}</th><th>{t("erased_by", language)}</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table></section>"
        f'<section id="recipients"><h2>{t("recipients", language)}</h2>{_recipients(recipients, language, withheld)}'
        "</section>"
    )


def _may_receive(item: CategorySummary, language: str) -> str:
    """The declared recipients of a category, each with its country and, for a transfer outside the
    EU/EEA, what makes it lawful (Art. 15(1)(c), 15(2))."""
    declared = recipients_of(item.key, item.purposes)
    if not declared:
        return t("only_shop", language)
    lines = []
    for recipient in declared:
        line = f"{recipient.name} ({recipient.country}"
        line += f", {TEXT['outside_eu'][language]})" if recipient.outside_eu_eea else ")"
        if recipient.transfer:
            line += f": {recipient.transfer}"
        lines.append(escape(line))
    return "<br>".join(lines)


def _recipients(recipients: Sequence[Mapping[str, Any]], language: str, withheld: bool) -> str:
    if not recipients:
        # "Nothing went out" only when nothing did: never untrue about a disclosure kept confidential.
        return f"<p>{t('none_listed' if withheld else 'no_recipients', language)}</p>"
    rows = "".join(
        f"<tr><td>{escape(r['recipient'])}</td><td>{_kind(r['kind'], language)}</td>"
        f"<td>{escape(', '.join(r['categories']))}</td>"
        f"<td>{escape(r['purpose'])} ({escape(LEGAL_BASES.get(r['legalBasis'], {}).get(language, r['legalBasis']))})"
        f"</td><td>{escape(r['disclosedAt'][:16])}</td><td>{escape(r['reference'] or '')}</td></tr>"
        for r in recipients)
    return (f"<table><thead><tr><th>{t('recipient', language)}</th><th>{t('what', language)}</th>"
            f"<th>{t('category', language)}</th>"
            f"<th>{t('purposes', language)}</th><th>{t('when', language)}</th><th>{t('reference', language)}</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def _kind(kind: str, language: str) -> str:
    key = f"kind_{kind}"
    return t(key, language) if key in TEXT else escape(kind)


def section_start(section: Section, language: str) -> str:
    labels = "".join(f"<th>{escape(getattr(c.declaration, f'label_{language}'))}</th>" for c in section.columns)
    return (f'<section id="{escape(section.name)}"><h2>{escape(section.label[language])}</h2>'
            f"<table><thead><tr>{labels}<th>{t('erased_by', language)}</th></tr></thead><tbody>")


def row_writer(section: Section, language: str) -> Callable[[ExportRow], str]:
    """Writes a row of one section as a table row; what is the same for every row is worked out once."""
    names = [c.name for c in section.columns]
    yes, no, while_account = t("yes", language), t("no", language), TEXT["while_account"][language]

    def cell_of(value: Any) -> str:
        if value is None:
            return "<td>—</td>"
        if value.__class__ is str:
            return f"<td>{escape(value)}</td>"
        if value is True or value is False:
            return f"<td>{yes if value else no}</td>"
        if isinstance(value, int):
            return f"<td>{value}</td>"  # nothing to escape in a number
        return f"<td>{escape(str(value))}</td>"

    def write(export_row: ExportRow) -> str:
        values = export_row.values
        cells = "".join([cell_of(values.get(name)) for name in names])
        days = export_row.erase_on.values()
        dates = sorted({d for d in days if d})
        until = ", ".join(dates)
        if None in days:
            until += ("; " if dates else "") + while_account
        return f"<tr>{cells}<td>{escape(until)}</td></tr>"

    return write


def section_end(section: Section, language: str, *, empty: bool) -> str:
    if empty:
        return f"</tbody></table><p>{t('nothing', language)}</p></section>"
    return "</tbody></table></section>"


def rights(meta: Mapping[str, Any], language: str) -> str:
    contacts = {"dpo": meta["controller"]["dpoEmail"], "authority": meta["controller"]["supervisoryAuthority"]}
    items = "".join(
        f"<dt>{escape(right.label[language])} <small>({escape(right.article)})</small></dt>"
        f"<dd>{escape(right.how_in(language, **contacts))}</dd>" for right in SUBJECT_RIGHTS)
    return f'<section id="rights"><h2>{t("rights", language)}</h2><dl>{items}</dl></section>'


def document_end(language: str) -> str:
    return f"<footer><p>{t('machine_readable', language)}</p></footer></body></html>"
