"""rasa-sdk actions: thin adapters between a Rasa tracker and the coach in bot/."""
