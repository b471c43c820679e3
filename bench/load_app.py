"""The app as `bench/load.py` serves it: `uvicorn load_app:app --factory --app-dir bench`.

The same app `shop-privacy serve --no-migrate` builds (`create_app` with `Settings()` read from the
environment), served by uvicorn's own command line so the benchmark can turn the access log off: one
log line per request would cost the server CPU and flood the log the benchmark reads.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from shop_privacy import Settings, create_app


def app() -> Starlette:
    # As `shop-privacy serve` does (cli.main): the app's own log lines, with their level and logger.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return create_app(Settings())
