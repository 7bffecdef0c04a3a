"""The ``fal-models`` command line: one command per endpoint, plus ``status``, ``result`` and
``cancel`` for queued requests. ``--help`` lists them; ``python -m <package>.cli`` runs it too.
"""

from ._app import main

__all__ = ["main"]
