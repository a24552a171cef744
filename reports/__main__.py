"""``python -m reports``: the same command line as ``rnn-gen-checks`` (see ``_cli.py``)."""

import sys

from ._cli import main

sys.exit(main())
