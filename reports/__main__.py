"""``python -m reports``: the same command line as ``rnn-gen-checks`` (see ``_cli.py``)."""

from ._cli import entry

entry()
