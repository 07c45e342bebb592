"""`python -m grok_mcp`: the same as the `grok-mcp` command."""

import sys

from grok_mcp.cli import main

sys.exit(main())
