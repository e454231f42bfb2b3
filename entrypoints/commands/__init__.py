"""One module per command group; each exposes COMMANDS, a list of click commands, picked up by rqledger.entrypoints.cli."""
