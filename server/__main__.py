"""`python -m server`: the same as the `grok-mcp` command."""

import sys

from server.cli import main

sys.exit(main())
