"""The verification engine: stages that run cheapest first, and the pipeline that strings them together."""
