"""`python -m desktop`: the same as the `grok-mcp-desktop` command."""

import sys

from desktop.app import main

sys.exit(main())
