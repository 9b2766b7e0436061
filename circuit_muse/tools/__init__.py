"""External tools: finding them, and running them in a sandbox."""
