"""Test helpers that are not tests: tiny local models and a scripted OpenAI-compatible server."""
