"""`python -m grok_mcp_desktop`: the same as the `grok-mcp-desktop` command."""

import sys

from grok_mcp_desktop.app import main

sys.exit(main())
