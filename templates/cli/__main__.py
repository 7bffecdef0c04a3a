"""``python -m <package>.cli``."""

from . import main

raise SystemExit(main())
