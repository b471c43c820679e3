"""`python -m shop_privacy.cli`: the same as the `shop-privacy` command."""

import sys

from . import main

sys.exit(main())
