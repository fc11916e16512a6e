"""spaCy pieces for the Rasa NLU pipeline."""
