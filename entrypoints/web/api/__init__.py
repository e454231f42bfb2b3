"""The JSON API under /api, one blueprint per resource."""
