"""rasa-sdk actions: thin adapters between a Rasa tracker and the coach in bot/coach.

Each run() reads slots and the latest message, calls one coach function, and
turns its TurnResult into messages and events (common.deliver)."""
