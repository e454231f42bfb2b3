"""Pure entities and state machines of rqledger. Standard library only."""
