"""``python -m latchjax.cli``: the ``latchjax`` command."""

import sys

from latchjax.cli import main

sys.exit(main())
