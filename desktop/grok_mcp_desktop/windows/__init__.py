"""The dashboard window and its pages: overview, usage, conversations, keys, settings and logs."""
