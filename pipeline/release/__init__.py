"""A release and what can be done to one: publish, manifest, card, verify, remove, push."""
