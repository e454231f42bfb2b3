"""Use cases, ports and the task registry. Imports only domain/ and the standard library."""
