"""``python -m reports``: the same command line as ``rnn-gen-checks`` (see ``cli.py``)."""

from .cli import entry

entry()
