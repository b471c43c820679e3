"""The shop configuration the docs show (docs/configuration.md): named once, for the web app and every
command, with `--app examples.support_shop:shop` or SHOP_PRIVACY_APP=examples.support_shop:shop."""

from __future__ import annotations

from shop_privacy.shop import Shop

from .support_tickets import SUPPORT_TICKETS

# Settings come from the environment; a real shop adds its payment providers, its recipient adapters
# (e.g. {"helpdesk": ItsHelpdeskAdapter()}) and perhaps a mail backend here.
shop = Shop(plugins=[SUPPORT_TICKETS])
