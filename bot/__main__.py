"""`python -m bot` is the `auditbot` command."""

import sys

from bot.cli import main

sys.exit(main())
