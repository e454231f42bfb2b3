"""rqledger inside other apps: runnable examples, each with its README (not part of the installed package)."""
