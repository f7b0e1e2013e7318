"""Allow ``python -m macwasm``."""

from macwasm.cli.main import main

raise SystemExit(main())
